/**
 * What a caller of the API sees of a file record. The record keeps everything for operators (stage errors, the
 * last error of a failed attempt, engine details, OCR job ids); a caller gets the verdict, the facts and reasons
 * in plain words, and for an operational failure only which stage could not finish and why in one word, never
 * the internal message (host names, account ids, stack text). A deleted file is an audit stub: id, name,
 * status and dates.
 */
import { displayName } from "../../domain/file-names.ts";
import {
  CONTENT_ERROR_REASONS,
  type EngineResult,
  type Facts,
  FINAL_STATUSES,
  type FileRecord,
  type FinalStatus,
  type MetadataResult,
  type ScanResult,
  type ValidateResult,
} from "../../domain/types.ts";
import { decideVerdict } from "../../domain/verdict.ts";

/** What an operational engine failure is called in public, instead of its internal detail. */
const OPERATIONAL_DETAIL = "details are in the service logs";

const STAGE_FAILED = {
  validate: "validation could not finish",
  scan: "the scan could not finish",
  metadata: "the file's facts could not be read",
} as const;

/** Said when the stages do not explain a final status by themselves (an operator's decision). */
const GENERIC_REASONS: Record<FinalStatus, string[]> = {
  VERIFIED: [],
  REJECTED: ["the file was rejected"],
  INFECTED: ["dangerous content was found"],
  FAILED: ["the file could not be checked"],
};

function publicEngine(result: EngineResult): EngineResult {
  if (result.status !== "error" || CONTENT_ERROR_REASONS.includes(result.reason)) return result;
  return { engine: result.engine, status: "error", reason: result.reason, detail: OPERATIONAL_DETAIL };
}

function publicValidate(result: ValidateResult): ValidateResult {
  return result.status === "error" ? { ...result, reasons: [STAGE_FAILED.validate] } : result;
}

function publicScan(result: ScanResult): ScanResult {
  const engines = result.engines.map(publicEngine);
  if (result.status !== "error") return { ...result, engines };
  const reasons = engines.flatMap((e) =>
    e.status === "error" ? [`${e.engine}: ${e.reason}: ${e.detail}`] : [],
  );
  return { ...result, engines, reasons: reasons.length > 0 ? reasons : [STAGE_FAILED.scan] };
}

function publicFacts(facts: Facts): Facts {
  const { ocr, warnings, ...rest } = facts;
  const out: Facts = { ...rest };
  if (ocr) {
    const { jobId: _jobId, reason, ...shown } = ocr;
    // A skip says why in our words; a failure's reason is the OCR service's own message.
    out.ocr = ocr.status === "skipped" && reason ? { ...shown, reason } : shown;
  }
  if (warnings) out.warnings = warnings.map((w) => w.split(":")[0] ?? w);
  return out;
}

function publicMetadata(result: MetadataResult): MetadataResult {
  return {
    ...result,
    reasons: result.status === "error" ? [STAGE_FAILED.metadata] : result.reasons,
    ...(result.facts ? { facts: publicFacts(result.facts) } : {}),
  };
}

export function publicStages(stages: FileRecord["stages"]): FileRecord["stages"] {
  const out: FileRecord["stages"] = {};
  if (stages.validate) out.validate = publicValidate(stages.validate);
  if (stages.scan) out.scan = publicScan(stages.scan);
  if (stages.metadata) out.metadata = publicMetadata(stages.metadata);
  return out;
}

/** The verdict's reasons as decided from the public stage results (the same rules, public words). */
function publicReasons(record: FileRecord, stages: FileRecord["stages"]): string[] {
  if (!(FINAL_STATUSES as readonly string[]).includes(record.status)) return [];
  const status = record.status as FinalStatus;
  const verdict = decideVerdict(stages);
  return verdict?.status === status ? verdict.reasons : GENERIC_REASONS[status];
}

export interface DeletedStub {
  fileId: string;
  name: string;
  status: "DELETED";
  createdAt: string;
  updatedAt: string;
  deletedAt?: string;
}

/**
 * A file decided VERIFIED is shown PENDING until its promotion is recorded: to a caller, VERIFIED means
 * "downloadable now", and the copy to the clean bucket follows the decision.
 */
export function publicRecord(record: FileRecord) {
  if (record.status === "DELETED") {
    const stub: DeletedStub = {
      fileId: record.fileId,
      name: displayName(record.key),
      status: "DELETED",
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      ...(record.deletedAt ? { deletedAt: record.deletedAt } : {}),
    };
    return stub;
  }
  const promoting = record.status === "VERIFIED" && !record.cleanKey;
  const stages = publicStages(record.stages);
  return {
    fileId: record.fileId,
    name: displayName(record.key),
    status: promoting ? "PENDING" : record.status,
    reasons: promoting ? [] : publicReasons(record, stages),
    size: record.size,
    sha256: record.sha256,
    detectedType: record.detectedType,
    stages,
    textKey: record.textKey,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    decidedAt: promoting ? undefined : record.decidedAt,
  };
}
