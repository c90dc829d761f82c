import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { DynamoRecordStore } from "../../../core/adapters/dynamo-records.ts";
import { S3ObjectStore } from "../../../core/adapters/s3-objects.ts";
import { SnsNotifier } from "../../../core/adapters/sns-notifier.ts";
import type { FileRecord } from "../../../core/domain/types.ts";
import { settle } from "../../../core/usecases/pipeline/settle.ts";

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
const sns = mockClient(SNSClient);

afterEach(() => {
  ddb.reset();
  s3.reset();
  sns.reset();
});

const deps = () => ({
  records: new DynamoRecordStore(ddb as unknown as DynamoDBDocumentClient, "table"),
  objects: new S3ObjectStore(new S3Client({ region: "us-east-1" })),
  notifier: new SnsNotifier(new SNSClient({ region: "us-east-1" }), "arn:aws:sns:us-east-1:1:notify"),
  cleanBucket: "clean",
});

const at = "2026-11-22T00:00:00.000Z";
const SHA = "5".repeat(64);
function pending(overrides: Partial<FileRecord> = {}): FileRecord {
  return {
    fileId: "f000000000000000000000000a",
    key: "drops/billing/q3 report.pdf",
    bucket: "ingest",
    source: "drop",
    owner: "system:billing",
    status: "PENDING",
    reasons: [],
    version: {
      bucket: "ingest",
      key: "drops/billing/q3 report.pdf",
      versionId: "v1",
      eTag: "e1",
      sequencer: `${"0".repeat(63)}1`,
      size: 5,
    },
    detectedType: { id: "pdf", mime: "application/pdf", ext: "pdf" },
    stages: {
      validate: {
        stage: "validate",
        status: "passed",
        reasons: [],
        size: 5,
        detectedType: { id: "pdf", mime: "application/pdf", ext: "pdf" },
        at,
      },
      scan: {
        stage: "scan",
        status: "clean",
        engines: [{ engine: "builtin", status: "clean" }],
        reasons: [],
        at,
      },
      metadata: { stage: "metadata", status: "ok", facts: { sha256: SHA, size: 5 }, reasons: [], at },
    },
    sha256: SHA,
    size: 5,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

describe("Function: settle", () => {
  it("promotes exactly the judged version, deletes it from quarantine and notifies once", async () => {
    const record = pending();
    ddb.on(UpdateCommand).resolves({ Attributes: { ...record, status: "VERIFIED" } });
    ddb.on(PutCommand).resolves({});
    s3.on(CopyObjectCommand).resolves({ VersionId: "c1" });
    s3.on(DeleteObjectCommand).resolves({});
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });

    expect(await settle(record, deps())).toBe("decided");

    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: "clean",
      Key: "drops/billing/q3 report.pdf",
      CopySource: "ingest/drops/billing/q3%20report.pdf?versionId=v1",
      MetadataDirective: "REPLACE",
      ContentType: "application/pdf",
      Metadata: { "airlock-sha256": SHA, "airlock-file-id": record.fileId },
    });
    expect(s3.commandCalls(HeadObjectCommand)).toHaveLength(0);
    const promoted = ddb
      .commandCalls(UpdateCommand)
      .find((c) => c.args[0].input.UpdateExpression?.includes("promotedAt"));
    expect(promoted?.args[0].input.ExpressionAttributeValues?.[":copy"]).toEqual({
      key: record.key,
      versionId: "c1",
      sequencer: record.version.sequencer,
    });
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: "ingest",
      Key: "drops/billing/q3 report.pdf",
      VersionId: "v1",
    });
    const publish = sns.commandCalls(PublishCommand);
    expect(publish).toHaveLength(1);
    expect(publish[0]?.args[0].input.MessageAttributes).toMatchObject({
      status: { DataType: "String", StringValue: "VERIFIED" },
      owner: { DataType: "String", StringValue: "system:billing" },
    });
  });

  it("tags a held file with its verdict instead of promoting it", async () => {
    const record = pending();
    record.stages.scan = { stage: "scan", status: "infected", engines: [], reasons: ["Airlock.Eicar"], at };
    ddb
      .on(UpdateCommand)
      .resolves({ Attributes: { ...record, status: "INFECTED", reasons: ["Airlock.Eicar"] } });
    ddb.on(PutCommand).resolves({});
    s3.on(PutObjectTaggingCommand).resolves({});
    sns.on(PublishCommand).resolves({ MessageId: "m-2" });

    await settle(record, deps());

    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectTaggingCommand)[0]?.args[0].input).toMatchObject({
      VersionId: "v1",
      Tagging: { TagSet: [{ Key: "airlock-status", Value: "INFECTED" }] },
    });
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toBe(
      "[Airlock] INFECTED: q3 report.pdf",
    );
  });

  it("sends nothing when another caller already decided and notified", async () => {
    const record = pending();
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: "no", $metadata: {} }));
    ddb.on(GetCommand).resolves({
      Item: { ...record, status: "VERIFIED", promotedAt: at, notifiedAt: at, notificationId: "m" },
    });

    expect(await settle(record, deps())).toBe("done");
    expect(s3.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });

  it("ends FAILED with the reason, promoting nothing, when the judged version has gone", async () => {
    const record = pending();
    ddb
      .on(UpdateCommand)
      .callsFake(
        (input: { UpdateExpression: string; ExpressionAttributeValues: Record<string, unknown> }) => {
          if (input.UpdateExpression.startsWith("SET #status = :failed"))
            return {
              Attributes: {
                ...record,
                status: "FAILED",
                reasons: input.ExpressionAttributeValues[":reasons"],
              },
            };
          if (input.UpdateExpression.startsWith("SET notifiedAt"))
            return { Attributes: { ...record, status: "FAILED", notifiedAt: at } };
          return { Attributes: { ...record, status: "VERIFIED" } };
        },
      );
    ddb.on(PutCommand).resolves({});
    s3.on(CopyObjectCommand).rejects(Object.assign(new Error("gone"), { name: "NoSuchVersion" }));
    s3.on(PutObjectTaggingCommand).resolves({});
    sns.on(PublishCommand).resolves({ MessageId: "m-3" });

    expect(await settle(record, deps())).toBe("decided");
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
    const publish = sns.commandCalls(PublishCommand);
    expect(publish).toHaveLength(1);
    expect(publish[0]?.args[0].input.MessageAttributes?.status?.StringValue).toBe("FAILED");
    expect(publish[0]?.args[0].input.Message).toMatch(/deleted or replaced after it was judged/);
  });

  it("withdraws its copy when the record moved on while it copied (a newer drop, a delete)", async () => {
    const record = pending();
    const newer = { ...record.version, versionId: "v2", sequencer: `${"0".repeat(63)}2` };
    ddb.on(UpdateCommand).callsFake((input: { UpdateExpression: string }) => {
      if (input.UpdateExpression.includes("promotedAt = if_not_exists"))
        throw new ConditionalCheckFailedException({ message: "moved on", $metadata: {} });
      return { Attributes: { ...record, status: "VERIFIED" } };
    });
    ddb.on(GetCommand).resolves({ Item: { ...record, version: newer, status: "PENDING", stages: {} } });
    s3.on(CopyObjectCommand).resolves({ VersionId: "c7" });
    s3.on(DeleteObjectCommand).resolves({});

    await settle(record, deps());
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: "clean", Key: record.key, VersionId: "c7" },
    ]);
    expect(sns.calls()).toHaveLength(0);
  });

  it("waits while a stage is missing", async () => {
    const record = pending();
    delete record.stages.metadata;
    expect(await settle(record, deps())).toBe("waiting");
    expect(ddb.calls()).toHaveLength(0);
  });

  it("gives the notification claim back when publishing fails, so a retry can send it", async () => {
    const record = pending({ status: "REJECTED", reasons: ["empty file"], decidedAt: at });
    ddb.on(UpdateCommand).resolves({ Attributes: record });
    s3.on(PutObjectTaggingCommand).resolves({});
    sns.on(PublishCommand).rejects(new Error("SNS is down"));

    await expect(settle(record, deps())).rejects.toThrow("SNS is down");
    const updates = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input.UpdateExpression);
    expect(updates).toEqual(["SET notifiedAt = :now", "REMOVE notifiedAt"]);
  });
});
