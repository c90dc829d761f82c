/** Ports of the scan stage: the two halves of a GuardDuty scan, and verdicts cached by digest. */
import type { EngineResult, ObjectVersion } from "../domain/types.ts";

/** Which half of a scan result an item holds when GuardDuty's answer completes the scan asynchronously. */
export type ScanPart = "engines" | "guardduty";

/**
 * The two halves of a scan when GuardDuty is on: the scan stage's own engines and GuardDuty's answer, each kept
 * for exactly one object version until the other arrives; whichever comes second records the scan result.
 */
export interface ScanPartStore {
  put(fileId: string, version: ObjectVersion, part: ScanPart, results: EngineResult[]): Promise<void>;
  /** The part for exactly this version, or undefined. */
  get(fileId: string, version: ObjectVersion, part: ScanPart): Promise<EngineResult[] | undefined>;
}

/**
 * Verdicts of whole objects by SHA-256, for one engine set (engine names and signature versions): an object whose
 * digest was already judged clean or infected by the same engines and signatures is not scanned again.
 */
export interface ScanCache {
  get(sha256: string, engineSet: string): Promise<EngineResult[] | undefined>;
  put(sha256: string, engineSet: string, results: EngineResult[]): Promise<void>;
}
