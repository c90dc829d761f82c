/**
 * The S3 ObjectStore pins every read, copy, tag and delete to the judged bytes: a version id where there is one,
 * else the judged ETag (`If-Match`, `x-amz-copy-source-if-match`); an object version it cannot pin is refused.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { S3ObjectStore } from "../../../core/adapters/s3-objects.ts";
import type { ObjectVersion } from "../../../core/domain/types.ts";
import {
  ChecksumMismatchError,
  ObjectTooLargeError,
  ObjectVersionGoneError,
  UnpinnedObjectError,
} from "../../../core/ports/index.ts";

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const store = () => new S3ObjectStore(new S3Client({ region: "us-east-1" }));
const sha256 = "a".repeat(64);
const judged = { sha256, contentType: "application/pdf", fileId: "f000000000000000000000000a" };
const base64Of = (hex: string) => Buffer.from(hex, "hex").toString("base64");

const versioned: ObjectVersion = {
  bucket: "ingest",
  key: "drops/billing/q3 report.pdf",
  versionId: "v1",
  eTag: "e1",
  sequencer: "01",
  size: 5,
};
const unversioned: ObjectVersion = { ...versioned, versionId: undefined };
const unpinned: ObjectVersion = { ...versioned, versionId: undefined, eTag: undefined };

function failure(name: string, status: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: "client", $metadata: { httpStatusCode: status } });
}

describe("S3ObjectStore: promote", () => {
  it("copies the judged version by its version id, with the judged SHA-256, without a HEAD first", async () => {
    s3.on(CopyObjectCommand).resolves({
      VersionId: "c1",
      CopyObjectResult: { ETag: '"x1"', ChecksumSHA256: base64Of(sha256) },
    });
    const copy = await store().promote(versioned, "clean", judged);
    expect(copy).toEqual({ key: versioned.key, versionId: "c1", eTag: "x1" });
    expect(s3.commandCalls(HeadObjectCommand)).toHaveLength(0);
    const input = s3.commandCalls(CopyObjectCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Bucket: "clean",
      Key: versioned.key,
      CopySource: "ingest/drops/billing/q3%20report.pdf?versionId=v1",
      MetadataDirective: "REPLACE",
      ContentType: "application/pdf",
      Metadata: { "airlock-sha256": sha256, "airlock-file-id": judged.fileId },
      ChecksumAlgorithm: "SHA256",
      TaggingDirective: "REPLACE",
      Tagging: "airlock-status=VERIFIED",
    });
    expect(input?.CopySourceIfMatch).toBeUndefined();
  });

  it("without a version id, copies only if the source still has the judged ETag", async () => {
    s3.on(CopyObjectCommand).resolves({ CopyObjectResult: { ETag: '"e1"' } });
    await store().promote(unversioned, "clean", judged);
    const input = s3.commandCalls(CopyObjectCommand)[0]?.args[0].input;
    expect(input?.CopySource).toBe("ingest/drops/billing/q3%20report.pdf");
    expect(input?.CopySourceIfMatch).toBe('"e1"');
  });

  it("reports a source overwritten since judgement (412) as gone", async () => {
    s3.on(CopyObjectCommand).rejects(failure("PreconditionFailed", 412));
    await expect(store().promote(unversioned, "clean", judged)).rejects.toBeInstanceOf(
      ObjectVersionGoneError,
    );
  });

  it("does not take a missing clean bucket for a gone object: that is retried", async () => {
    s3.on(CopyObjectCommand).rejects(failure("NoSuchBucket", 404));
    const attempt = store().promote(versioned, "clean", judged);
    await expect(attempt).rejects.toThrow();
    await expect(attempt).rejects.not.toBeInstanceOf(ObjectVersionGoneError);
  });

  it("refuses to copy an object version it cannot pin (no version id, no ETag)", async () => {
    await expect(store().promote(unpinned, "clean", judged)).rejects.toBeInstanceOf(UnpinnedObjectError);
    expect(s3.calls()).toHaveLength(0);
  });

  it("withdraws a copy whose SHA-256 is not the judged one, and reports it as gone", async () => {
    s3.on(CopyObjectCommand).resolves({
      VersionId: "c1",
      CopyObjectResult: { ETag: '"x1"', ChecksumSHA256: base64Of("b".repeat(64)) },
    });
    s3.on(DeleteObjectCommand).resolves({});
    await expect(store().promote(versioned, "clean", judged)).rejects.toBeInstanceOf(ObjectVersionGoneError);
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: "clean",
      Key: versioned.key,
      VersionId: "c1",
    });
  });

  it("without a checksum, withdraws an ETag-pinned copy whose ETag is not the judged one", async () => {
    // A store that ignored the copy condition copied a newer object: its ETag gives it away.
    s3.on(CopyObjectCommand).resolves({ CopyObjectResult: { ETag: '"e2"' } });
    s3.on(DeleteObjectCommand).resolves({});
    await expect(store().promote(unversioned, "clean", judged)).rejects.toBeInstanceOf(
      ObjectVersionGoneError,
    );
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: "clean",
      Key: versioned.key,
      IfMatch: '"e2"',
    });
  });

  it("copies a large object in parts, each part pinned to the judged bytes", async () => {
    const large = { ...unversioned, size: 6 * 1024 ** 3 };
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: "u1" });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    s3.on(CompleteMultipartUploadCommand).resolves({ ETag: '"m-12"' });
    const copy = await store().promote(large, "clean", judged);
    expect(copy.eTag).toBe("m-12");
    expect(s3.commandCalls(HeadObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input).toMatchObject({
      ContentType: "application/pdf",
      Metadata: { "airlock-sha256": sha256 },
      Tagging: "airlock-status=VERIFIED",
    });
    const parts = s3.commandCalls(UploadPartCopyCommand).map((c) => c.args[0].input);
    expect(parts).toHaveLength(12);
    for (const part of parts) expect(part.CopySourceIfMatch).toBe('"e1"');

    s3.resetHistory();
    await store().promote({ ...large, versionId: "v1" }, "clean", judged);
    for (const part of s3.commandCalls(UploadPartCopyCommand).map((c) => c.args[0].input)) {
      expect(part.CopySource).toMatch(/\?versionId=v1$/);
      expect(part.CopySourceIfMatch).toBeUndefined();
    }
  });
});

describe("S3ObjectStore: remove, withdraw and tag", () => {
  it("deletes the judged version by id, or only if the key still has the judged ETag", async () => {
    s3.on(DeleteObjectCommand).resolves({});
    await store().remove(versioned);
    await store().remove(unversioned);
    expect(s3.commandCalls(HeadObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: "ingest", Key: versioned.key, VersionId: "v1" },
      { Bucket: "ingest", Key: versioned.key, IfMatch: '"e1"' },
    ]);
  });

  it("leaves a newer object alone: a failed delete condition is not an error", async () => {
    s3.on(DeleteObjectCommand).rejects(failure("PreconditionFailed", 412));
    await expect(store().remove(unversioned)).resolves.toBeUndefined();
  });

  it("refuses to delete or tag what it cannot pin", async () => {
    await expect(store().remove(unpinned)).rejects.toBeInstanceOf(UnpinnedObjectError);
    await expect(store().tag(unpinned, { a: "b" })).rejects.toBeInstanceOf(UnpinnedObjectError);
    expect(s3.calls()).toHaveLength(0);
  });

  it("withdraws exactly one clean copy", async () => {
    s3.on(DeleteObjectCommand).resolves({});
    await store().withdraw("clean", { key: "k", versionId: "c1", eTag: "x1" });
    await store().withdraw("clean", { key: "k", eTag: "x1" });
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: "clean", Key: "k", VersionId: "c1" },
      { Bucket: "clean", Key: "k", IfMatch: '"x1"' },
    ]);
  });

  it("tags the judged version by id; without one, only while the key has the judged ETag", async () => {
    s3.on(PutObjectTaggingCommand).resolves({});
    s3.on(HeadObjectCommand).resolvesOnce({ ETag: '"e1"' }).rejectsOnce(failure("PreconditionFailed", 412));
    await store().tag(versioned, { "airlock-status": "INFECTED" });
    await store().tag(unversioned, { "airlock-status": "INFECTED" });
    await store().tag(unversioned, { "airlock-status": "INFECTED" });
    const tagged = s3.commandCalls(PutObjectTaggingCommand).map((c) => c.args[0].input);
    expect(tagged.map((t) => t.VersionId)).toEqual(["v1", undefined]);
    expect(s3.commandCalls(HeadObjectCommand)[0]?.args[0].input).toMatchObject({ IfMatch: '"e1"' });
  });
});

describe("S3ObjectStore: reads", () => {
  it("reads the judged version by id, or with If-Match on the ETag", async () => {
    s3.on(GetObjectCommand).resolves({ ETag: '"e1"', ContentLength: 5 });
    await store().readHead(versioned, 10);
    await store().readHead(unversioned, 10);
    const inputs = s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toMatchObject({ VersionId: "v1" });
    expect(inputs[0]?.IfMatch).toBeUndefined();
    expect(inputs[1]).toMatchObject({ IfMatch: '"e1"' });
    expect(inputs[1]?.VersionId).toBeUndefined();
  });

  it("refuses to read what it cannot pin", async () => {
    await expect(store().readHead(unpinned, 10)).rejects.toBeInstanceOf(UnpinnedObjectError);
    await expect(store().stream(unpinned)).rejects.toBeInstanceOf(UnpinnedObjectError);
  });

  it("returns the object's Last-Modified with its head", async () => {
    const at = new Date("2026-11-30T10:00:00Z");
    s3.on(GetObjectCommand).resolves({ ETag: '"e1"', ContentLength: 5, LastModified: at });
    expect((await store().readHead(versioned, 10)).lastModified).toEqual(at);
  });

  it("takes S3's SHA-256 checksum from the GET that reads the body, not from a HEAD", async () => {
    const body = (async function* () {
      yield new Uint8Array([1, 2, 3]);
    })();
    s3.on(GetObjectCommand).resolves({
      ETag: '"e1"',
      ContentLength: 3,
      ChecksumSHA256: base64Of(sha256),
      ChecksumType: "FULL_OBJECT",
      Body: body as never,
    });
    const opened = await store().streamWithChecksum(versioned);
    expect(opened.sha256Checksum).toBe(sha256);
    const chunks: Uint8Array[] = [];
    for await (const chunk of opened.body) chunks.push(chunk);
    expect(chunks).toEqual([new Uint8Array([1, 2, 3])]);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toMatchObject({
      VersionId: "v1",
      ChecksumMode: "ENABLED",
    });
    expect(s3.commandCalls(HeadObjectCommand)).toHaveLength(0);
    // A plain stream does not ask for the checksum (the SDK would hash the body for nothing).
    s3.on(GetObjectCommand).resolves({ ETag: '"e1"', ContentLength: 3 });
    await store().stream(versioned);
    expect(s3.commandCalls(GetObjectCommand)[1]?.args[0].input.ChecksumMode).toBeUndefined();
  });

  it("has no checksum of a multipart upload's COMPOSITE checksum, and pins an unversioned read by ETag", async () => {
    s3.on(GetObjectCommand).resolves({
      ETag: '"e1"',
      ContentLength: 3,
      ChecksumSHA256: `${base64Of(sha256)}-2`,
      ChecksumType: "COMPOSITE",
    });
    expect((await store().streamWithChecksum(unversioned)).sha256Checksum).toBeUndefined();
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toMatchObject({ IfMatch: '"e1"' });
  });

  it("turns the SDK's checksum failure at the end of the body into ChecksumMismatchError", async () => {
    const body = (async function* () {
      yield new Uint8Array([1]);
      throw new Error(
        'Checksum mismatch: expected "a" but received "b" in response header "x-amz-checksum-sha256".',
      );
    })();
    s3.on(GetObjectCommand).resolves({
      ETag: '"e1"',
      ContentLength: 1,
      ChecksumSHA256: base64Of(sha256),
      Body: body as never,
    });
    const opened = await store().streamWithChecksum(versioned);
    const read = async () => {
      for await (const _ of opened.body) {
      }
    };
    await expect(read()).rejects.toBeInstanceOf(ChecksumMismatchError);
  });

  it("destroys the underlying body when a caller leaves the checksummed body unread", async () => {
    let destroyed = false;
    const body = Object.assign(
      (async function* () {
        yield new Uint8Array(10);
      })(),
      { destroy: () => (destroyed = true) },
    );
    s3.on(GetObjectCommand).resolves({ ETag: '"e1"', ContentLength: 10, Body: body as never });
    const opened = await store().streamWithChecksum(versioned);
    (opened.body as { destroy?: () => void }).destroy?.();
    expect(destroyed).toBe(true);
  });

  it("does not read the body of an object larger than the caller's limit", async () => {
    let destroyed = false;
    const body = Object.assign(
      (async function* () {
        yield new Uint8Array(10);
      })(),
      { destroy: () => (destroyed = true) },
    );
    s3.on(GetObjectCommand).resolves({ ETag: '"e1"', ContentLength: 50 * 1024 ** 3, Body: body as never });
    await expect(store().stream(versioned, { maxBytes: 1024 })).rejects.toBeInstanceOf(ObjectTooLargeError);
    expect(destroyed).toBe(true);
  });
});
