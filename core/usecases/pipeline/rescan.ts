/**
 * Rescanning a held file after a signature update or a transient engine error: the record of exactly the held
 * version is re-opened (a conditional write: only a held, unpromoted file in the status the operator saw), an
 * audit entry says who asked, and a synthetic event for that version goes through the fan-out. The stages that
 * already reported skip it; the scan stage judges again, and settlement decides once more, exactly once.
 */
import { syntheticEvent } from "../../domain/events.ts";
import type { FileRecord, FileStatus } from "../../domain/types.ts";
import type { AuditLog, FileRecords, FileRescans } from "../../ports/index.ts";
import { RescanRefusedError } from "./errors.ts";

/** Verdicts a rescan may re-open: a VERIFIED file is already promoted, a DELETED one has nothing left to scan. */
export const RESCANNABLE: readonly FileStatus[] = ["FAILED", "REJECTED", "INFECTED"];

export { RescanRefusedError } from "./errors.ts";

export interface RescanDeps {
  records: FileRecords & FileRescans & AuditLog;
  /** Sends a synthetic S3 event through the fan-out (the sweeper's re-drive). */
  redrive(event: string): Promise<void>;
}

export async function rescan(fileId: string, actor: string, deps: RescanDeps): Promise<FileRecord> {
  const record = await deps.records.get(fileId);
  if (!record) throw new RescanRefusedError(`No file with id ${fileId}`);
  if (!RESCANNABLE.includes(record.status))
    throw new RescanRefusedError(
      `${fileId} is ${record.status}; only ${RESCANNABLE.join(", ")} files held in quarantine can be rescanned`,
    );
  if (record.promotedAt)
    throw new RescanRefusedError(`${fileId} was promoted; there is nothing held to rescan`);
  const reopened = await deps.records.reopenForRescan(fileId, record.version, record.status);
  if (!reopened.won)
    throw new RescanRefusedError(
      `${fileId} changed while rescanning was asked for (now ${reopened.record.status}); look again and retry`,
    );
  await deps.records.audit(fileId, {
    action: "rescan",
    actor,
    detail: { previousStatus: record.status, previousReasons: record.reasons },
  });
  await deps.redrive(syntheticEvent(reopened.record));
  return reopened.record;
}
