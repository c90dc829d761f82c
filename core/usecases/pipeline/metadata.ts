/**
 * The metadata stage: one streamed pass for the facts and the extracted text, a cross-check of the sha256
 * against the S3 checksum, staging of the text for promotion, and OCR through Textract when configured.
 *
 * OCR and the verdict: in `best-effort` mode the facts are recorded at once (an asynchronous job shows as
 * `ocr.status = pending` until its continuation fills it in); in `required` mode a file that needs an
 * asynchronous job gets no metadata result until the job's continuation records it, so the verdict waits for
 * it, and the sweeper's stuck threshold is its timeout (the file then ends FAILED, never promoted).
 */

import { textCapture } from "../../domain/content/extracted.ts";
import { createFactsCollector, detectType, HEAD_BYTES } from "../../domain/content/index.ts";
import type { Facts, MetadataResult, ObjectVersion, OcrFacts, OcrMode } from "../../domain/types.ts";
import {
  ChecksumMismatchError,
  type ObjectStore,
  ObjectTooLargeError,
  type OcrEngine,
  OcrError,
  type OcrJobStore,
  type OcrText,
  type TextStore,
} from "../../ports/index.ts";
import { PipelineConfigurationError } from "./errors.ts";
import { type SizeLimit, type SizeLimitOf, tooLargeReason } from "./limits.ts";
import type { Judge } from "./stage.ts";

/** Textract's synchronous operations take documents up to 10 MB; asynchronous ones up to 500 MB and 3,000 pages. */
export const TEXTRACT_SYNC_MAX_BYTES = 10 * 1024 * 1024;
export const TEXTRACT_ASYNC_MAX_BYTES = 500 * 1024 * 1024;
export const TEXTRACT_ASYNC_MAX_PAGES = 3000;
const OCR_IMAGES = new Set(["png", "jpg", "tif"]);

export interface MetadataOptions {
  textMaxChars: number;
  pdfMaxBytes: number;
  ocr: OcrMode;
  texts?: TextStore;
  /** Absent where Textract is not available (the local stack): OCR is then recorded as skipped. */
  engine?: OcrEngine;
  jobs?: OcrJobStore;
  /** Objects larger than this are not read: the result is an immediate refusal (see limits.ts). */
  sizeLimit?: SizeLimitOf;
}

const now = () => new Date().toISOString();

export type OcrPlan = { kind: "skip"; reason: string } | { kind: "sync" } | { kind: "async" };

/** Whether and how a file is sent to Textract: images, and PDFs without a text layer. */
export function planOcr(facts: Facts, mode: OcrMode, available: boolean): OcrPlan {
  if (mode === "off") return { kind: "skip", reason: "OCR is off" };
  const id = facts.detectedType?.id ?? "";
  const isImage = OCR_IMAGES.has(id);
  if (!isImage && id !== "pdf") return { kind: "skip", reason: "not an image or PDF" };
  if (id === "pdf") {
    if (facts.pdf?.encrypted) return { kind: "skip", reason: "the PDF is encrypted" };
    if (facts.pdf?.textLayer) return { kind: "skip", reason: "the PDF has a text layer" };
    if ((facts.pdf?.pages ?? 0) > TEXTRACT_ASYNC_MAX_PAGES || facts.size > TEXTRACT_ASYNC_MAX_BYTES)
      return { kind: "skip", reason: "beyond Textract's limits (500 MB, 3,000 pages)" };
  }
  if (!available) return { kind: "skip", reason: "Textract is not available here (local stack)" };
  const singlePage = isImage || (facts.pdf?.pages ?? 0) <= 1;
  return singlePage && facts.size <= TEXTRACT_SYNC_MAX_BYTES ? { kind: "sync" } : { kind: "async" };
}

/** The facts once OCR has read the document: OCR text becomes the extracted text when there was none. */
export function withOcrText(
  facts: Facts,
  mode: OcrMode,
  found: OcrText,
  maxChars: number,
  jobId?: string,
): { facts: Facts; text?: string } {
  const capture = textCapture(maxChars);
  capture.add(found.text);
  const summary = capture.summary("ocr");
  const ocr: OcrFacts = {
    engine: "textract",
    mode,
    status: "done",
    pages: found.pages,
    words: summary?.words ?? 0,
    at: now(),
    ...(jobId ? { jobId } : {}),
  };
  const next: Facts = { ...facts, ocr };
  if (facts.extracted || !summary) return { facts: next };
  return { facts: { ...next, extracted: summary }, text: capture.text };
}

export function ocrFailed(facts: Facts, mode: OcrMode, reason: string, jobId?: string): Facts {
  return {
    ...facts,
    ocr: { engine: "textract", mode, status: "failed", reason, at: now(), ...(jobId ? { jobId } : {}) },
  };
}

