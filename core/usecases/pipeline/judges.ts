/**
 * What each stage does with an object version: validation reads only the first bytes (a ranged GET), the scan
 * and metadata stages stream the object once with bounded memory — and not at all when it is larger than its
 * upload session declared or the policy allows (see SizeLimit).
 */
import { evaluateValidation, HEAD_BYTES } from "../../domain/content/index.ts";
import { TAIL_BYTES as ZIP_TAIL_BYTES } from "../../domain/content/ooxml-directory.ts";
import { combineEngineResults, type ScanEngine } from "../../domain/scan/index.ts";
import { type TeeBranch, tee } from "../../domain/scan/tee.ts";
import type { EngineResult, ObjectVersion, ScanResult, ValidateResult } from "../../domain/types.ts";
import { keyLayoutProblems, uploadSessionProblems } from "../../domain/upload-session.ts";
import {
  type ObjectStore,
  ObjectTooLargeError,
  type ScanCache,
  type ScanPartStore,
} from "../../ports/index.ts";
import { type SessionLookup, type SizeLimit, type SizeLimitOf, tooLargeReason } from "./limits.ts";
import type { Judge } from "./stage.ts";

export interface ValidationPolicy {
  maxSizeBytes: number;
  allowedTypes: readonly string[];
}

const now = () => new Date().toISOString();

export { type SessionLookup, sizeLimit } from "./limits.ts";

export function validateJudge(
  objects: ObjectStore,
  policy: ValidationPolicy,
  sessions: SessionLookup,
): Judge {
  return async (version, record): Promise<ValidateResult> => {
    const head = await objects.readHead(version, HEAD_BYTES);
    // A zip longer than the head may be an Office package whose [Content_Types].xml comes last: its central
    // directory (at the end) tells.
    const zip =
      head.bytes[0] === 0x50 && head.bytes[1] === 0x4b && head.bytes[2] === 3 && head.bytes[3] === 4;
    const tail =
      zip && head.size > head.bytes.length && objects.readTail
        ? { bytes: await objects.readTail(version, ZIP_TAIL_BYTES), size: head.size }
        : undefined;
    const outcome = await evaluateValidation(
      { size: head.size, head: head.bytes, key: version.key, contentType: head.contentType, tail },
      policy,
    );
    const problems = keyLayoutProblems(version.bucket, version.key, head.metadata);
    let declared: { declaredSha256?: string } = {};
    if (record.source === "api") {
      const session = await sessions(record.fileId);
      if (session?.sha256) declared = { declaredSha256: session.sha256 };
      problems.push(
        ...uploadSessionProblems(session, {
          key: version.key,
          size: head.size,
          contentType: head.contentType,
          metadata: head.metadata,
          // When S3 stored the object; a store that does not say is judged by the record's first registration.
          landedAt: head.lastModified ?? new Date(record.createdAt),
        }),
      );
    }
    if (problems.length > 0)
      return {
        stage: "validate",
        ...outcome,
        status: "rejected",
        reasons: [...outcome.reasons, ...problems],
        ...declared,
        at: now(),
      };
    return { stage: "validate", ...outcome, ...declared, at: now() };
  };
}

/**
 * The scan stage: every configured engine reads the same single GET of the object through a tee (see
 * core/domain/scan/tee.ts), concurrently. An engine that throws is an `error` result, never a missing one. With a
 * cache, an object whose S3 SHA-256 checksum was already judged by the same engine set is not read again; with
 * GuardDuty, the result waits for GuardDuty's half.
 */
