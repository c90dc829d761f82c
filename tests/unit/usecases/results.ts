/** Stage results and object versions for the use-case tests on in-memory ports. */
import { describeKey, padSequencer } from "../../../core/domain/keys.ts";
import type {
  MetadataResult,
  ObjectVersion,
  ScanResult,
  StageResult,
  ValidateResult,
} from "../../../core/domain/types.ts";
import type { Judge } from "../../../core/usecases/pipeline/stage.ts";

export const SHA = "5".repeat(64);
const at = "2026-11-22T00:00:00.000Z";
const pdf = { id: "pdf", mime: "application/pdf", ext: "pdf" };

export const passed: ValidateResult = {
  stage: "validate",
  status: "passed",
  reasons: [],
  size: 5,
  detectedType: pdf,
  at,
};
export const refused: ValidateResult = {
  stage: "validate",
  status: "rejected",
  reasons: ["the content is not what its name says"],
  size: 5,
  at,
};
export const clean: ScanResult = {
  stage: "scan",
  status: "clean",
  engines: [{ engine: "builtin", status: "clean" }],
  reasons: [],
  at,
};
export const infected: ScanResult = {
  stage: "scan",
  status: "infected",
  engines: [{ engine: "builtin", status: "infected", findings: [{ name: "Airlock.Eicar", path: "" }] }],
  reasons: ["Airlock.Eicar"],
  at,
};
export const engineDown: ScanResult = {
  stage: "scan",
  status: "error",
  engines: [{ engine: "clamav", status: "error", reason: "timeout", detail: "clamd did not answer" }],
  reasons: ["the clamav engine did not answer"],
  at,
};
export const described: MetadataResult = {
  stage: "metadata",
  status: "ok",
  facts: { sha256: SHA, size: 5 },
  reasons: [],
  at,
};

/** The three results of a file that is promoted. */
export const verified: StageResult[] = [passed, clean, described];

export const judging =
  (result: StageResult): Judge =>
  async () =>
    result;

/** A dropped object's version: `n` orders versions of the same key (a higher one is newer). */
export function drop(n: number, key = "drops/billing/q3 report.pdf"): ObjectVersion {
  return {
    bucket: "ingest",
    key,
    versionId: `v${n}`,
    eTag: `e${n}`,
    sequencer: padSequencer(n.toString(16)),
    size: 5,
  };
}

export const fileIdOf = (version: ObjectVersion) => describeKey(version.bucket, version.key).fileId;
