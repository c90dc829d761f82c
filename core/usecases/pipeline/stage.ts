/**
 * One stage's work on one object version: register the version, judge it once, record the result with a
 * conditional write, and settle the verdict if this result completed the set. Every step is idempotent, so
 * duplicate, redelivered and out-of-order events converge on one verdict and one notification.
 *
 * Around the judgement: an event that pins no bytes (neither version id nor ETag) is failed without reading
 * anything; an object that is not its upload session's one object is rejected without touching the record; and
 * the clean copies of a drop superseded by a newer object of its key are withdrawn before the newer one is judged.
 */
import type { ObjectCreated } from "../../domain/events.ts";
import { describeKey } from "../../domain/keys.ts";
import { isPinned, UNPINNED_REASON } from "../../domain/pinning.ts";
import type { FileRecord, ObjectVersion, StageName, StageResult } from "../../domain/types.ts";
import { extraObjectReason } from "../../domain/upload-session.ts";
import { type FileRecords, ObjectVersionGoneError, type UploadSessionLookup } from "../../ports/index.ts";
import { type SettleDeps, type SettleOutcome, type SettleRecords, settle } from "./settle.ts";

/** The record ports a stage uses besides settlement's: registration and results, and the upload's session. */
export type StageRecords = SettleRecords & FileRecords & UploadSessionLookup;

export interface StageDeps extends SettleDeps {
  records: StageRecords;
}

/**
 * Judges one object version. `undefined` means the result is not known yet and will be recorded by a
 * continuation (the metadata stage waiting for a required OCR job); the verdict waits for it.
 */
export type Judge = (version: ObjectVersion, record: FileRecord) => Promise<StageResult | undefined>;

/** What the key says about its file; for API uploads the owner comes from the upload session. */
async function resolveFile(version: ObjectVersion, deps: StageDeps) {
  const file = describeKey(version.bucket, version.key);
  if (file.source !== "api") return file;
  const session = await deps.records.getUploadSession(file.fileId);
  return session ? { ...file, owner: session.owner } : file;
}

export type StageOutcome = SettleOutcome | "skipped" | "rejected-extra";

/** Why an upload's object could not be judged: it is gone or was replaced before a stage read it. */
export const UPLOAD_GONE_REASON = "the uploaded object was deleted or replaced before it could be judged";

/**
 * An object under an upload's key that is not the object its record belongs to: a second post of the form,
 * another owner's form aimed at the key, a post after the file was deleted. It is tagged REJECTED where it lies
 * (held, then expired like any held object) and audited on the file's trail; the record, its verdict and its
 * clean copy stay as they are. The validate stage alone does this, so it happens once per object.
 */
async function rejectExtraObject(version: ObjectVersion, record: FileRecord, deps: StageDeps) {
  if (!isPinned(version)) return;
  const reason = extraObjectReason(record.status);
  await deps.objects.tag(version, { "airlock-status": "REJECTED" });
  await deps.records.audit(record.fileId, {
    action: "reject-extra-object",
    actor: "pipeline",
    detail: { key: version.key, versionId: version.versionId, eTag: version.eTag, reason },
  });
}

/**
 * A drop's record taken over by a newer object of its key still lists what the older one put into the clean
 * bucket: withdraw exactly those copies before the newer object is judged, so the clean bucket never holds bytes
 * whose record says otherwise. Every stage does this before judging, so no verdict of the newer object can come
 * before the withdrawal.
 */
async function withdrawSuperseded(record: FileRecord, deps: StageDeps): Promise<void> {
  const copy = record.cleanCopy;
  if (!copy || copy.sequencer === record.version.sequencer) return;
  await deps.objects.withdraw(deps.cleanBucket, copy);
  if (copy.text) await deps.objects.withdraw(deps.cleanBucket, copy.text);
  await deps.records.forgetCleanCopy(record.fileId, copy.sequencer);
  await deps.records.audit(record.fileId, {
    action: "withdraw",
    actor: "pipeline",
    detail: { key: copy.key, versionId: copy.versionId, reason: "superseded by a newer object of the key" },
  });
}

