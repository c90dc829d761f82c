import { PublishCommand } from "@aws-sdk/client-sns";
import { afterEach, describe, expect, it } from "vitest";
import { type ClientMiddleware, createClients } from "../../../core/runtime/clients.ts";
import { FaultInjector, parseFaults, SimulatedCrashError } from "../../../core/runtime/faults.ts";

/**
 * An SNS client of the composition root whose requests are answered before they leave the process (a middleware
 * of its own at `finalizeRequest`, inside the faults), counting the requests that would have gone out.
 */
function client() {
  const sent: string[] = [];
  const answer: ClientMiddleware = {
    name: "answer",
    step: "finalizeRequest",
    middleware: () => async () => {
      sent.push("Publish");
      return { output: { $metadata: {}, MessageId: `m${sent.length}` }, response: {} };
    },
  };
  const { sns } = createClients(
    {
      region: "eu-west-1",
      credentials: { accessKeyId: "k", secretAccessKey: "s" },
      maxAttempts: 1,
      middleware: [answer],
    },
    {},
  );
  return { sns, sent };
}
const publish = new PublishCommand({ TopicArn: "arn:aws:sns:eu-west-1:000000000000:t", Message: "x" });

let uninstall: (() => void) | undefined;
afterEach(() => uninstall?.());

describe("Function: parseFaults", () => {
  it("reads the settings and refuses what it cannot read", () => {
    expect(parseFaults(undefined)).toBeUndefined();
    expect(parseFaults("")).toBeUndefined();
    expect(parseFaults("aws=0.05,crash=0.02,seed=42")).toEqual({ aws: 0.05, crash: 0.02, seed: 42 });
    expect(() => parseFaults("aws=5")).toThrow(/probability/);
    expect(() => parseFaults("aws")).toThrow(/name=number/);
    expect(() => parseFaults("disk=0.1")).toThrow(/unknown setting/);
    expect(() => parseFaults("aws=0.7,crash=0.5")).toThrow(/exceed 1/);
  });
});

describe("Class: FaultInjector", () => {
  it("leaves calls made outside a handler invocation alone", async () => {
    const faults = new FaultInjector({ aws: 1, crash: 0, seed: 1 });
    uninstall = faults.install();
    const { sns, sent } = client();
    expect((await sns.send(publish)).MessageId).toBe("m1");
    expect(sent).toHaveLength(1);
    expect(faults.stats.calls).toBe(0);
  });

  it("fails calls inside an invocation with AWS-shaped errors", async () => {
    const faults = new FaultInjector({ aws: 1, crash: 0, seed: 7 });
    uninstall = faults.install();
    const { sns } = client();
    const names = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const error = await faults.invoke("h", () => sns.send(publish)).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      names.add((error as Error).name);
    }
    expect([...names].sort()).toEqual(["InternalError", "ThrottlingException", "TimeoutError"]);
    const { throttles, errors, timeouts } = faults.stats;
    expect(throttles + errors + timeouts).toBe(30);
  });

  it("kills the whole invocation on a crash, even when the handler catches it", async () => {
    const faults = new FaultInjector({ aws: 0, crash: 1, seed: 3 });
    uninstall = faults.install();
    const { sns } = client();
    let later: unknown;
    const run = faults.invoke("h", async () => {
      await sns.send(publish).catch(() => undefined); // a handler reporting one record's failure
      later = await sns.send(publish).catch((e: unknown) => e); // a dead process makes no more calls
      return "answered";
    });
    await expect(run).rejects.toBeInstanceOf(SimulatedCrashError);
    expect(later).toBeInstanceOf(SimulatedCrashError);
    expect(faults.stats.crashes).toBe(1);
  });

  it("injects the same faults for the same seed and call sequence", async () => {
    const outcomes = async (seed: number) => {
      const faults = new FaultInjector({ aws: 0.3, crash: 0.1, seed });
      const undo = faults.install();
      const { sns } = client();
      const seen: string[] = [];
      for (let i = 0; i < 40; i++)
        seen.push(
          await faults
            .invoke("h", () => sns.send(publish))
            .then(
              () => "ok",
              (e: Error) => e.name,
            ),
        );
      undo();
      return seen;
    };
    const first = await outcomes(42);
    expect(await outcomes(42)).toEqual(first);
    expect(first.filter((o) => o !== "ok").length).toBeGreaterThan(5);
    expect(await outcomes(43)).not.toEqual(first);
  });
});
