/**
 * The local stack's S3 enforces what S3 enforces on the paths Airlock relies on, over real HTTP: SigV4 on
 * every request, POST policy conditions, literal keys, versions, conditional copies and deletes; and no
 * request takes the stack down (S3, API gateway, console).
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeKey } from "../../core/domain/keys.ts";
import { mintToken } from "../../local/gateway.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { clientsFor } from "../support/local.ts";

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;
let consoleDir: string;
let ingest: string;
let clean: string;

beforeAll(async () => {
  consoleDir = await mkdtemp(join(tmpdir(), "airlock-console-"));
  await writeFile(join(consoleDir, "index.html"), "<!doctype html><title>console</title>");
  stack = await startLocalStack({ sweepIntervalMs: 3_600_000, console: { dir: consoleDir } });
  io = clientsFor(stack);
  ingest = stack.state.ingestBucket;
  clean = stack.state.cleanBucket;
});
afterAll(async () => {
  await stack?.stop();
  await rm(consoleDir, { recursive: true, force: true });
});

const s3Url = (path: string) => `${stack.state.endpoints.s3}${path}`;

function clientWith(secretAccessKey: string): S3Client {
  return new S3Client({
    region: stack.state.region,
    credentials: { accessKeyId: stack.state.credentials.accessKeyId, secretAccessKey },
    endpoint: stack.state.endpoints.s3,
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

async function failure(promise: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error("expected the request to fail");
}

const unique = () => randomBytes(6).toString("hex");

describe("local S3: SigV4 on every request", () => {
  it("refuses unsigned requests with 403 AccessDenied", async () => {
    const key = `drops/itest/unsigned-${unique()}.txt`;
    await io.s3.send(new PutObjectCommand({ Bucket: ingest, Key: key, Body: "secret\n" }));
    const requests: [string, RequestInit][] = [
      [s3Url(`/${clean}/planted-${unique()}.txt`), { method: "PUT", body: "planted" }],
      [s3Url(`/${ingest}/${key}`), { method: "GET" }],
      [s3Url(`/${ingest}/${key}`), { method: "DELETE" }],
      [s3Url(`/${ingest}?list-type=2`), { method: "GET" }],
    ];
    for (const [url, init] of requests) {
      const res = await fetch(url, init);
      expect(res.status, `${init.method} ${url}`).toBe(403);
      expect(await res.text()).toMatch(/<Code>AccessDenied<\/Code>/);
    }
    // A cross-site form without a signature cannot write either.
    const form = new FormData();
    form.append("key", `drops/itest/form-${unique()}.txt`);
    form.append("file", new Blob(["planted"]));
    const posted = await fetch(s3Url(`/${ingest}`), { method: "POST", body: form });
    expect(posted.status).toBe(403);
    // The object is still there for a signed reader.
    const out = await io.s3.send(new GetObjectCommand({ Bucket: ingest, Key: key }));
    expect(await out.Body?.transformToString()).toBe("secret\n");
  });

  it("refuses a wrong signature and a tampered presigned URL with 403 SignatureDoesNotMatch", async () => {
    const wrong = clientWith("not-the-secret");
    const put = await failure(
      wrong.send(new PutObjectCommand({ Bucket: clean, Key: `forged-${unique()}`, Body: "x" })),
    );
    expect(put).toEqual({ name: "SignatureDoesNotMatch", status: 403 });
    const key = `drops/itest/presigned-${unique()}.txt`;
    await io.s3.send(new PutObjectCommand({ Bucket: ingest, Key: key, Body: "presigned\n" }));
    const url = await getSignedUrl(io.s3, new GetObjectCommand({ Bucket: ingest, Key: key }), {
      expiresIn: 60,
    });
    expect((await fetch(url)).status).toBe(200);
    const other = url.replace("presigned-", "other-");
    const tampered = await fetch(other);
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toMatch(/SignatureDoesNotMatch/);
    const longer = url.replace("X-Amz-Expires=60", "X-Amz-Expires=600");
    expect((await fetch(longer)).status).toBe(403);
    // A presigned PUT cannot smuggle unsigned x-amz-* headers.
    const putUrl = await getSignedUrl(io.s3, new PutObjectCommand({ Bucket: ingest, Key: key }), {
      expiresIn: 60,
    });
    const smuggled = await fetch(putUrl, {
      method: "PUT",
      body: "x",
      headers: { "x-amz-meta-owner": "mallory" },
    });
    expect(smuggled.status).toBe(403);
  });
});

describe("local S3: POST policy", () => {
  async function plan(key: string, size: number, contentType: string, expires = 60) {
    return createPresignedPost(io.s3, {
      Bucket: ingest,
      Key: key,
      Conditions: [
        ["content-length-range", size, size],
        ["eq", "$Content-Type", contentType],
        ["eq", "$x-amz-meta-owner", "alice"],
      ],
      Fields: { "Content-Type": contentType, "x-amz-meta-owner": "alice" },
      Expires: expires,
    });
  }
  async function post(
    p: Awaited<ReturnType<typeof plan>>,
    body: string,
    overrides: Record<string, string | null> = {},
  ) {
    const form = new FormData();
    const fields: Record<string, string | null> = { ...p.fields, ...overrides };
    for (const [k, v] of Object.entries(fields)) if (v !== null) form.append(k, v);
    form.append("file", new Blob([body]));
    const res = await fetch(p.url, { method: "POST", body: form });
    return { status: res.status, text: await res.text() };
  }
  const exists = async (key: string) =>
    io.s3.send(new HeadObjectCommand({ Bucket: ingest, Key: key })).then(
      () => true,
      () => false,
    );

  it("accepts the form it signed, with a version id", async () => {
    const key = `uploads/${unique()}/ok.txt`;
    const p = await plan(key, 6, "text/plain");
    const form = new FormData();
    for (const [k, v] of Object.entries(p.fields)) form.append(k, v);
    form.append("file", new Blob(["hello\n"]));
    const res = await fetch(p.url, { method: "POST", body: form });
    expect(res.status).toBe(204);
    expect(res.headers.get("x-amz-version-id")).toBeTruthy();
    const head = await io.s3.send(new HeadObjectCommand({ Bucket: ingest, Key: key }));
    expect(head.ContentType).toBe("text/plain");
    expect(head.Metadata).toEqual({ owner: "alice" });
  });

  it.each([
    [
      "another key",
      { key: "uploads/someone-else/x.txt" },
      "hello\n",
      403,
      /AccessDenied.*Policy Condition failed/s,
    ],
    ["a larger file", {}, "hello, much bigger\n", 400, /EntityTooLarge/],
    ["a smaller file", {}, "hi\n", 400, /EntityTooSmall/],
    ["another type", { "Content-Type": "text/html" }, "hello\n", 403, /Policy Condition failed/],
    ["another owner", { "x-amz-meta-owner": "mallory" }, "hello\n", 403, /Policy Condition failed/],
    ["the owner field removed", { "x-amz-meta-owner": null }, "hello\n", 403, /Policy Condition failed/],
    [
      "an extra field",
      { "x-amz-meta-admin": "true" },
      "hello\n",
      403,
      /Extra input fields: x-amz-meta-admin/,
    ],
    ["a tampered policy", { Policy: "e30=" }, "hello\n", 403, /SignatureDoesNotMatch/],
  ])("refuses a form with %s", async (_what, overrides, body, status, error) => {
    const key = `uploads/${unique()}/f.txt`;
    const p = await plan(key, 6, "text/plain");
    const res = await post(p, body, overrides as Record<string, string | null>);
    expect(res.status).toBe(status);
    expect(res.text).toMatch(error);
    expect(await exists(key)).toBe(false);
    expect(await exists("uploads/someone-else/x.txt")).toBe(false);
  });

  it("refuses a form after its policy expired", async () => {
    const key = `uploads/${unique()}/late.txt`;
    const p = await plan(key, 6, "text/plain", 1);
    await new Promise((r) => setTimeout(r, 2_100));
    const res = await post(p, "hello\n");
    expect(res.status).toBe(403);
    expect(res.text).toMatch(/Policy expired/);
    expect(await exists(key)).toBe(false);
  });
});

describe("local S3: keys are literal", () => {
  it("stores `..` and `.` segments under exactly that key, inside the bucket", async () => {
    const marker = `escape-${unique()}`;
    const keys = [
      `../${clean}/${marker}`,
      `../../../../../../../../tmp/${marker}`,
      `drops/itest/./a/../${marker}`,
      `drops/itest//${marker}`,
    ];
    for (const [i, key] of keys.entries()) {
      await io.s3.send(new PutObjectCommand({ Bucket: ingest, Key: key, Body: `literal ${i}\n` }));
    }
    for (const [i, key] of keys.entries()) {
      const out = await io.s3.send(new GetObjectCommand({ Bucket: ingest, Key: key }));
      expect(await out.Body?.transformToString()).toBe(`literal ${i}\n`);
    }
    const listed = await io.s3.send(new ListObjectsV2Command({ Bucket: ingest, Prefix: "../" }));
    expect(listed.Contents?.map((c) => c.Key).sort()).toEqual(keys.slice(0, 2).sort());
    // Nothing reached the clean bucket or the file system outside the emulator's data.
    const inClean = await io.s3.send(new ListObjectsV2Command({ Bucket: clean, Prefix: marker }));
    expect(inClean.KeyCount ?? 0).toBe(0);
    expect(existsSync(`/tmp/${marker}`)).toBe(false);
    expect(await readdir(tmpdir())).not.toContain(marker);
  });
});

describe("local S3: versioning and conditions", () => {
  it("gives every write its own version id, readable by id, and carries it in the ObjectCreated event", async () => {
    // A name the pipeline holds (REJECTED, never promoted nor removed), so every version stays readable while the
    // running pipeline sees the events.
    const key = `drops/itest/versions-${unique()}.exe`;
    const first = await io.s3.send(new PutObjectCommand({ Bucket: ingest, Key: key, Body: "first\n" }));
    const second = await io.s3.send(new PutObjectCommand({ Bucket: ingest, Key: key, Body: "second\n" }));
    expect(first.VersionId).toBeTruthy();
    expect(second.VersionId).toBeTruthy();
    expect(second.VersionId).not.toBe(first.VersionId);
    const read = async (VersionId?: string) =>
      (
        await io.s3.send(new GetObjectCommand({ Bucket: ingest, Key: key, VersionId }))
      )?.Body?.transformToString();
    expect(await read(first.VersionId)).toBe("first\n");
    expect(await read(second.VersionId)).toBe("second\n");
    expect(await read()).toBe("second\n");
    // The pipeline saw the version id in the event and pinned its work to it.
    const third = await io.s3.send(
      new PutObjectCommand({ Bucket: ingest, Key: key, Body: "third\n", ContentType: "text/plain" }),
    );
    const { fileId } = describeKey(ingest, key);
    let record = await io.records.get(fileId);
    for (let i = 0; i < 800 && record?.version.eTag !== third.ETag?.replace(/"/g, ""); i++) {
      await new Promise((r) => setTimeout(r, 25));
      record = await io.records.get(fileId);
    }
    expect(record?.version.versionId).toBe(third.VersionId);
  });

  it("makes a delete without version id a delete marker, and deletes a version by id for good", async () => {
    const key = `drops/itest/marker-${unique()}.txt`;
    const put = await io.s3.send(new PutObjectCommand({ Bucket: clean, Key: key, Body: "kept\n" }));
    const marker = await io.s3.send(new DeleteObjectCommand({ Bucket: clean, Key: key }));
    expect(marker.DeleteMarker).toBe(true);
    expect(await failure(io.s3.send(new GetObjectCommand({ Bucket: clean, Key: key })))).toMatchObject({
      name: "NoSuchKey",
    });
    const old = await io.s3.send(new GetObjectCommand({ Bucket: clean, Key: key, VersionId: put.VersionId }));
    expect(await old.Body?.transformToString()).toBe("kept\n");
    await io.s3.send(new DeleteObjectCommand({ Bucket: clean, Key: key, VersionId: put.VersionId }));
    expect(
      await failure(io.s3.send(new GetObjectCommand({ Bucket: clean, Key: key, VersionId: put.VersionId }))),
    ).toMatchObject({ status: 404 });
  });

  it("answers 412 to copies, part copies, puts and deletes whose preconditions fail", async () => {
    // Outside the pipeline's layouts: the running pipeline must not promote (and so remove) the newer version
    // while the conditions are tried; it only holds such a key where it lies.
    const key = `itest/cond-${unique()}.txt`;
    const judged = await io.s3.send(new PutObjectCommand({ Bucket: ingest, Key: key, Body: "judged\n" }));
    await io.s3.send(new PutObjectCommand({ Bucket: ingest, Key: key, Body: "EICAR came later\n" }));
    const source = `${ingest}/${key}`;
    const refused: (() => Promise<unknown>)[] = [
      () =>
        io.s3.send(
          new CopyObjectCommand({
            Bucket: clean,
            Key: key,
            CopySource: source,
            CopySourceIfMatch: judged.ETag,
          }),
        ),
      () =>
        io.s3.send(
          new CopyObjectCommand({ Bucket: clean, Key: key, CopySource: source, CopySourceIfNoneMatch: "*" }),
        ),
      () => io.s3.send(new DeleteObjectCommand({ Bucket: ingest, Key: key, IfMatch: judged.ETag })),
      () => io.s3.send(new PutObjectCommand({ Bucket: ingest, Key: key, Body: "x", IfNoneMatch: "*" })),
      () => io.s3.send(new PutObjectCommand({ Bucket: ingest, Key: key, Body: "x", IfMatch: judged.ETag })),
    ];
    for (const attempt of refused)
      expect(await failure(attempt())).toEqual({ name: "PreconditionFailed", status: 412 });
    const upload = await io.s3.send(new CreateMultipartUploadCommand({ Bucket: clean, Key: key }));
    expect(
      await failure(
        io.s3.send(
          new UploadPartCopyCommand({
            Bucket: clean,
            Key: key,
            UploadId: upload.UploadId,
            PartNumber: 1,
            CopySource: source,
            CopySourceIfMatch: judged.ETag,
          }),
        ),
      ),
    ).toEqual({ name: "PreconditionFailed", status: 412 });
    // Nothing reached the clean bucket; the newer object is still in the ingest bucket.
    expect(await failure(io.s3.send(new HeadObjectCommand({ Bucket: clean, Key: key })))).toMatchObject({
      status: 404,
    });
    const current = await io.s3.send(new GetObjectCommand({ Bucket: ingest, Key: key }));
    expect(await current.Body?.transformToString()).toBe("EICAR came later\n");
    // Pinned by version id, the judged bytes are what is copied.
    await io.s3.send(
      new CopyObjectCommand({
        Bucket: clean,
        Key: key,
        CopySource: `${source}?versionId=${judged.VersionId}`,
        CopySourceIfMatch: judged.ETag,
      }),
    );
    const copied = await io.s3.send(new GetObjectCommand({ Bucket: clean, Key: key }));
    expect(await copied.Body?.transformToString()).toBe("judged\n");
  });
});

describe("no request takes the local stack down", () => {
  it("answers a multipart complete naming a part never uploaded with 400 InvalidPart, and keeps serving", async () => {
    const key = `uploads/${unique()}/parts.txt`;
    const upload = await io.s3.send(new CreateMultipartUploadCommand({ Bucket: ingest, Key: key }));
    const part = await io.s3.send(
      new UploadPartCommand({
        Bucket: ingest,
        Key: key,
        UploadId: upload.UploadId,
        PartNumber: 1,
        Body: "tail",
      }),
    );
    const missing = await failure(
      io.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: ingest,
          Key: key,
          UploadId: upload.UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: part.ETag },
              { PartNumber: 2, ETag: part.ETag },
            ],
          },
        }),
      ),
    );
    expect(missing).toEqual({ name: "InvalidPart", status: 400 });
    const done = await io.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: ingest,
        Key: key,
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect(done.ETag).toMatch(/-1"$/);
    const alice = await mintToken(stack.state.api, { sub: "alice" });
    const files = await fetch(`${stack.state.api.url}/files`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    expect(files.status).toBe(200);
  });

  it.each([
    ["the gateway", () => stack.state.api.url],
    ["the console", () => (stack.state.console?.url ?? "").replace(/\/$/, "")],
    ["S3", () => stack.state.endpoints.s3],
  ])("answers malformed paths on %s with 400 and stays up", async (_name, base) => {
    const alice = await mintToken(stack.state.api, { sub: "alice" });
    for (const path of ["/%E0%A4%A", "/files/%E0%A4%A", "/files/%E0%A4%A/download", "/%", "/a%zz"]) {
      const res = await fetch(`${base()}${path}`, { headers: { authorization: `Bearer ${alice}` } });
      expect(res.status, path).toBe(400);
      await res.text();
    }
    const res = await fetch(`${stack.state.api.url}/files`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    expect(res.status).toBe(200);
    const page = await fetch(stack.state.console?.url ?? "");
    expect(page.status).toBe(200);
  });
});
