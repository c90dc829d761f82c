/**
 * `airlock push`: a directory tree into Airlock, as the bulk uploader it was modelled on does it. A walker feeds
 * a hashing pool (disk-bound) that streams a SHA-256 of each file; a bounded queue feeds a separate upload pool
 * (network-bound). Content already VERIFIED for the system or owner, or already sent in this run, is recorded
 * as a duplicate and not sent. Transient errors are retried with backoff; every file's outcome is written to
 * the journal as it happens, so a killed run resumes where it stopped. With `wait`, the verdicts are collected
 * into the journal too.
 */
import { lstat } from "node:fs/promises";
import type { ProgressSink } from "../cli/progress.ts";
import { formatDuration, Rate, transferLine } from "../cli/progress.ts";
import { type FileRow, type Journal, type RunRow, SETTLED } from "./journal.ts";
import { AsyncQueue } from "./queue.ts";
import { FileChangedError, type Fingerprint, hashFile, openVerified } from "./read.ts";
import { RefusedError, withRetries } from "./retry.ts";
import type { KnownContent, PushTarget } from "./target.ts";
import { walk } from "./walk.ts";

export interface PushOptions {
  root: string;
  include: string[];
  exclude: string[];
  hashConcurrency: number;
  uploadConcurrency: number;
  retries: number;
  retryDelayMs: number;
  dedup: boolean;
  wait: boolean;
  /** Deadline for all verdicts; by default it grows with the bytes and files sent (`defaultBatchWait`). */
  waitTimeoutSeconds?: number;
}

export interface PushDeps {
  journal: Journal;
  target: PushTarget;
  progress: ProgressSink;
  signal: AbortSignal;
}

export interface PushSummary {
  runId: string;
  root: string;
  mode: "drop" | "api";
  target: string;
  state: "finished" | "interrupted";
  /** Files found in the tree (this session). */
  files: number;
  uploaded: number;
  duplicate: number;
  refused: number;
  failed: number;
  skipped: number;
  /** Settled by an earlier session of the same run and left alone. */
  earlier: number;
  /** Of the uploads, those found already landed after an interruption (not sent again). */
  recovered: number;
  /** Bytes sent in this session (recovered uploads not counted). */
  bytesUploaded: number;
  bytesHashed: number;
  seconds: number;
  filesPerSecond: number;
  /** Bytes sent per second of the whole session (walk, hash and upload). */
  bytesPerSecond: number;
  /** Final verdicts of the run's uploads (with `wait`). */
  verdicts: Record<string, number>;
  /** Uploads whose verdict was not final when the wait ended (with `wait`). */
  pendingVerdicts: number;
  /** Files refused, failed or not VERIFIED, with the reason (at most 20; the report has all). */
  problems: { path: string; outcome: string; reason?: string }[];
}

interface Hashed {
  path: string;
  rel: string;
  sha256: string;
  fingerprint: Fingerprint;
  previous?: FileRow;
}

/** 60 s, plus 1 s per 10 MiB and per 20 files sent: scanning time grows with both. */
export function defaultBatchWait(bytes: number, files: number): number {
  return 60 + Math.ceil(bytes / (10 * 1024 * 1024)) + Math.ceil(files / 20);
}

/** The dedup lookup failed: the run stops before uploading anything it might not need to. */
export class LookupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LookupError";
  }
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

function describeFailure(error: unknown): string {
  if (error instanceof FileChangedError) return error.message;
  const code = (error as { code?: unknown }).code;
  if (code === "ENOENT") return "the file disappeared before it could be read";
  if (code === "EACCES" || code === "EPERM") return "the file cannot be read (permission denied)";
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = (error as { name?: unknown }).name;
  const detail = message(error) || String(name ?? "error");
  return status ? `${detail} (HTTP ${status})` : detail;
}

