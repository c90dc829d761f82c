/**
 * The local stack with each queue-fed function on a thread of its own: the same verdicts as in process, and each
 * invocation's wall-clock and CPU time reported per function.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InvocationTiming } from "../../local/function-thread.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { EICAR } from "../fixtures/malicious.ts";
import { clientsFor } from "../support/local.ts";

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;
const invocations: { functionName: string; timing: InvocationTiming & { ok: boolean } }[] = [];

beforeAll(async () => {
  stack = await startLocalStack({
    sweepIntervalMs: 3_600_000,
    functionThreads: true,
    onInvocation: (functionName, timing) => invocations.push({ functionName, timing }),
  });
  io = clientsFor(stack);
});
afterAll(() => stack?.stop());

describe("Local stack: functions on their own threads", () => {
  it("verifies a clean file and holds an infected one, as in process", async () => {
    const clean = await io.waitFinal(
      await io.drop("drops/threads/report.txt", "quarterly report\n", "text/plain"),
    );
    expect(clean.status, clean.reasons.join("; ")).toBe("VERIFIED");
    const infected = await io.waitFinal(await io.drop("drops/threads/eicar.txt", EICAR, "text/plain"));
    expect(infected.status).toBe("INFECTED");
  });

  it("reports every stage function's invocations with their wall-clock and CPU time", async () => {
    await stack.idle();
    const names = new Set(invocations.map((i) => i.functionName));
    expect([...names].sort()).toEqual(["airlock-metadata", "airlock-scan", "airlock-validate"]);
    for (const { timing } of invocations) {
      expect(timing.ok).toBe(true);
      expect(timing.wallMs).toBeGreaterThan(0);
      expect(timing.cpuMs).toBeGreaterThan(0);
    }
  });

  it("refuses options that act on handlers in the stack's own thread", async () => {
    await expect(
      startLocalStack({ functionThreads: true, crash: () => false, ports: { s3: 1, dynamodb: 1, sqs: 1 } }),
    ).rejects.toThrow("functionThreads cannot be combined");
  });
});
