import { HeadObjectCommand, PutObjectTaggingCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Context, SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { setTestEnv } from "../../support/env.ts";

setTestEnv();
const { lambdaHandler, stageOfQueue } = await import("../../../handlers/dead-letter.ts");

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
const sns = mockClient(SNSClient);
afterEach(() => {
  ddb.reset();
  s3.reset();
  sns.reset();
});
beforeAll(() => setTestEnv());

const body = JSON.stringify({
  Type: "Notification",
  Message: JSON.stringify({
    Records: [
      {
        eventName: "ObjectCreated:Put",
        s3: {
          bucket: { name: "ingest" },
          object: { key: "drops/erp/a+b.txt", size: 3, eTag: "e", sequencer: "0A" },
        },
      },
    ],
  }),
});
const dlqArn = "arn:aws:sqs:us-east-1:111122223333:airlock-scan-dlq-5f3a2b1";
const event = (messageBody: string): SQSEvent => ({
  Records: [
    {
      messageId: "m1",
      receiptHandle: "r",
      body: messageBody,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "0",
        SenderId: "s",
        ApproximateFirstReceiveTimestamp: "0",
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: dlqArn,
      awsRegion: "us-east-1",
    },
  ],
});

describe("Handler: dead-letter", () => {
  it.each([
    ["arn:aws:sqs:us-east-1:1:airlock-validate-dlq-a1b2c3", "validate"],
    ["arn:aws:sqs:us-east-1:1:airlock-scan-dlq", "scan"],
    ["arn:aws:sqs:us-east-1:1:metadata-dlq", "metadata"],
    ["arn:aws:sqs:us-east-1:1:something-else", undefined],
  ])("knows the stage of %s", (arn, stage) => {
    expect(stageOfQueue(arn)).toBe(stage);
  });

  it("fails the stage of a dead-lettered message with the last error, and notifies FAILED", async () => {
    const at = "2026-11-22T00:00:00.000Z";
    const version = {
      bucket: "ingest",
      key: "drops/erp/a b.txt",
      eTag: "e",
      sequencer: `${"0".repeat(62)}0A`,
      size: 3,
    };
    const base = {
      fileId: "x",
      key: version.key,
      bucket: "ingest",
      source: "drop",
      owner: "system:erp",
      version,
      reasons: [],
      size: 3,
      createdAt: at,
      updatedAt: at,
      stageFailures: { scan: "TimeoutError: socket hang up" },
      stages: {
        validate: { stage: "validate", status: "passed", reasons: [], size: 3, at },
        metadata: { stage: "metadata", status: "ok", reasons: [], at },
      },
    };
    ddb
      .on(UpdateCommand)
      .callsFake(
        (input: { UpdateExpression: string; ExpressionAttributeValues: Record<string, unknown> }) => {
          if (input.UpdateExpression.startsWith("SET stages.#stage")) {
            return {
              Attributes: {
                ...base,
                status: "PENDING",
                stages: { ...base.stages, scan: input.ExpressionAttributeValues[":result"] },
              },
            };
          }
          if (input.UpdateExpression.startsWith("SET #status = :status")) {
            return {
              Attributes: {
                ...base,
                status: input.ExpressionAttributeValues[":status"],
                reasons: input.ExpressionAttributeValues[":reasons"],
              },
            };
          }
          return { Attributes: { ...base, status: "PENDING" } };
        },
      );
    ddb.on(PutCommand).resolves({});
    // Unversioned: the tag follows a HEAD that checks the key still holds the judged ETag.
    s3.on(HeadObjectCommand).resolves({ ETag: '"e"' });
    s3.on(PutObjectTaggingCommand).resolves({});
    sns.on(PublishCommand).resolves({ MessageId: "m" });

    const response = await lambdaHandler(event(body), {} as Context);

    expect(response.batchItemFailures).toEqual([]);
    const decide = ddb
      .commandCalls(UpdateCommand)
      .find((c) => c.args[0].input.UpdateExpression?.startsWith("SET #status"));
    expect(decide?.args[0].input.ExpressionAttributeValues?.[":status"]).toBe("FAILED");
    expect(String(decide?.args[0].input.ExpressionAttributeValues?.[":reasons"])).toMatch(
      /scan stage failed: gave up after repeated attempts \(last error: TimeoutError: socket hang up\)/,
    );
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.MessageAttributes?.status?.StringValue).toBe(
      "FAILED",
    );
  });

  it("keeps an unreadable dead letter in the table instead of dropping it", async () => {
    ddb.on(PutCommand).resolves({});
    const response = await lambdaHandler(event("garbage"), {} as Context);
    expect(response.batchItemFailures).toEqual([]);
    const kept = ddb.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(kept).toMatchObject({ queue: dlqArn, messageId: "m1", body: "garbage" });
    expect(String(kept?.pk)).toMatch(/^UNREADABLE#\d{4}-\d{2}-\d{2}$/);
  });

  it("reports the message as failed when the table is unreachable, so nothing is lost", async () => {
    ddb.on(UpdateCommand).rejects(new Error("throttled"));
    const response = await lambdaHandler(event(body), {} as Context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m1" }]);
  });
});
