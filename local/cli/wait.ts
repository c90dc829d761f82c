/**
 * Waiting for a verdict: polls the file record until it is final, with a deadline that grows with the file's
 * size (a 1 GiB file takes tens of seconds to scan) and a progress line saying what each stage has answered.
 */
import { FINAL_STATUSES, type FileRecord, STAGES } from "../../core/domain/types.ts";
import { formatDuration, type ProgressSink } from "./progress.ts";

/** 60 s plus one second per 10 MiB: well above the ~50 s a 1 GiB file takes on a small machine. */
export function defaultWaitSeconds(size: number): number {
  return 60 + Math.ceil(size / (10 * 1024 * 1024));
}

/** Final for a caller: decided, and for VERIFIED also promoted (downloadable from the clean bucket). */
export function isFinal(record: FileRecord): boolean {
  if (!(FINAL_STATUSES as readonly string[]).includes(record.status)) return false;
  return record.status !== "VERIFIED" || record.cleanKey !== undefined;
}

export function stageSummary(record: FileRecord | undefined): string {
  if (!record) return "not registered yet";
  if (record.status === "VERIFIED" && !record.cleanKey) return "VERIFIED, being promoted";
  if (record.status !== "PENDING") return record.status;
  return STAGES.map((s) => `${s} ${record.stages[s]?.status ?? "…"}`).join(", ");
}

export interface WaitResult {
  record?: FileRecord;
  final: boolean;
  timeoutSeconds: number;
}

export async function waitForVerdict(
  get: (fileId: string) => Promise<FileRecord | undefined>,
  fileId: string,
  options: {
    /** Fixed deadline; by default `defaultWaitSeconds` of the record's size. */
    timeoutSeconds?: number;
    /** Wait for the record of this object version (an earlier drop of the same key may be final already). */
    eTag?: string;
    progress: ProgressSink;
    pollMs?: number;
  },
): Promise<WaitResult> {
  const started = Date.now();
  const sameVersion = (r: FileRecord) =>
    options.eTag === undefined || (r.version.eTag ?? "").replace(/"/g, "") === options.eTag.replace(/"/g, "");
  for (;;) {
    const found = await get(fileId);
    const record = found && sameVersion(found) ? found : undefined;
    const timeoutSeconds = options.timeoutSeconds ?? defaultWaitSeconds(record?.size ?? found?.size ?? 0);
    if (record && isFinal(record)) {
      options.progress.clear();
      return { record, final: true, timeoutSeconds };
    }
    const waited = (Date.now() - started) / 1000;
    if (waited > timeoutSeconds) {
      options.progress.clear();
      return { record: found, final: false, timeoutSeconds };
    }
    options.progress.update(
      () => `Waiting for the verdict of ${fileId}: ${stageSummary(record)}  ${formatDuration(waited)}`,
    );
    await new Promise((r) => setTimeout(r, options.pollMs ?? 150));
  }
}
