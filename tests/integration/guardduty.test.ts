/**
 * GuardDuty as the second half of every scan, through the local stack: the scan stage waits for GuardDuty's
 * result, which the GuardDuty handler (the same module as in Lambda) records from the documented event shape.
 * GuardDuty itself is not emulated: the tests post its events as EventBridge would deliver them through SQS.
 */
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { guardDutyEvent } from "../fixtures/guardduty.ts";
import { clientsFor } from "../support/local.ts";

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;
let handle: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

beforeAll(async () => {
  stack = await startLocalStack({ sweepIntervalMs: 3_600_000, guardDuty: true });
  io = clientsFor(stack);
  // Imported once the stack has set the environment, as a Lambda cold start reads it.
  handle = (await import("../../handlers/guardduty.ts")).lambdaHandler;
});
afterAll(() => stack?.stop());

async function deliver(...bodies: string[]): Promise<string[]> {
  const out = await handle(
    { Records: bodies.map((body, i) => ({ messageId: `m${i}`, body }) as SQSEvent["Records"][number]) },
    {} as Context,
  );
  return out.batchItemFailures.map((f) => f.itemIdentifier);
}

async function dropAndWaitForScanHalf(key: string, body: string) {
  const fileId = await io.drop(key, body, "text/plain");
  const deadline = Date.now() + 20_000;
  for (;;) {
    const record = await io.records.get(fileId);
    if (record?.stages.validate && record.stages.metadata && record.version.eTag) {
      await stack.idle(20_000);
      return { fileId, record: (await io.records.get(fileId)) ?? record };
    }
    if (Date.now() > deadline) throw new Error(`${fileId} never got its first stages`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const resultFor = (
  record: { version: { bucket: string; key: string; eTag?: string } },
  result: Parameters<typeof guardDutyEvent>[0]["result"],
) =>
  JSON.stringify(
    guardDutyEvent({
      bucket: record.version.bucket,
      key: record.version.key,
      eTag: record.version.eTag,
      result,
    }),
  );

describe("Local stack: GuardDuty results", () => {
  it("holds the verdict until GuardDuty answers, then decides with every engine's answer", async () => {
    const { fileId, record } = await dropAndWaitForScanHalf(
      "drops/itest/gd/clean notes.txt",
      "plain notes\n",
    );
    expect(record.status).toBe("PENDING");
    expect(record.stages.scan).toBeUndefined();
    expect(await deliver(resultFor(record, "NO_THREATS_FOUND"))).toEqual([]);
    const final = await io.waitFinal(fileId);
    expect(final.status).toBe("VERIFIED");
    expect(final.stages.scan?.engines.map((e) => [e.engine, e.status])).toEqual([
      ["builtin", "clean"],
      ["guardduty", "clean"],
    ]);
  });

  it.each([
    ["THREATS_FOUND", "INFECTED", /GuardDuty\.EICAR-Test-File/],
    ["UNSUPPORTED", "REJECTED", /guardduty: unsupported/],
    ["ACCESS_DENIED", "FAILED", /guardduty: engine-unavailable/],
    ["FAILED", "FAILED", /guardduty: internal/],
  ] as const)("maps %s to %s", async (result, status, reason) => {
    const { fileId, record } = await dropAndWaitForScanHalf(
      `drops/itest/gd/${result}.txt`,
      `text ${result}\n`,
    );
    expect(await deliver(resultFor(record, result))).toEqual([]);
    const final = await io.waitFinal(fileId);
    expect(final.status).toBe(status);
    expect(final.reasons.join("\n")).toMatch(reason);
    expect(final.promotedAt).toBeUndefined();
  });

  it("takes GuardDuty's answer first and completes the scan when the engines answer", async () => {
    const fileId = await io.drop("drops/itest/gd/early.txt", "early bird\n", "text/plain");
    // Retried (as the queue would) until the pipeline has registered the object.
    let failures = ["m0"];
    for (let i = 0; i < 100 && failures.length > 0; i++) {
      const record = await io.records.get(fileId);
      failures = await deliver(
        resultFor(
          record ?? { version: { bucket: stack.state.ingestBucket, key: "drops/itest/gd/early.txt" } },
          "THREATS_FOUND",
        ),
      );
      if (failures.length > 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(failures).toEqual([]);
    expect((await io.waitFinal(fileId)).status).toBe("INFECTED");
  });

  it("fails (for the queue to retry and dead-letter) malformed events and objects it does not know, and ignores a decided file", async () => {
    const unknown = JSON.stringify(
      guardDutyEvent({
        bucket: stack.state.ingestBucket,
        key: "drops/itest/gd/never-dropped.txt",
        result: "NO_THREATS_FOUND",
      }),
    );
    expect(await deliver("{not json", unknown)).toEqual(["m0", "m1"]);
    const { fileId, record } = await dropAndWaitForScanHalf("drops/itest/gd/twice.txt", "twice\n");
    expect(await deliver(resultFor(record, "NO_THREATS_FOUND"))).toEqual([]);
    expect((await io.waitFinal(fileId)).status).toBe("VERIFIED");
    expect(await deliver(resultFor(record, "THREATS_FOUND"))).toEqual([]); // a duplicate after the verdict
    expect((await io.records.get(fileId))?.status).toBe("VERIFIED");
  });
});