export async function runStage(
  stage: StageName,
  event: ObjectCreated,
  judge: Judge,
  deps: StageDeps,
): Promise<{ fileId: string; outcome: StageOutcome }> {
  const { version } = event;
  const file = await resolveFile(version, deps);
  // The first stage to see this version records its arrival, the upload (or drop), in the audit trail: the
  // entry goes with the registration that wins, in the same write.
  const registration = await deps.records.register(version, file, {
    action: file.source === "api" ? "upload" : "drop",
    actor: file.owner ?? "unknown",
    detail: { key: version.key, size: version.size, versionId: version.versionId, eTag: version.eTag },
  });
  if (registration.kind === "stale") {
    if (file.source !== "api") return { fileId: file.fileId, outcome: "stale" };
    if (stage === "validate") await rejectExtraObject(version, registration.record, deps);
    return { fileId: file.fileId, outcome: "rejected-extra" };
  }
  let record = registration.record;
  await withdrawSuperseded(record, deps);
  // Judged is what the record registered (the same S3 write as this event's, by its sequencer), so the bytes
  // every stage reads are the bytes promotion copies: settlement pins the copy to this same version.
  const judged = record.version;
  if (record.stages[stage] === undefined && record.status === "PENDING") {
    let result: StageResult | undefined;
    if (!isPinned(judged)) {
      // Nothing may be read: whatever lies under the key now need not be what the event announced.
      result = stageFailure(stage, UNPINNED_REASON, judged.size);
    } else {
      try {
        result = await judge(judged, record);
      } catch (error) {
        if (!(error instanceof ObjectVersionGoneError)) {
          await deps.records
            .noteStageFailure(file.fileId, version, stage, errorMessage(error))
            .catch(() => undefined);
          throw error;
        }
        // Overwritten or deleted after the event. A drop's newer object has its own event (or the sweeper fails
        // the file); an upload's record can never move on to another object, so it ends FAILED now.
        if (file.source !== "api") return { fileId: file.fileId, outcome: "skipped" };
        result = stageFailure(stage, UPLOAD_GONE_REASON, judged.size);
      }
    }
    if (result === undefined) return { fileId: file.fileId, outcome: "waiting" };
    // Audited by the write that records the result (a redelivery that finds it recorded adds nothing).
    const written = await deps.records.putStageResult(file.fileId, version, result, {
      action: `stage:${stage}`,
      actor: "pipeline",
      detail: { status: result.status, reasons: result.reasons },
    });
    if (written.kind === "stale") return { fileId: file.fileId, outcome: "stale" };
    record = written.record;
  }
  return { fileId: file.fileId, outcome: await settle(record, deps) };
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** A stage result that records an operational failure of the stage itself (dead-lettered, timed out). */
export function stageFailure(stage: StageName, reason: string, size: number): StageResult {
  const at = new Date().toISOString();
  const reasons = [reason];
  if (stage === "validate") return { stage, status: "error", reasons, size, at };
  if (stage === "scan") return { stage, status: "error", engines: [], reasons, at };
  return { stage, status: "error", reasons, at };
}

/**
 * Records that a stage gave up on an object version (its message was dead-lettered, or it never reported),
 * then settles: the file ends FAILED with the reason and is never promoted.
 */
export async function failStage(
  stage: StageName,
  version: ObjectVersion,
  why: string,
  deps: StageDeps,
): Promise<{ fileId: string; outcome: StageOutcome }> {
  const file = await resolveFile(version, deps);
  const registration = await deps.records.register(version, file, {
    action: file.source === "api" ? "upload" : "drop",
    actor: file.owner ?? "unknown",
    detail: { key: version.key, size: version.size, versionId: version.versionId, eTag: version.eTag },
  });
  if (registration.kind === "stale") return { fileId: file.fileId, outcome: "stale" };
  let record = registration.record;
  await withdrawSuperseded(record, deps);
  if (record.stages[stage] === undefined && record.status === "PENDING") {
    const last = record.stageFailures?.[stage];
    const reason = `${stage} stage failed: ${why}${last ? ` (last error: ${last})` : ""}`;
    const written = await deps.records.putStageResult(
      file.fileId,
      version,
      stageFailure(stage, reason, version.size),
      { action: `stage:${stage}`, actor: "pipeline", detail: { status: "error", reason } },
    );
    if (written.kind === "stale") return { fileId: file.fileId, outcome: "stale" };
    record = written.record;
  }
  return { fileId: file.fileId, outcome: await settle(record, deps) };
}