export async function runPush(run: RunRow, options: PushOptions, deps: PushDeps): Promise<PushSummary> {
  const { journal, target, signal } = deps;
  const started = Date.now();
  const previous = new Map(journal.files(run.runId).map((r) => [r.path, r]));
  /** SHA-256 → the path that claimed it in this run (the others are duplicates of it). */
  const claimed = new Map<string, string>();
  for (const r of previous.values())
    if (r.sha256 && (r.outcome === "uploaded" || r.outcome === "uploading")) claimed.set(r.sha256, r.path);

  // Stops both pools: the caller's signal (Ctrl-C), or a dedup lookup that failed (then nothing is uploaded).
  const halt = new AbortController();
  const stopAll = () => halt.abort();
  if (signal.aborted) halt.abort();
  signal.addEventListener("abort", stopAll, { once: true });
  let lookupError: unknown;
  const verified: Promise<Map<string, KnownContent>> = options.dedup
    ? target.verifiedDigests().catch((error: unknown) => {
        lookupError = error;
        halt.abort();
        return new Map<string, KnownContent>();
      })
    : Promise.resolve(new Map());

  const counts = {
    files: 0,
    uploaded: 0,
    duplicate: 0,
    refused: 0,
    failed: 0,
    skipped: 0,
    earlier: 0,
    recovered: 0,
  };
  let totalBytes = 0;
  let settledBytes = 0;
  let sentBytes = 0;
  let hashedBytes = 0;
  let uploadedBytes = 0;
  let walking = true;
  const rate = new Rate();
  const settled = () => counts.uploaded + counts.duplicate + counts.refused + counts.failed + counts.earlier;

  const draw = (force = false) =>
    deps.progress.update(() => {
      const done = settledBytes + sentBytes;
      rate.add(done);
      const perSecond = rate.perSecond();
      const eta = !walking && perSecond > 0 ? (totalBytes - done) / perSecond : Number.NaN;
      const files = `${settled().toLocaleString("en")}/${counts.files.toLocaleString("en")}${walking ? "+" : ""} files`;
      const extra = [
        counts.duplicate ? `${counts.duplicate} dup` : "",
        counts.refused ? `${counts.refused} refused` : "",
        counts.failed ? `${counts.failed} failed` : "",
      ]
        .filter(Boolean)
        .join(", ");
      return `${files} ${transferLine(done, totalBytes, perSecond, eta)}${extra ? `  (${extra})` : ""}`;
    }, force);
  const ticker = setInterval(() => draw(), 250);

  const walker = walk(options.root, { include: options.include, exclude: options.exclude });
  const queue = new AsyncQueue<Hashed>(Math.max(16, options.uploadConcurrency * 4));

  const hashWorker = async () => {
    while (!halt.signal.aborted) {
      const next = await walker.next();
      if (next.done) return;
      const entry = next.value;
      if (entry.kind === "skipped") {
        counts.skipped++;
        journal.record(run.runId, entry.rel, { outcome: "skipped", reason: entry.reason });
        continue;
      }
      counts.files++;
      const prev = previous.get(entry.rel);
      let size = 0;
      try {
        const stats = await lstat(entry.path);
        size = stats.size;
        totalBytes += size;
        if (prev && SETTLED.includes(prev.outcome) && prev.size === size && prev.mtimeMs === stats.mtimeMs) {
          counts.earlier++;
          settledBytes += size;
          continue;
        }
        const { sha256, fingerprint } = await hashFile(entry.path, (n) => {
          hashedBytes += n;
        });
        journal.record(run.runId, entry.rel, {
          outcome: prev?.outcome === "uploading" ? "uploading" : "hashed",
          size: fingerprint.size,
          mtimeMs: fingerprint.mtimeMs,
          sha256,
        });
        await queue.put({ path: entry.path, rel: entry.rel, sha256, fingerprint, previous: prev });
      } catch (error) {
        counts.failed++;
        settledBytes += size;
        journal.record(run.runId, entry.rel, { outcome: "failed", reason: describeFailure(error) });
      }
    }
  };

  const uploadWorker = async () => {
    for (;;) {
      const file = await queue.take();
      if (!file) return;
      const size = file.fingerprint.size;
      const known = (await verified).get(file.sha256);
      if (halt.signal.aborted) return;
      // An upload the stopped run had started is this file's own: if it landed, that is its outcome (it may
      // even be VERIFIED by now, which is not a duplicate of something else).
      if (file.previous?.outcome === "uploading") {
        const landed = await target
          .landed({
            rel: file.rel,
            sha256: file.sha256,
            key: file.previous.key,
            fileId: file.previous.fileId,
          })
          .catch(() => undefined);
        if (landed) {
          claimed.set(file.sha256, file.rel);
          counts.uploaded++;
          counts.recovered++;
          settledBytes += size;
          journal.record(run.runId, file.rel, {
            outcome: "uploaded",
            key: landed.key,
            fileId: landed.fileId,
            eTag: landed.eTag ?? null,
            reason: "landed before the run was interrupted; not sent again",
          });
          continue;
        }
      }
      if (known) {
        counts.duplicate++;
        settledBytes += size;
        journal.record(run.runId, file.rel, {
          outcome: "duplicate",
          reason: `already VERIFIED as ${known.name} (${known.fileId})`,
          duplicateOf: known.fileId,
        });
        continue;
      }
      const first = claimed.get(file.sha256);
      if (first !== undefined && first !== file.rel) {
        counts.duplicate++;
        settledBytes += size;
        journal.record(run.runId, file.rel, {
          outcome: "duplicate",
          reason: `same content as ${first} in this run`,
          duplicateOf: first,
        });
        continue;
      }
      claimed.set(file.sha256, file.rel);
      const baseAttempts = file.previous?.attempts ?? 0;
      let attempts = baseAttempts;
      try {
        const uploaded = await withRetries(
          async (attempt) => {
            attempts = baseAttempts + attempt;
            let sent = 0;
            try {
              return await target.upload({
                path: file.path,
                rel: file.rel,
                size,
                sha256: file.sha256,
                fingerprint: file.fingerprint,
                signal: halt.signal,
                open: () =>
                  openVerified(file.path, { sha256: file.sha256, fingerprint: file.fingerprint }, (n) => {
                    sent += n;
                    sentBytes += n;
                  }),
                // Written through before any byte leaves: a resumed run then checks whether it landed.
                planned: (where) => {
                  journal.record(run.runId, file.rel, {
                    outcome: "uploading",
                    key: where.key,
                    fileId: where.fileId ?? null,
                    attempts: baseAttempts + attempt,
                    ...(attempt === 1 ? { reason: null } : {}),
                  });
                  journal.flush();
                },
              });
            } catch (error) {
              sentBytes -= sent;
              throw error;
            }
          },
          {
            retries: options.retries,
            baseMs: options.retryDelayMs,
            signal: halt.signal,
            onRetry: (attempt, error) =>
              journal.record(run.runId, file.rel, {
                outcome: "uploading",
                reason: `attempt ${attempt} failed (${describeFailure(error)}); retrying`,
              }),
          },
        );
        sentBytes -= size;
        settledBytes += size;
        uploadedBytes += size;
        counts.uploaded++;
        journal.record(run.runId, file.rel, {
          outcome: "uploaded",
          key: uploaded.key,
          fileId: uploaded.fileId,
          eTag: uploaded.eTag ?? null,
          attempts,
          reason: null,
        });
      } catch (error) {
        // Interrupted mid-upload: the row stays `uploading`; a resume checks whether it landed.
        if (halt.signal.aborted) return;
        settledBytes += size;
        if (error instanceof RefusedError) {
          counts.refused++;
          journal.record(run.runId, file.rel, { outcome: "refused", reason: error.message, attempts });
        } else {
          counts.failed++;
          journal.record(run.runId, file.rel, {
            outcome: "failed",
            reason: describeFailure(error),
            attempts,
          });
        }
      }
    }
  };

  const hashing = Promise.all(Array.from({ length: options.hashConcurrency }, hashWorker)).finally(() => {
    walking = false;
    queue.close();
  });
  const uploading = Promise.all(Array.from({ length: options.uploadConcurrency }, uploadWorker));
  const closeQueue = () => queue.close();
  halt.signal.addEventListener("abort", closeQueue, { once: true });
  try {
    await Promise.all([hashing, uploading]);
  } finally {
    clearInterval(ticker);
    signal.removeEventListener("abort", stopAll);
    await walker.return(undefined);
  }
  if (lookupError) {
    journal.endRun(run.runId, "interrupted");
    deps.progress.clear();
    throw new LookupError(`Could not look up content already VERIFIED: ${message(lookupError)}`);
  }

  let verdicts: Record<string, number> = {};
  let pendingVerdicts = 0;
  if (options.wait && !signal.aborted) {
    ({ verdicts, pending: pendingVerdicts } = await collectVerdicts(run, options, deps));
  }
  const interrupted = signal.aborted;
  journal.endRun(run.runId, interrupted ? "interrupted" : "finished");
  deps.progress.clear();

  const seconds = (Date.now() - started) / 1000;
  const rows = journal.files(run.runId);
  const problems = rows
    .filter(
      (r) =>
        r.outcome === "refused" ||
        r.outcome === "failed" ||
        (r.verdict !== undefined && r.verdict !== "VERIFIED"),
    )
    .slice(0, 20)
    .map((r) => ({
      path: r.path,
      outcome: r.verdict && r.outcome === "uploaded" ? r.verdict : r.outcome,
      reason: r.verdict && r.outcome === "uploaded" ? r.verdictReasons?.join("; ") : r.reason,
    }));
  return {
    runId: run.runId,
    root: options.root,
    mode: target.mode,
    target: target.description,
    state: interrupted ? "interrupted" : "finished",
    ...counts,
    bytesUploaded: uploadedBytes,
    bytesHashed: hashedBytes,
    seconds: Math.round(seconds * 100) / 100,
    filesPerSecond: seconds > 0 ? Math.round((counts.files / seconds) * 10) / 10 : 0,
    bytesPerSecond: seconds > 0 ? Math.round(uploadedBytes / seconds) : 0,
    verdicts,
    pendingVerdicts,
    problems,
  };
}

