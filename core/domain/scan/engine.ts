/**
 * The scan engine contract. An engine reads the object once as a stream and answers clean, infected (with
 * stable finding names) or error (with a reason). Combining engines is fail-closed: no answer is not clean.
 */
import type { DetectedType, EngineResult } from "../types.ts";

export interface ScanContext {
  key: string;
  size: number;
  detectedType?: DetectedType;
}

export interface ScanEngine {
  readonly name: string;
  scan(source: AsyncIterable<Uint8Array>, ctx: ScanContext): Promise<EngineResult>;
}

export interface ScanLimits {
  /** Containers nested deeper than this are not opened (the object itself is depth 0). */
  maxDepth: number;
  /** Entries across all levels. */
  maxEntries: number;
  /** Bytes produced by decompression across all levels. */
  maxExpandedBytes: number;
  /** Expanded / compressed size of any one entry or stream. */
  maxRatio: number;
  /**
   * Bytes allowed after a format's end (an image's end marker, a PDF's last `%%EOF`, a tar's end blocks),
   * padding aside; more is the finding `Airlock.Polyglot.TrailingData`. Default DEFAULT_MAX_TRAILING_BYTES.
   */
  maxTrailingBytes?: number;
}

/** A few bytes of slack after a format's end (some writers add a newline or a short signature), no more. */
export const DEFAULT_MAX_TRAILING_BYTES = 16;

export function combineEngineResults(results: readonly EngineResult[]): {
  status: "clean" | "infected" | "error";
  reasons: string[];
} {
  if (results.length === 0) return { status: "error", reasons: ["no scan engine ran"] };
  const findings = results.flatMap((r) =>
    r.status === "infected" ? r.findings.map((f) => (f.path ? `${f.name} in ${f.path}` : f.name)) : [],
  );
  if (findings.length > 0) return { status: "infected", reasons: [...new Set(findings)] };
  const errors = results.flatMap((r) =>
    r.status === "error" ? [`${r.engine}: ${r.reason}: ${r.detail}`] : [],
  );
  if (errors.length > 0) return { status: "error", reasons: errors };
  return { status: "clean", reasons: [] };
}
