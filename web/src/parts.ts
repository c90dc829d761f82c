/**
 * Multipart upload planning and scheduling: which byte range each presigned part carries, and a small pool that
 * sends a few parts at a time, retries a failed part with a growing pause, and stops everything on cancel.
 */

export interface PartUrl {
  partNumber: number;
  url: string;
  /** The Content-Length the URL is signed for: the storage service refuses any other. */
  size?: number;
}

export interface PlannedPart extends PartUrl {
  start: number;
  /** Exclusive. */
  end: number;
}

/**
 * Byte ranges for the server's part URLs; fails if the plan does not cover the file exactly, or if a part's
 * signed length is not the length of its range (the upload would be refused part by part).
 */
export function planParts(size: number, partSize: number, parts: readonly PartUrl[]): PlannedPart[] {
  if (!Number.isInteger(partSize) || partSize <= 0) throw new Error(`Invalid part size ${partSize}`);
  const expected = Math.max(1, Math.ceil(size / partSize));
  if (parts.length !== expected)
    throw new Error(`The upload plan has ${parts.length} parts; ${expected} are needed for ${size} bytes`);
  return [...parts]
    .sort((a, b) => a.partNumber - b.partNumber)
    .map((part, i) => {
      if (part.partNumber !== i + 1) throw new Error(`The upload plan skips part ${i + 1}`);
      const start = i * partSize;
      const end = Math.min(size, (i + 1) * partSize);
      if (part.size !== undefined && part.size !== end - start)
        throw new Error(
          `The upload plan does not fit the file: part ${i + 1} is signed for ${part.size} bytes, not ${end - start}`,
        );
      return { ...part, start, end };
    });
}

/** A part the storage service already holds, as `GET /uploads/{id}/parts` lists it. */
export interface StoredPart {
  partNumber: number;
  size: number;
  etag: string;
}

/**
 * A resumed multipart upload: the parts still to send (with their byte ranges) and the ones already stored.
 * Together they must cover the file exactly, each with the length of its range, as a fresh plan does.
 */
export function planResume(
  size: number,
  partSize: number,
  toSend: readonly PartUrl[],
  stored: readonly StoredPart[],
): { send: PlannedPart[]; done: StoredPart[] } {
  const held = new Map(stored.map((part) => [part.partNumber, part]));
  const all = planParts(size, partSize, [
    ...toSend,
    ...stored.map(({ partNumber, size }) => ({ partNumber, size, url: "" })),
  ]);
  const send = all.filter((part) => !held.has(part.partNumber));
  return { send, done: [...stored].sort((a, b) => a.partNumber - b.partNumber) };
}

export class CancelledError extends Error {
  constructor() {
    super("Upload cancelled");
    this.name = "CancelledError";
  }
}

export interface PoolOptions {
  concurrency: number;
  /** Tries per item, the first included. */
  attempts: number;
  /** Pause before retry number n (1-based). */
  retryDelayMs: (retry: number) => number;
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  onRetry?: (index: number, retry: number, error: unknown) => void;
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError());
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs `work` on every item, at most `concurrency` at once, retrying each failure up to `attempts` tries.
 * Resolves with the results in item order; rejects with the first error that exhausted its tries (the other
 * workers stop taking items) or with CancelledError once the signal aborts.
 */
export async function runPool<T, R>(
  items: readonly T[],
  work: (item: T, index: number, signal?: AbortSignal) => Promise<R>,
  options: PoolOptions,
): Promise<R[]> {
  const sleep = options.sleep ?? abortableSleep;
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      const item = items[index] as T;
      for (let attempt = 1; ; attempt++) {
        if (options.signal?.aborted) throw new CancelledError();
        try {
          results[index] = await work(item, index, options.signal);
          break;
        } catch (error) {
          if (options.signal?.aborted || error instanceof CancelledError) throw new CancelledError();
          if (attempt >= options.attempts) {
            failure ??= error;
            throw error;
          }
          options.onRetry?.(index, attempt, error);
          await sleep(options.retryDelayMs(attempt), options.signal);
        }
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency, items.length)) }, worker);
  const settled = await Promise.allSettled(workers);
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (options.signal?.aborted) throw new CancelledError();
  if (rejected) throw failure ?? rejected.reason;
  return results;
}
