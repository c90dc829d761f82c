/**
 * One file's upload: ask the API for a plan (which refuses a wrong type or size before any byte is sent), then
 * either a presigned POST form or a multipart upload with a few parts in flight, failed parts retried,
 * cancel aborting the multipart upload on the server, and an interrupted one resumable (see resume.ts). Progress comes from XMLHttpRequest's upload events,
 * which fetch does not offer.
 */
import { type Api, ApiError, type ResumePlan } from "./api.ts";
import { contentTypeFor } from "./content-type.ts";
import { CancelledError, planResume, runPool } from "./parts.ts";
import type { ResumeStore } from "./resume.ts";

export interface UploadEvents {
  /** The plan is known: `parts` is 0 for a single POST; `stored` of them are already uploaded (a resume). */
  onPlan?(fileId: string, parts: number, stored: number): void;
  onProgress?(loaded: number, total: number): void;
  onPartProgress?(index: number, loaded: number, total: number): void;
  onPartRetry?(index: number, retry: number, message: string): void;
}

export interface UploadOptions extends UploadEvents {
  signal: AbortSignal;
  concurrency?: number;
  attempts?: number;
  /** Where open multipart uploads are remembered so that they can be resumed. */
  resume?: ResumeStore;
}

/** A transfer refused or broken by the storage service, with its message when it sent one. */
export class TransferError extends Error {
  /** The parts already stored were kept: choosing the file again resumes the upload. */
  resumable = false;
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

/** Why an upload was stopped without cancelling it: the page is signing out or its session ended. */
export const SUSPEND = "suspend";

/**
 * Uploads one file; resolves with its file id. Throws ApiError (refusal), TransferError or CancelledError.
 * With a resume store, a multipart upload is remembered until it completes: choosing the same file again after
 * a reload (or after a transfer failed) sends only the parts the storage service does not hold yet.
 */
export async function uploadFile(api: Api, file: File, options: UploadOptions): Promise<string> {
  const saved = options.resume?.get(file);
  if (saved) {
    let resumed: ResumePlan | undefined;
    try {
      resumed = await api.parts(saved.fileId);
    } catch (error) {
      // Gone (404), completed, aborted or expired (409): start afresh; anything else is said as it is.
      if (!(error instanceof ApiError) || (error.status !== 404 && error.status !== 409)) throw error;
      options.resume?.forget(file);
      if (error.status === 409) await api.abort(saved.fileId).catch(() => undefined);
    }
    if (resumed) {
      const { partSize, parts, uploaded } = resumed.upload;
      return multipart(api, file, resumed.fileId, planResume(file.size, partSize, parts, uploaded), options);
    }
  }
  const plan = await api.presign({
    filename: file.name,
    contentType: contentTypeFor(file.name, file.type),
    size: file.size,
  });
  const { upload } = plan;
  if (upload.method === "POST") {
    options.onPlan?.(plan.fileId, 0, 0);
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append("file", file);
    await send("POST", upload.url, form, options.signal, (loaded) =>
      options.onProgress?.(Math.min(loaded, file.size), file.size),
    );
    options.onProgress?.(file.size, file.size);
    return plan.fileId;
  }
  options.resume?.save(file, plan.fileId, plan.expiresAt);
  let planned: ReturnType<typeof planResume>;
  try {
    planned = planResume(file.size, upload.partSize, upload.parts, []);
  } catch (error) {
    await api.abort(plan.fileId).catch(() => undefined);
    options.resume?.forget(file);
    throw new TransferError(error instanceof Error ? error.message : String(error));
  }
  return multipart(api, file, plan.fileId, planned, options);
}

async function multipart(
  api: Api,
  file: File,
  fileId: string,
  { send: parts, done }: ReturnType<typeof planResume>,
  options: UploadOptions,
): Promise<string> {
  options.onPlan?.(fileId, parts.length + done.length, done.length);
  const stored = done.reduce((sum, part) => sum + part.size, 0);
  const sent = parts.map(() => 0);
  const report = (index: number, loaded: number) => {
    sent[index] = loaded;
    const part = parts[index];
    if (part) options.onPartProgress?.(part.partNumber - 1, loaded, part.end - part.start);
    options.onProgress?.(stored + sent.reduce((a, b) => a + b, 0), file.size);
  };
  for (const part of done) options.onPartProgress?.(part.partNumber - 1, part.size, part.size);
  report(0, 0);
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
          options.onPartRetry?.(
            (parts[index]?.partNumber ?? index + 1) - 1,
            retry,
            error instanceof Error ? error.message : String(error),
          ),
      },
    );
    const all = [...done.map(({ partNumber, etag }) => ({ partNumber, etag })), ...etags].sort(
      (a, b) => a.partNumber - b.partNumber,
    );
    await api.complete(fileId, all);
    options.resume?.forget(file);
    return fileId;
  } catch (error) {
    const suspended = options.signal.aborted && options.signal.reason === SUSPEND;
    // A broken transfer keeps its parts for a resume when it can be resumed; a cancel, a refusal or anything
    // else drops the parts already stored on the server.
    if (suspended || (error instanceof TransferError && options.resume)) {
      if (error instanceof TransferError) error.resumable = true;
      throw error instanceof CancelledError || error instanceof TransferError
        ? error
        : new TransferError(String(error));
    }
    await api.abort(fileId).catch(() => undefined);
    options.resume?.forget(file);
    if (error instanceof ApiError || error instanceof CancelledError) throw error;
    throw error instanceof TransferError ? error : new TransferError(String(error));
  }
}