/** The object's body, and S3's SHA-256 checksum of it from the same GET where the store can say it. */
async function open(
  objects: ObjectStore,
  version: ObjectVersion,
  maxBytes: number | undefined,
): Promise<{ body: AsyncIterable<Uint8Array>; checksum: () => Promise<string | undefined> }> {
  const read = maxBytes === undefined ? {} : { maxBytes };
  if (objects.streamWithChecksum) {
    const opened = await objects.streamWithChecksum(version, read);
    return { body: opened.body, checksum: async () => opened.sha256Checksum };
  }
  const body = await objects.stream(version, read);
  return { body, checksum: async () => objects.sha256Checksum?.(version) };
}

async function collect(body: AsyncIterable<Uint8Array>, version: ObjectVersion, options: MetadataOptions) {
  const limits = { size: version.size, textMaxChars: options.textMaxChars, pdfMaxBytes: options.pdfMaxBytes };
  // Type-specific facts need the type, which the first bytes tell: hold chunks until the head is complete.
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let collector: ReturnType<typeof createFactsCollector> | undefined;
  const start = async () => {
    const head = Buffer.concat(held);
    const started = createFactsCollector(await detectType(head.subarray(0, HEAD_BYTES)), limits);
    for (const chunk of held) started.update(chunk);
    held.length = 0;
    return started;
  };
  try {
    for await (const chunk of body) {
      if (collector) {
        collector.update(chunk);
        continue;
      }
      held.push(chunk);
      heldBytes += chunk.byteLength;
      if (heldBytes >= HEAD_BYTES) collector = await start();
    }
  } finally {
    (body as { destroy?: () => void }).destroy?.();
  }
  collector ??= await start();
  return collector.finish();
}

export const CHECKSUM_MISMATCH_REASON =
  "the bytes read do not match the SHA-256 checksum S3 keeps for the object";

function refusedAsTooLarge(size: number, limit: SizeLimit): MetadataResult {
  return { stage: "metadata", status: "error", reasons: [tooLargeReason(size, limit)], at: now() };
}

export function metadataJudge(objects: ObjectStore, options: MetadataOptions): Judge {
  return async (version, record) => {
    const { fileId } = record;
    if (options.ocr === "required" && options.jobs) {
      // A re-driven event while this version's OCR job runs: its continuation will record the result.
      const job = await options.jobs.get(fileId);
      if (job && job.version.sequencer === version.sequencer) return undefined;
    }
    // Larger than the file may be: not read at all (validation rejects it on the same limit).
    const limit = await options.sizeLimit?.(record);
    if (limit && version.size > limit.maxBytes) return refusedAsTooLarge(version.size, limit);
    let outcome: Awaited<ReturnType<typeof collect>>;
    let checksumOf: () => Promise<string | undefined>;
    try {
      const opened = await open(objects, version, limit?.maxBytes);
      checksumOf = opened.checksum;
      outcome = await collect(opened.body, version, options);
    } catch (error) {
      if (error instanceof ObjectTooLargeError && limit) return refusedAsTooLarge(error.size, limit);
      if (error instanceof ChecksumMismatchError)
        return { stage: "metadata", status: "error", reasons: [CHECKSUM_MISMATCH_REASON], at: now() };
      throw error;
    }
    let { facts } = outcome;
    let text = outcome.text;
    const result = (status: MetadataResult["status"], reasons: string[] = []): MetadataResult => ({
      stage: "metadata",
      status,
      facts,
      reasons,
      at: now(),
    });

    const checksum = await checksumOf();
    if (checksum !== undefined) {
      facts.s3Checksum = { algorithm: "SHA256", matches: checksum === facts.sha256 };
      if (checksum !== facts.sha256) return result("error", [CHECKSUM_MISMATCH_REASON]);
    }

    const plan = planOcr(facts, options.ocr, options.engine !== undefined);
    let pendingJob: string | undefined;
    if (plan.kind === "skip") {
      facts = {
        ...facts,
        ocr: { engine: "textract", mode: options.ocr, status: "skipped", reason: plan.reason, at: now() },
      };
    } else if (options.engine) {
      try {
        if (plan.kind === "sync") {
          const read = withOcrText(
            facts,
            options.ocr,
            await options.engine.detect(version),
            options.textMaxChars,
          );
          facts = read.facts;
          text = read.text ?? text;
        } else {
          pendingJob = await options.engine.start(version, fileId);
        }
      } catch (error) {
        if (!(error instanceof OcrError)) throw error;
        facts = ocrFailed(facts, options.ocr, error.message);
        if (options.ocr === "required") return result("error", [`OCR failed: ${error.message}`]);
      }
    }

    if (text && options.texts) {
      const { cut } = await options.texts.stage(fileId, version, text);
      if (cut && facts.extracted) facts.extracted.truncated = true;
    }
    if (pendingJob) {
      if (!options.jobs)
        throw new PipelineConfigurationError("an OCR job store is needed for asynchronous OCR");
      const pending: Facts = {
        ...facts,
        ocr: { engine: "textract", mode: options.ocr, status: "pending", jobId: pendingJob, at: now() },
      };
      await options.jobs.put({
        fileId,
        version,
        jobId: pendingJob,
        mode: options.ocr,
        facts,
        startedAt: now(),
      });
      if (options.ocr === "required") return undefined;
      facts = pending;
    }
    return result("ok");
  };
}
