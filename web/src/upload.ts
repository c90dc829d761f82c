/**
 * One file's upload: ask the API for a plan (which refuses a wrong type or size before any byte is sent), then
 * either a presigned POST form or a multipart upload with a few parts in flight, failed parts retried and
 * cancel aborting the multipart upload on the server. Progress comes from XMLHttpRequest's upload events,
 * which fetch does not offer.
 */
import { type Api, ApiError } from "./api.ts";
import { contentTypeFor } from "./content-type.ts";
import { CancelledError, planParts, runPool } from "./parts.ts";

export interface UploadEvents {
  /** The plan is known: `parts` is 0 for a single POST. */
  onPlan?(fileId: string, parts: number): void;
  onProgress?(loaded: number, total: number): void;
  onPartProgress?(index: number, loaded: number, total: number): void;
  onPartRetry?(index: number, retry: number, message: string): void;
}

export interface UploadOptions extends UploadEvents {
  signal: AbortSignal;
  concurrency?: number;
  attempts?: number;
}

/** A transfer refused or broken by the storage service, with its message when it sent one. */
export class TransferError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TransferError";
  }
}

function s3Message(xhr: XMLHttpRequest): string {
  const text = typeof xhr.responseText === "string" ? xhr.responseText : "";
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  return message ? `${message} (${xhr.status})` : `the storage service answered ${xhr.status}`;
}

function send(
  method: "POST" | "PUT",
  url: string,
  body: Blob | FormData,
  signal: AbortSignal,
  onProgress: (loaded: number) => void,
): Promise<XMLHttpRequest> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new CancelledError());
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () =>
      xhr.status >= 200 && xhr.status < 300 ? resolve(xhr) : reject(new TransferError(s3Message(xhr)));
    xhr.onerror = () => reject(new TransferError("the connection to the storage service failed"));
    xhr.onabort = () => reject(new CancelledError());
    signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

/** Uploads one file; resolves with its file id. Throws ApiError (refusal), TransferError or CancelledError. */
export async function uploadFile(api: Api, file: File, options: UploadOptions): Promise<string> {
  const plan = await api.presign({
    filename: file.name,
    contentType: contentTypeFor(file.name, file.type),
    size: file.size,
  });
  const { upload } = plan;
  if (upload.method === "POST") {
    options.onPlan?.(plan.fileId, 0);
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append("file", file);
    await send("POST", upload.url, form, options.signal, (loaded) =>
      options.onProgress?.(Math.min(loaded, file.size), file.size),
    );
    options.onProgress?.(file.size, file.size);
    return plan.fileId;
  }

  const parts = planParts(file.size, upload.partSize, upload.parts);
  options.onPlan?.(plan.fileId, parts.length);
  const sent = parts.map(() => 0);
  const report = (index: number, loaded: number) => {
    sent[index] = loaded;
    const part = parts[index];
    if (part) options.onPartProgress?.(index, loaded, part.end - part.start);
    options.onProgress?.(
      sent.reduce((a, b) => a + b, 0),
      file.size,
    );
  };
  try {
    const etags = await runPool(
      parts,
      async (part, index, signal) => {
        report(index, 0);
        const xhr = await send(
          "PUT",
          part.url,
          file.slice(part.start, part.end),
          signal ?? options.signal,
          (loaded) => report(index, loaded),
        );
        const etag = xhr.getResponseHeader("ETag");
        if (!etag)
          throw new TransferError(
            "the storage service did not return the part's ETag (check its CORS ExposeHeaders)",
          );
        report(index, part.end - part.start);
        return { partNumber: part.partNumber, etag };
      },
      {
        concurrency: options.concurrency ?? 4,
        attempts: options.attempts ?? 4,
        retryDelayMs: (retry) => 500 * 2 ** (retry - 1),
        signal: options.signal,
        onRetry: (index, retry, error) =>
          options.onPartRetry?.(index, retry, error instanceof Error ? error.message : String(error)),
      },
    );
    await api.complete(plan.fileId, etags);
    return plan.fileId;
  } catch (error) {
    // Whatever stopped the upload, the parts already stored are dropped on the server.
    await api.abort(plan.fileId).catch(() => undefined);
    if (error instanceof ApiError || error instanceof CancelledError) throw error;
    throw error instanceof TransferError ? error : new TransferError(String(error));
  }
}
