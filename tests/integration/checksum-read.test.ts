/**
 * One GET for the bytes and S3's SHA-256 checksum, over real HTTP on the local stack: the scan and metadata
 * stages no longer HEAD the object for it. A drop stored with a SHA-256 checksum is judged with the checksum
 * cross-checked, and the store hands the checksum over with the body.
 */
import { createHash } from "node:crypto";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3ObjectStore } from "../../core/adapters/s3-objects.ts";
import { describeKey } from "../../core/domain/keys.ts";
import type { MetadataResult } from "../../core/domain/types.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { csv } from "../fixtures/documents.ts";
import { clientsFor } from "../support/local.ts";

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;
beforeAll(async () => {
  stack = await startLocalStack({ sweepIntervalMs: 3_600_000 });
  io = clientsFor(stack);
}, 60_000);
afterAll(() => stack?.stop());

async function putWithChecksum(key: string, body: Uint8Array) {
  const out = await io.s3.send(
    new PutObjectCommand({
      Bucket: stack.state.ingestBucket,
      Key: key,
      Body: body,
      ChecksumSHA256: createHash("sha256").update(body).digest("base64"),
    }),
  );
  return { eTag: out.ETag?.replace(/"/g, ""), versionId: out.VersionId };
}

describe("Checksum with the read (local stack)", () => {
  it("hands S3's SHA-256 checksum over with the body of exactly the version", async () => {
    const body = csv(50, 4);
    // Outside the pipeline's layouts: the running pipeline must not promote and remove the version being read.
    const key = "itest/checksum-read.csv";
    const put = await putWithChecksum(key, body);
    const store = new S3ObjectStore(io.s3);
    const opened = await store.streamWithChecksum({
      bucket: stack.state.ingestBucket,
      key,
      ...(put.versionId ? { versionId: put.versionId } : {}),
      ...(put.eTag ? { eTag: put.eTag } : {}),
      sequencer: "1",
      size: body.length,
    });
    expect(opened.sha256Checksum).toBe(createHash("sha256").update(body).digest("hex"));
    const chunks: Uint8Array[] = [];
    for await (const chunk of opened.body) chunks.push(chunk);
    expect(Buffer.concat(chunks).equals(Buffer.from(body))).toBe(true);
  });

  it("judges a drop with its checksum cross-checked", async () => {
    const body = csv(20, 3);
    const key = "drops/billing/checksum-judged.csv";
    await putWithChecksum(key, body);
    const record = await io.waitFinal(describeKey(stack.state.ingestBucket, key).fileId, 30_000);
    expect(record.status, record.reasons.join("; ")).toBe("VERIFIED");
    expect((record.stages.metadata as MetadataResult).facts?.s3Checksum).toEqual({
      algorithm: "SHA256",
      matches: true,
    });
  });
});
