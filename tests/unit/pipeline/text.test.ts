import { randomBytes } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { DynamoTextStore, packText } from "../../../core/adapters/dynamo-staging.ts";
import type { FileRecord, FinalStatus } from "../../../core/domain/types.ts";
import { settle } from "../../../core/usecases/pipeline/settle.ts";
import { MemoryNotifier, MemoryObjects, MemoryRecords, MemoryTexts } from "../../support/memory.ts";

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
afterEach(() => {
  ddb.reset();
  s3.reset();
});

const fileId = "f000000000000000000000000c";
const at = "2026-11-22T00:00:00.000Z";
const version = { bucket: "ingest", key: "drops/a/r.pdf", versionId: "v1", sequencer: "0003", size: 10 };

function decided(status: FinalStatus): FileRecord {
  return {
    fileId,
    key: version.key,
    bucket: "ingest",
    source: "drop",
    status,
    reasons: status === "VERIFIED" ? [] : ["rejected for a test"],
    version,
    stages: {},
    ...(status === "VERIFIED"
      ? { sha256: "c".repeat(64), detectedType: { id: "pdf", mime: "application/pdf", ext: "pdf" } }
      : {}),
    size: 10,
    createdAt: at,
    updatedAt: at,
    decidedAt: at,
  };
}

function world(status: FinalStatus) {
  const records = new MemoryRecords();
  records.records.set(fileId, decided(status));
  const texts = new MemoryTexts();
  texts.staged.set(fileId, { seq: version.sequencer, text: "the extracted text" });
  const deps = {
    records,
    objects: new MemoryObjects(new Map()),
    notifier: new MemoryNotifier(),
    texts,
    cleanBucket: "clean",
  };
  return { records, texts, deps };
}

describe("Function: settle (extracted text)", () => {
  it("publishes the staged text of a VERIFIED file with its promotion, once", async () => {
    const w = world("VERIFIED");
    await settle(decided("VERIFIED"), w.deps);
    expect(w.texts.published.get(`text/${fileId}.txt`)).toBe("the extracted text");
    expect(w.texts.staged.size).toBe(0);
    // A redelivery finds nothing staged any more: nothing is written twice.
    w.texts.published.clear();
    await settle({ ...decided("VERIFIED"), promotedAt: at }, w.deps);
    expect(w.texts.published.size).toBe(0);
  });

  it.each(["REJECTED", "INFECTED", "FAILED"] as const)(
    "discards the staged text of a %s file",
    async (status) => {
      const w = world(status);
      await settle(decided(status), w.deps);
      expect(w.texts.published.size).toBe(0);
      expect(w.texts.staged.size).toBe(0);
    },
  );
});

describe("Class: DynamoTextStore", () => {
  const store = () =>
    new DynamoTextStore(
      ddb as unknown as DynamoDBDocumentClient,
      new S3Client({ region: "us-east-1" }),
      "airlock-files",
    );

  it("stages gzip-compressed text next to the record", async () => {
    ddb.on(PutCommand).resolves({});
    await expect(store().stage(fileId, version, "hello text")).resolves.toEqual({ cut: false });
    const item = ddb.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(item).toMatchObject({ pk: `FILE#${fileId}`, sk: "TEXT", seq: "0003" });
    expect(gunzipSync(item?.body as Uint8Array).toString("utf8")).toBe("hello text");
  });

  it("shortens text that would not fit in an item", () => {
    const random = randomBytes(200_000).toString("base64");
    const { body, cut } = packText(random, 50_000);
    expect(cut).toBe(true);
    expect(body.byteLength).toBeLessThanOrEqual(50_000);
  });

  it("publishes to text/<fileId>.txt in the clean bucket under its default encryption, records the key and drops the staged copy", async () => {
    const { body } = packText("the text");
    ddb.on(GetCommand).resolves({ Item: { pk: `FILE#${fileId}`, sk: "TEXT", seq: "0003", body } });
    ddb.on(UpdateCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});
    s3.on(PutObjectCommand).resolves({ VersionId: "t1" });
    await expect(store().publish(fileId, version, "clean")).resolves.toBe(`text/${fileId}.txt`);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      Bucket: "clean",
      Key: `text/${fileId}.txt`,
      ContentType: "text/plain; charset=utf-8",
    });
    // No SSE override: the bucket's default (SSE-KMS with the Airlock key) applies, as to the promoted file.
    expect(put?.ServerSideEncryption).toBeUndefined();
    expect(Buffer.from(put?.Body as Uint8Array).toString("utf8")).toBe("the text");
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues).toEqual({
      ":key": `text/${fileId}.txt`,
      ":copy": { key: `text/${fileId}.txt`, versionId: "t1" },
      ":seq": "0003",
      ":verified": "VERIFIED",
    });
    expect(ddb.commandCalls(DeleteCommand)[0]?.args[0].input.Key).toEqual({
      pk: `FILE#${fileId}`,
      sk: "TEXT",
    });
  });

  it("takes back the text it wrote when the record is no longer that promoted version", async () => {
    const { body } = packText("the text");
    ddb.on(GetCommand).resolves({ Item: { pk: `FILE#${fileId}`, sk: "TEXT", seq: "0003", body } });
    ddb
      .on(UpdateCommand)
      .rejects(Object.assign(new Error("moved on"), { name: "ConditionalCheckFailedException" }));
    s3.on(PutObjectCommand).resolves({ ETag: '"t-etag"' });
    s3.on(DeleteObjectCommand).resolves({});
    await expect(store().publish(fileId, version, "clean")).resolves.toBeUndefined();
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: "clean",
      Key: `text/${fileId}.txt`,
      IfMatch: '"t-etag"',
    });
  });

  it("publishes nothing staged for another version", async () => {
    ddb
      .on(GetCommand)
      .resolves({ Item: { pk: `FILE#${fileId}`, sk: "TEXT", seq: "0001", body: packText("old").body } });
    await expect(store().publish(fileId, version, "clean")).resolves.toBeUndefined();
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});
