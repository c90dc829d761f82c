/**
 * GuardDuty's half of the scan: its result event is matched to the file record of exactly the object version it
 * scanned, kept, and — when the scan stage's own engines have already answered — combined with them into the
 * scan result, after which the verdict is settled as by any stage. Whichever half comes second records the
 * scan; a result for an older version is ignored; one that arrives before the record exists is retried.
 */
import { describeKey } from "../../domain/keys.ts";
import { type GuardDutyResultEvent, guardDutyEngineResult } from "../../domain/scan/guardduty.ts";
import type { FileRecord } from "../../domain/types.ts";
import type { FileRecords, ScanPartStore } from "../../ports/index.ts";
import { NotYetRegisteredError } from "./errors.ts";
import { scanResultOf } from "./judges.ts";
import { type SettleDeps, type SettleRecords, settle } from "./settle.ts";

export interface GuardDutyDeps extends SettleDeps {
  records: SettleRecords & FileRecords;
  parts: ScanPartStore;
}

export type GuardDutyOutcome = "recorded" | "waiting" | "stale" | "decided-already";

export { NotYetRegisteredError } from "./errors.ts";

const unquote = (etag?: string) => etag?.replace(/"/g, "");

function sameVersion(record: FileRecord, object: GuardDutyResultEvent["detail"]["s3ObjectDetails"]): boolean {
  const { version } = record;
  if (version.versionId && object.versionId) return version.versionId === object.versionId;
  return unquote(version.eTag) !== undefined && unquote(version.eTag) === unquote(object.eTag);
}

export async function recordGuardDutyResult(
  event: GuardDutyResultEvent,
  deps: GuardDutyDeps,
): Promise<{ fileId: string; outcome: GuardDutyOutcome }> {
  const object = event.detail.s3ObjectDetails;
  const { fileId } = describeKey(object.bucketName, object.objectKey);
  const record = await deps.records.get(fileId);
  if (!record || record.version.bucket !== object.bucketName || record.version.key !== object.objectKey)
    throw new NotYetRegisteredError(`No file record for s3://${object.bucketName}/${object.objectKey} yet`);
  if (!sameVersion(record, object)) {
    // Either an older version (its result no longer matters) or a newer one the pipeline has not registered yet.
    if (record.status !== "PENDING") return { fileId, outcome: "stale" };
    throw new NotYetRegisteredError(
      `The record of ${fileId} is about another version of the object; retrying`,
    );
  }
  if (record.stages.scan || record.status !== "PENDING") return { fileId, outcome: "decided-already" };
  const answer = guardDutyEngineResult(event);
  await deps.parts.put(fileId, record.version, "guardduty", [answer]);
  const engines = await deps.parts.get(fileId, record.version, "engines");
  if (!engines) return { fileId, outcome: "waiting" };
  const result = scanResultOf([...engines, answer]);
  // Audited by the write that records the result, in the same request.
  const written = await deps.records.putStageResult(fileId, record.version, result, {
    action: "stage:scan",
    actor: "guardduty",
    detail: { status: result.status, reasons: result.reasons },
  });
  if (written.kind === "stale") return { fileId, outcome: "stale" };
  await settle(written.record, deps);
  return { fileId, outcome: "recorded" };
}