/** Polls the verdict of every upload of the run until all are final or the deadline passes. */
async function collectVerdicts(
  run: RunRow,
  options: PushOptions,
  deps: PushDeps,
): Promise<{ verdicts: Record<string, number>; pending: number }> {
  const { journal, target, signal } = deps;
  let pending = journal
    .files(run.runId)
    .filter(
      (r) => r.outcome === "uploaded" && r.fileId && (r.verdict === undefined || r.verdict === "PENDING"),
    );
  const bytes = pending.reduce((sum, r) => sum + (r.size ?? 0), 0);
  const timeout = options.waitTimeoutSeconds ?? defaultBatchWait(bytes, pending.length);
  const total = pending.length;
  const started = Date.now();
  while (pending.length > 0 && !signal.aborted) {
    const still: FileRow[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(16, pending.length) }, async () => {
        while (next < pending.length) {
          const row = pending[next++] as FileRow;
          const verdict = await target.verdict(row.fileId as string, row.eTag).catch(() => undefined);
          if (verdict?.final) {
            journal.record(run.runId, row.path, {
              outcome: "uploaded",
              verdict: verdict.status,
              verdictReasons: verdict.reasons,
            });
          } else still.push(row);
        }
      }),
    );
    pending = still;
    const waited = (Date.now() - started) / 1000;
    deps.progress.update(
      () =>
        `Waiting for verdicts: ${(total - pending.length).toLocaleString("en")}/${total.toLocaleString("en")} final  ${formatDuration(waited)}`,
      true,
    );
    if (pending.length === 0 || waited > timeout) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  return { verdicts: journal.counts(run.runId).verdicts, pending: pending.length };
}
