/**
 * Push adapter for the HTTP API: `POST /uploads` with the file's size, type and SHA-256 (the pipeline checks the
 * bytes against it), then the bytes straight to S3 — a streamed presigned POST for small files, presigned part
 * PUTs and `complete` for large ones. A refusal by the API (type, size, name) is the server's own sentence.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { basename } from "node:path";
import type { Readable } from "node:stream";
import { FINAL_STATUSES } from "../../core/domain/types.ts";
import { type AirlockApi, ApiError, type MultipartUpload, type PostUpload } from "../cli/api-client.ts";
import { contentTypeFor } from "./content-type.ts";
import { HttpStatusError, RefusedError, withRetries } from "./retry.ts";
import type { KnownContent, PushTarget, Uploaded, UploadInput, Verdict } from "./target.ts";

/** The `<Code>` and `<Message>` of an S3 XML error body. */
function s3Error(body: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const text = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  return [code, text].filter(Boolean).join(": ") || body.slice(0, 200);
}

/** A 4xx from a presigned URL is final unless the URL merely expired (a fresh presign fixes that). */
function presignedFailure(status: number, body: string): Error {
  const detail = s3Error(body);
  if (status === 403 && /expired/i.test(detail))
    return new HttpStatusError(status, `the presigned URL expired (${detail})`, true);
  if (status >= 400 && status < 500 && status !== 408 && status !== 429)
    return new RefusedError(`S3 refused the upload (${status} ${detail})`);
  return new HttpStatusError(status, `S3 answered ${status} (${detail})`);
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A presigned POST sent as a stream: multipart/form-data with an exact Content-Length, the fields first and the
 * file last. If the file stream fails (it changed), the request is destroyed before its last byte, so S3 never
 * sees a complete body.
 */
export async function postForm(
  upload: PostUpload,
  body: Readable,
  size: number,
  contentType: string,
  signal: AbortSignal,
): Promise<void> {
  const boundary = `----airlock-${randomBytes(12).toString("hex")}`;
  let head = "";
  for (const [name, value] of Object.entries(upload.fields))
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="file"\r\nContent-Type: ${contentType}\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const length = Buffer.byteLength(head) + size + Buffer.byteLength(tail);
  const request = upload.url.startsWith("https:") ? httpsRequest : httpRequest;
  const req = request(upload.url, {
    method: "POST",
    headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": length },
    signal,
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.on("response", resolve);
    req.on("error", reject);
  });
  response.catch(() => {});
  try {
    req.write(head);
    for await (const chunk of body) {
      if (!req.write(chunk)) await Promise.race([once(req, "drain"), response]);
    }
    req.end(tail);
  } catch (error) {
    req.destroy();
    throw error;
  }
  const res = await response;
  const text = await readAll(res);
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) throw presignedFailure(status, text);
}

/** Splits the stream into the plan's parts and PUTs them, a few at a time, each retried on transient errors. */
async function putParts(
  upload: MultipartUpload,
  body: Readable,
  signal: AbortSignal,
  concurrency: number,
): Promise<{ partNumber: number; etag: string }[]> {
  const done: { partNumber: number; etag: string }[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const send = (partNumber: number, data: Buffer) => {
    const url = upload.parts.find((p) => p.partNumber === partNumber)?.url;
    if (!url) throw new Error(`the upload plan has no part ${partNumber}`);
    const task = withRetries(
      async () => {
        const res = await fetch(url, { method: "PUT", body: data, signal });
        const text = await res.text();
        if (!res.ok) throw presignedFailure(res.status, text);
        const etag = res.headers.get("etag");
        if (!etag) throw new Error(`S3 returned no ETag for part ${partNumber}`);
        return etag;
      },
      { retries: 3, baseMs: 250, signal },
    ).then(
      (etag) => {
        done.push({ partNumber, etag });
      },
      (error: unknown) => {
        failure ??= error;
      },
    );
    const tracked = task.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  let chunks: Buffer[] = [];
  let buffered = 0;
  let partNumber = 1;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    buffered += chunk.length;
    while (buffered >= upload.partSize) {
      const all = Buffer.concat(chunks);
      send(partNumber++, all.subarray(0, upload.partSize));
      chunks = [all.subarray(upload.partSize)];
      buffered = chunks[0]?.length ?? 0;
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (failure) throw failure;
    }
  }
  if (buffered > 0) send(partNumber, Buffer.concat(chunks));
  await Promise.all(inFlight);
  if (failure) throw failure;
  return done.sort((a, b) => a.partNumber - b.partNumber);
}

export class ApiTarget implements PushTarget {
  readonly mode = "api" as const;
  readonly description: string;

  constructor(
    private readonly api: AirlockApi,
    owner: string,
    private readonly partConcurrency = 4,
  ) {
    this.description = `${api.baseUrl} (API uploads as ${owner})`;
  }

  async check(): Promise<void> {
    await this.api.list({ limit: 1 });
  }

  destination(rel: string): string {
    return basename(rel);
  }

  async verifiedDigests(): Promise<Map<string, KnownContent>> {
    const found = new Map<string, KnownContent>();
    let cursor: string | undefined;
    do {
      const page = await this.api.list({ status: "VERIFIED", limit: 100, cursor });
      for (const f of page.files)
        if (f.sha256 && f.status === "VERIFIED")
          found.set(f.sha256, { fileId: f.fileId, name: f.name ?? f.fileId });
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return found;
  }

  async upload(file: UploadInput): Promise<Uploaded> {
    const contentType = contentTypeFor(file.rel) ?? "application/octet-stream";
    let plan: Awaited<ReturnType<AirlockApi["presign"]>>;
    try {
      plan = await this.api.presign({
        filename: this.destination(file.rel),
        contentType,
        size: file.size,
        sha256: file.sha256,
      });
    } catch (error) {
      if (error instanceof ApiError && !error.retryable) throw new RefusedError(error.message);
      throw error;
    }
    file.planned({ key: plan.key, fileId: plan.fileId });
    const body = await file.open();
    try {
      if (plan.upload.method === "POST") {
        await postForm(plan.upload, body, file.size, contentType, file.signal);
      } else {
        const parts = await putParts(plan.upload, body, file.signal, this.partConcurrency);
        await this.api.complete(plan.fileId, parts);
      }
    } catch (error) {
      body.destroy();
      if (plan.upload.method === "MULTIPART") await this.api.abort(plan.fileId).catch(() => {});
      throw error;
    }
    return { key: plan.key, fileId: plan.fileId };
  }

  async landed(file: { key?: string; fileId?: string }): Promise<Uploaded | undefined> {
    if (!file.fileId) return undefined;
    const view = await this.api.get(file.fileId).catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    });
    if (!view || view.status === "AWAITING_UPLOAD") {
      // A multipart upload left open by the interrupted run is given up; the file is sent again.
      await this.api.abort(file.fileId).catch(() => {});
      return undefined;
    }
    return { key: file.key ?? view.name ?? file.fileId, fileId: file.fileId };
  }

  async verdict(fileId: string): Promise<Verdict | undefined> {
    const view = await this.api.get(fileId).catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    });
    if (!view) return undefined;
    return {
      status: view.status,
      reasons: view.reasons ?? [],
      final: (FINAL_STATUSES as readonly string[]).includes(view.status),
    };
  }
}
