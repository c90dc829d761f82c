/**
 * What each stage does with an object version: validation reads only the first bytes (a ranged GET), the scan
 * and metadata stages stream the object once with bounded memory.
 */
import { createFactsCollector, detectType, evaluateValidation, HEAD_BYTES } from "../content/index.ts";
import type { MetadataResult, ScanResult, UploadSession, ValidateResult } from "../domain/types.ts";
import { uploadSessionProblems } from "../domain/upload-session.ts";
import type { ObjectStore } from "../ports.ts";
import { combineEngineResults, type ScanEngine } from "../scan/index.ts";
import type { Judge } from "./stage.ts";

export interface ValidationPolicy {
  maxSizeBytes: number;
  allowedTypes: readonly string[];
}

const now = () => new Date().toISOString();

/** Reads the upload session of an API upload (undefined for other objects). */
export type SessionLookup = (fileId: string) => Promise<UploadSession | undefined>;

export function validateJudge(
  objects: ObjectStore,
  policy: ValidationPolicy,
  sessions?: SessionLookup,
): Judge {
  return async (version, record): Promise<ValidateResult> => {
    const head = await objects.readHead(version, HEAD_BYTES);
    const outcome = await evaluateValidation(
      { size: head.size, head: head.bytes, key: version.key, contentType: head.contentType },
      policy,
    );
    if (sessions && record.source === "api") {
      const problems = uploadSessionProblems(await sessions(record.fileId), {
        key: version.key,
        size: head.size,
        contentType: head.contentType,
        owner: head.metadata.owner,
        landedAt: new Date(record.createdAt),
      });
      if (problems.length > 0)
        return {
          stage: "validate",
          ...outcome,
          status: "rejected",
          reasons: [...outcome.reasons, ...problems],
          at: now(),
        };
    }
    return { stage: "validate", ...outcome, at: now() };
  };
}

/**
 * Runs every engine on the object version. Until the stream is teed, each engine gets its own read of the
 * same exact version, concurrently.
 */
export function scanJudge(objects: ObjectStore, engines: ScanEngine | readonly ScanEngine[]): Judge {
  const all: readonly ScanEngine[] = Array.isArray(engines) ? engines : [engines as ScanEngine];
  return async (version): Promise<ScanResult> => {
    const results = await Promise.all(
      all.map(async (engine) => {
        const body = await objects.stream(version);
        try {
          return await engine.scan(body, { key: version.key, size: version.size });
        } finally {
          // An engine may stop early (a finding needs no more bytes): release the connection.
          (body as { destroy?: () => void }).destroy?.();
        }
      }),
    );
    const combined = combineEngineResults(results);
    return { stage: "scan", status: combined.status, engines: results, reasons: combined.reasons, at: now() };
  };
}

export function metadataJudge(objects: ObjectStore): Judge {
  return async (version): Promise<MetadataResult> => {
    const body = await objects.stream(version);
    // Type-specific facts need the type, which the first bytes tell: hold chunks until the head is complete.
    const held: Uint8Array[] = [];
    let heldBytes = 0;
    let collector: ReturnType<typeof createFactsCollector> | undefined;
    for await (const chunk of body) {
      if (collector) {
        collector.update(chunk);
        continue;
      }
      held.push(chunk);
      heldBytes += chunk.byteLength;
      if (heldBytes >= HEAD_BYTES) collector = await startCollector(held);
    }
    collector ??= await startCollector(held);
    const facts = collector.finish();
    return { stage: "metadata", status: "ok", facts, reasons: [], at: now() };
  };
}

async function startCollector(held: Uint8Array[]) {
  const head = Buffer.concat(held);
  const collector = createFactsCollector(await detectType(head.subarray(0, HEAD_BYTES)));
  for (const chunk of held) collector.update(chunk);
  return collector;
}
