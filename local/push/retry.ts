/**
 * Retries with exponential backoff and full jitter, for transient errors only: network failures, timeouts,
 * throttling, 408/429 and 5xx. A refusal (any other 4xx), a local file error or a changed file is final at once.
 */
import { errorCode } from "../cli/errors.ts";
import { FileChangedError } from "./read.ts";

/** The server said no to this file (a 4xx other than 408/429): the reason is the server's own words. */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RefusedError";
  }
}

/** An HTTP answer from a presigned S3 URL (no SDK in between), with whether trying again could help. */
export class HttpStatusError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly status: number,
    message: string,
    retryable?: boolean,
  ) {
    super(message);
    this.name = "HttpStatusError";
    this.retryable = retryable ?? (status === 408 || status === 429 || status >= 500);
  }
}

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
]);

const TRANSIENT_NAMES = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "InternalError",
  "ServiceUnavailable",
]);

export function isTransient(error: unknown): boolean {
  if (error instanceof RefusedError || error instanceof FileChangedError) return false;
  if (!error || typeof error !== "object") return false;
  const e = error as {
    retryable?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
    name?: unknown;
  };
  if (typeof e.retryable === "boolean") return e.retryable;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === "number" && status > 0) return status === 408 || status === 429 || status >= 500;
  if (typeof e.name === "string" && TRANSIENT_NAMES.has(e.name)) return true;
  const code = errorCode(error);
  return code !== undefined && NETWORK_CODES.has(code);
}

export interface RetryOptions {
  /** Attempts after the first. */
  retries: number;
  /** The first delay; each further one doubles up to `maxMs`; half of it is drawn at random ("equal jitter"), so parallel workers spread out. */
  baseMs: number;
  maxMs?: number;
  signal?: AbortSignal;
  random?: () => number;
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
}

export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** Runs `work(attempt)` (1-based) until it succeeds, fails for good, or the retries are spent. */
export async function withRetries<T>(
  work: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (options.signal?.aborted || attempt > options.retries || !isTransient(error)) throw error;
      const delay = backoffMs(attempt - 1, options.baseMs, options.maxMs ?? 10_000, options.random);
      options.onRetry?.(attempt, error, delay);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        options.signal?.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  }
}
