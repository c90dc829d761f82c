/**
 * One stage's work on one object version: register the version, judge it once, record the result with a
 * conditional write, and settle the verdict if this result completed the set. Every step is idempotent, so
 * duplicate, redelivered and out-of-order events converge on one verdict and one notification.
 */
import type { ObjectCreated } from "../domain/events.ts";
import { describeKey } from "../domain/keys.ts";
import type { FileRecord, ObjectVersion, StageName, StageResult } from "../domain/types.ts";
import { ObjectVersionGoneError } from "../ports.ts";
import { type SettleDeps, type SettleOutcome, settle } from "./settle.ts";

/**
 * Judges one object version. `undefined` means the result is not known yet and will be recorded by a
 * continuation (the metadata stage waiting for a required OCR job); the verdict waits for it.
 */
export type Judge = (version: ObjectVersion, record: FileRecord) => Promise<StageResult | undefined>;

/** What the key says about its file; for API uploads the owner comes from the upload session. */
async function resolveFile(version: ObjectVersion, deps: SettleDeps) {
  const file = describeKey(version.bucket, version.key);
  if (file.source !== "api") return file;
  const session = await deps.records.getUploadSession(file.fileId);
  return session ? { ...file, owner: session.owner } : file;
}

export type StageOutcome = SettleOutcome | "skipped";

export async function runStage(
  stage: StageName,
  event: ObjectCreated,
  judge: Judge,
  deps: SettleDeps,
): Promise<{ fileId: string; outcome: StageOutcome }> {
  const { version } = event;
  const file = await resolveFile(version, deps);
  const registration = await deps.records.register(version, file);
  if (registration.kind === "stale") return { fileId: file.fileId, outcome: "stale" };
  if (registration.won) {
    // The first stage to see this version records its arrival: the upload (or drop) in the audit trail.
    await deps.records.audit(file.fileId, {
      action: file.source === "api" ? "upload" : "drop",
      actor: file.owner ?? "unknown",
      detail: { key: version.key, size: version.size, versionId: version.versionId, eTag: version.eTag },
    });
  }
  let record = registration.record;
  if (record.stages[stage] === undefined && record.status === "PENDING") {
    let result: StageResult | undefined;
    try {
      result = await judge(version, record);
    } catch (error) {
      // The object was overwritten or deleted after the event: a newer event (or none) decides its fate.
      if (error instanceof ObjectVersionGoneError) return { fileId: file.fileId, outcome: "skipped" };
      await deps.records
        .noteStageFailure(file.fileId, version, stage, errorMessage(error))
        .catch(() => undefined);
      throw error;
    }
    if (result === undefined) return { fileId: file.fileId, outcome: "waiting" };
    const written = await deps.records.putStageResult(file.fileId, version, result);
    if (written.kind === "stale") return { fileId: file.fileId, outcome: "stale" };
    record = written.record;
    await deps.records.audit(file.fileId, {
      action: `stage:${stage}`,
      actor: "pipeline",
      detail: { status: result.status, reasons: result.reasons },
    });
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
  deps: SettleDeps,
): Promise<{ fileId: string; outcome: StageOutcome }> {
  const file = await resolveFile(version, deps);
  const registration = await deps.records.register(version, file);
  if (registration.kind === "stale") return { fileId: file.fileId, outcome: "stale" };
  let record = registration.record;
  if (record.stages[stage] === undefined && record.status === "PENDING") {
    const last = record.stageFailures?.[stage];
    const reason = `${stage} stage failed: ${why}${last ? ` (last error: ${last})` : ""}`;
    const written = await deps.records.putStageResult(
      file.fileId,
      version,
      stageFailure(stage, reason, version.size),
    );
    if (written.kind === "stale") return { fileId: file.fileId, outcome: "stale" };
    record = written.record;
    await deps.records.audit(file.fileId, {
      action: `stage:${stage}`,
      actor: "pipeline",
      detail: { status: "error", reason },
    });
  }
  return { fileId: file.fileId, outcome: await settle(record, deps) };
}