export function scanJudge(
  objects: ObjectStore,
  engines: ScanEngine | readonly ScanEngine[],
  options: { guardDuty?: ScanPartStore; cache?: ScanCache; sizeLimit?: SizeLimitOf } = {},
): Judge {
  const all: readonly ScanEngine[] = Array.isArray(engines) ? engines : [engines as ScanEngine];
  // The engine set of the last full scan (names and signature versions): what a cached verdict must match.
  let engineSet: string | undefined;
  /** Every engine's answer for an object too large to read: a content limit, so the file is REJECTED. */
  const refused = (size: number, limit: SizeLimit): ScanResult =>
    scanResultOf(
      all.map((engine) => ({
        engine: engine.name,
        status: "error",
        reason: "limit-exceeded",
        detail: tooLargeReason(size, limit),
      })),
    );
  return async (version, record): Promise<ScanResult | undefined> => {
    const limit = await options.sizeLimit?.(record);
    if (limit && version.size > limit.maxBytes) return refused(version.size, limit);
    const read = limit === undefined ? {} : { maxBytes: limit.maxBytes };
    let sha256: string | undefined;
    let hit: readonly EngineResult[] | undefined;
    let results: EngineResult[];
    try {
      // The digest is known before reading only when S3 keeps a full-object SHA-256 checksum of the version:
      // the GET that reads the bytes brings it (a cached verdict then leaves the body unread), else a HEAD.
      let body: (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
      if (options.cache && objects.streamWithChecksum) {
        const opened = await objects.streamWithChecksum(version, read);
        body = opened.body;
        sha256 = opened.sha256Checksum;
      } else if (options.cache) sha256 = await objects.sha256Checksum?.(version);
      try {
        hit = sha256 && engineSet ? await options.cache?.get(sha256, engineSet) : undefined;
      } catch (error) {
        body?.destroy?.(); // an unread body keeps its connection
        throw error;
      }
      if (hit) {
        body?.destroy?.();
        results = [...hit];
      } else results = await scanOnce(body ?? (await objects.stream(version, read)), all, version);
    } catch (error) {
      if (error instanceof ObjectTooLargeError && limit) return refused(error.size, limit);
      throw error;
    }
    if (sha256 && !hit && results.every((r) => r.status !== "error")) {
      engineSet = engineSetOf(results);
      await options.cache?.put(sha256, engineSet, results);
    }
    if (options.guardDuty) {
      // GuardDuty answers on its own time: keep this half; whichever half arrives second records the scan.
      await options.guardDuty.put(record.fileId, version, "engines", results);
      const answer = await options.guardDuty.get(record.fileId, version, "guardduty");
      if (!answer) return undefined;
      return { ...scanResultOf([...results, ...answer]), ...(hit ? { cached: true } : {}) };
    }
    return { ...scanResultOf(results), ...(hit ? { cached: true } : {}) };
  };
}

/** Engine names and signature versions, in order: a cache entry is valid only for exactly this set. */
export function engineSetOf(results: readonly EngineResult[]): string {
  return results
    .map((r) => `${r.engine}@${r.status === "error" ? "" : (r.signatureVersion ?? "")}`)
    .join(",");
}

async function scanOnce(
  body: AsyncIterable<Uint8Array>,
  all: readonly ScanEngine[],
  version: ObjectVersion,
): Promise<EngineResult[]> {
  const { branches } = tee(body, all.length);
  try {
    const results = await Promise.all(
      all.map(async (engine, i): Promise<EngineResult> => {
        const branch = branches[i] as TeeBranch;
        try {
          return await engine.scan(branch.stream, { key: version.key, size: version.size });
        } catch (error) {
          const detail = error instanceof Error ? error.message : String(error);
          return { engine: engine.name, status: "error", reason: "internal", detail };
        } finally {
          // Done reading, whether it read everything or stopped early: the other engines go on without it.
          branch.detach();
        }
      }),
    );
    return results;
  } finally {
    (body as { destroy?: () => void }).destroy?.();
  }
}

/** The scan stage's result from every engine's answer (fail-closed: see combineEngineResults). */
export function scanResultOf(results: EngineResult[]): ScanResult {
  const combined = combineEngineResults(results);
  return { stage: "scan", status: combined.status, engines: results, reasons: combined.reasons, at: now() };
}

export { type MetadataOptions, metadataJudge } from "./metadata.ts";
