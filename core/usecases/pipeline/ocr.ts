/**
 * The continuation of the metadata stage for asynchronous Textract jobs. Textract publishes a job's completion
 * to the OCR topic; its queue feeds this. The job is matched to the file by its tag and id, its results are
 * read page by page, and then either the metadata result is recorded and the verdict settled (`required`: the
 * verdict waited for this), or the OCR facts of the already recorded result are completed (`best-effort`).
 */
import { z } from "zod";
import type { Facts, MetadataResult } from "../../domain/types.ts";
import type { FileRecords, OcrEngine, OcrJobStore } from "../../ports/index.ts";
import { OcrJobInProgressError, UnreadableOcrMessageError } from "./errors.ts";
import { ocrFailed, withOcrText } from "./metadata.ts";
import { type SettleDeps, type SettleRecords, settle } from "./settle.ts";

export interface OcrDeps extends SettleDeps {
  records: SettleRecords & FileRecords;
  engine: OcrEngine;
  jobs: OcrJobStore;
  textMaxChars: number;
}

/** Textract's completion message, inside the SNS envelope SQS delivers. */
const completion = z.object({
  JobId: z.string().min(1),
  Status: z.string().min(1),
  JobTag: z.string().min(1),
});
const envelope = z.object({ Type: z.literal("Notification"), Message: z.string() });

export type OcrCompletion = z.infer<typeof completion>;

export { UnreadableOcrMessageError } from "./errors.ts";

export function parseOcrCompletion(body: string): OcrCompletion {
  try {
    const outer = JSON.parse(body) as unknown;
    const wrapped = envelope.safeParse(outer);
    const inner = wrapped.success ? (JSON.parse(wrapped.data.Message) as unknown) : outer;
    return completion.parse(inner);
  } catch (error) {
    throw new UnreadableOcrMessageError(`Not a Textract completion message: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

export type OcrOutcome = "unknown-job" | "recorded" | "completed" | "stale";

export async function continueOcr(notice: OcrCompletion, deps: OcrDeps): Promise<OcrOutcome> {
  const fileId = notice.JobTag;
  const job = await deps.jobs.get(fileId);
  // A job of an older version, or one already handled (a redelivered message): nothing to do.
  if (!job || job.jobId !== notice.JobId) return "unknown-job";
  let facts: Facts = job.facts;
  let text: string | undefined;
  let failure: string | undefined;
  if (notice.Status === "SUCCEEDED" || notice.Status === "PARTIAL_SUCCESS") {
    const read = await deps.engine.results(job.jobId, deps.textMaxChars);
    // Textract said it finished; a job still running is retried by the queue.
    if (read.status === "IN_PROGRESS") throw new OcrJobInProgressError(job.jobId);
    if (read.status === "FAILED") failure = read.message;
    else {
      const found = withOcrText(job.facts, job.mode, read, deps.textMaxChars, job.jobId);
      facts = found.facts;
      text = found.text;
    }
  } else failure = `Textract job ended ${notice.Status}`;
  if (failure) facts = ocrFailed(job.facts, job.mode, failure, job.jobId);

  if (text && deps.texts) {
    const { cut } = await deps.texts.stage(fileId, job.version, text);
    if (cut && facts.extracted) facts.extracted.truncated = true;
  }
  let outcome: OcrOutcome;
  if (job.mode === "required") {
    const result: MetadataResult = {
      stage: "metadata",
      status: failure ? "error" : "ok",
      facts,
      reasons: failure ? [`OCR failed: ${failure}`] : [],
      at: new Date().toISOString(),
    };
    // Audited by the write that records the result, in the same request.
    const written = await deps.records.putStageResult(fileId, job.version, result, {
      action: "stage:metadata",
      actor: "pipeline",
      detail: { status: result.status, reasons: result.reasons, ocrJob: job.jobId },
    });
    if (written.kind === "stale") outcome = "stale";
    else {
      await settle(written.record, deps);
      outcome = "recorded";
    }
  } else {
    outcome = (await deps.jobs.completeFacts(fileId, job.version, job.jobId, facts)) ? "completed" : "stale";
  }
  // The file may have been decided already (best effort, or a required job the sweeper gave up on): its text
  // is published if it was promoted, and never kept for a held or replaced file.
  const record = await deps.records.get(fileId);
  if (deps.texts && record) {
    const promoted =
      record.status === "VERIFIED" && record.promotedAt && record.version.sequencer === job.version.sequencer;
    if (promoted && !record.textKey) await deps.texts.publish(fileId, job.version, deps.cleanBucket);
    else if (record.status !== "PENDING" && record.status !== "VERIFIED") await deps.texts.discard(fileId);
    else if (record.version.sequencer !== job.version.sequencer) await deps.texts.discard(fileId);
  }
  await deps.jobs.remove(fileId);
  return outcome;
}
