import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { sqsBatchHandler } from "../../../core/runtime/sqs-batch.ts";

const record = (messageId: string, body: string): SQSRecord => ({
  messageId,
  receiptHandle: `r-${messageId}`,
  body,
  attributes: {
    ApproximateReceiveCount: "1",
    SentTimestamp: "0",
    SenderId: "s",
    ApproximateFirstReceiveTimestamp: "0",
  },
  messageAttributes: {},
  md5OfBody: "",
  eventSource: "aws:sqs",
  eventSourceARN: "arn:aws:sqs:us-east-1:111122223333:airlock-scan",
  awsRegion: "us-east-1",
});
const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
const context = {} as Context;

describe("Function: sqsBatchHandler", () => {
  it("reports only the records that threw, so only they are redelivered", async () => {
    const seen: string[] = [];
    const handler = sqsBatchHandler("test", async (r) => {
      seen.push(r.messageId);
      if (r.body === "bad") throw new Error("cannot");
    });
    const response = await handler(batch(record("a", "ok"), record("b", "bad"), record("c", "ok")), context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "b" }]);
    expect(seen.sort()).toEqual(["a", "b", "c"]);
  });

  it("lists every record when all fail instead of throwing, so receive counts stay per message", async () => {
    const handler = sqsBatchHandler("test", async () => {
      throw new Error("down");
    });
    const response = await handler(batch(record("a", "x"), record("b", "y")), context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "a" }, { itemIdentifier: "b" }]);
  });

  it("answers an empty list when every record succeeds", async () => {
    const handler = sqsBatchHandler("test", async () => {});
    expect((await handler(batch(record("a", "x")), context)).batchItemFailures).toEqual([]);
  });

  it("keeps overlapping invocations apart: each answers for its own batch", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler = sqsBatchHandler("test", async (r) => {
      if (r.body === "slow") await gate;
      if (r.body.endsWith("bad")) throw new Error("cannot");
    });
    const first = handler(batch(record("a1", "slow"), record("a2", "bad")), context);
    const second = handler(batch(record("b1", "ok"), record("b2", "ok")), context);
    const secondResponse = await second;
    release();
    const firstResponse = await first;
    expect(secondResponse.batchItemFailures).toEqual([]);
    expect(firstResponse.batchItemFailures).toEqual([{ itemIdentifier: "a2" }]);
  });
});
