/**
 * The verdict rules. A file is VERIFIED only when validation passed and the scan was clean; anything the
 * pipeline could not prove safe is held. Severity decides which verdict wins when several apply.
 */
import type { FileRecord, FinalStatus, StageName } from "./types.ts";
import { CONTENT_ERROR_REASONS, STAGES } from "./types.ts";

export interface Verdict {
  status: FinalStatus;
  reasons: string[];
}

type Stages = FileRecord["stages"];

/** The stages that have not reported yet; the verdict waits for all of them. */
export function missingStages(stages: Stages): StageName[] {
  return STAGES.filter((stage) => stages[stage] === undefined);
}

/**
 * Combines stage results into the verdict, or `undefined` while a stage is outstanding.
 * INFECTED > REJECTED > FAILED > VERIFIED: a finding always shows, a content problem (wrong type, corrupt or
 * encrypted archive, limits exceeded) rejects, and an operational failure fails; none of them promotes.
 */
export function decideVerdict(stages: Stages): Verdict | undefined {
  const { validate, scan, metadata } = stages;
  if (!validate || !scan || !metadata) return undefined;
  // The finding first; what validation refused (a disguised name, a wrong type) stays visible beside it.
  if (scan.status === "infected")
    return {
      status: "INFECTED",
      reasons: [...new Set([...scan.reasons, ...(validate.status === "rejected" ? validate.reasons : [])])],
    };
  const rejected: string[] = [];
  const failed: string[] = [];
  if (validate.status === "rejected") rejected.push(...validate.reasons);
  if (validate.status === "error") failed.push(...validate.reasons);
  if (scan.status === "error") {
    const contentProblem = scan.engines.some(
      (e) => e.status === "error" && CONTENT_ERROR_REASONS.includes(e.reason),
    );
    (contentProblem ? rejected : failed).push(...scan.reasons);
  }
  if (metadata.status === "error") failed.push(...metadata.reasons);
  // A "PDF" no PDF reader can open is not a document anyone can use, and may be built to confuse scanners.
  if (metadata.facts?.pdf?.readable === false)
    rejected.push("the PDF cannot be opened by a PDF reader (its structure is invalid)");
  const computed = metadata.facts?.sha256;
  if (validate.declaredSha256 && computed && validate.declaredSha256.toLowerCase() !== computed)
    rejected.push(
      `the content's SHA-256 ${computed} is not the ${validate.declaredSha256} declared at upload`,
    );
  // The same reason from several stages is said once.
  if (rejected.length > 0) return { status: "REJECTED", reasons: [...new Set([...rejected, ...failed])] };
  if (failed.length > 0) return { status: "FAILED", reasons: [...new Set(failed)] };
  // Promotion copies exactly the bytes whose digest was computed, and the copy carries it: no digest, no promotion.
  if (!computed) return { status: "FAILED", reasons: ["no SHA-256 was computed for the bytes judged"] };
  if (validate.status === "passed" && scan.status === "clean") return { status: "VERIFIED", reasons: [] };
  return { status: "FAILED", reasons: ["stage results are inconsistent"] };
}
