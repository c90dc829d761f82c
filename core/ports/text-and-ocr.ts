/** Ports of the metadata stage: staged extracted text, OCR jobs in flight, and the OCR engine. */
import type { Facts, ObjectVersion, OcrMode } from "../domain/types.ts";

/**
 * Extracted text waiting for the verdict. The metadata stage cannot write to the clean bucket, so it stages the
 * text; promotion publishes it as `text/<fileId>.txt` next to the file, and a held file's text is discarded.
 */
export interface TextStore {
  /** Stages the text; `cut` when it had to be shortened to fit the staging store. */
  stage(fileId: string, version: ObjectVersion, text: string): Promise<{ cut: boolean }>;
  /**
   * Writes the staged text of exactly this version to the clean bucket, records its key on the file record and
   * drops the staged copy; returns the key, or undefined when nothing is staged.
   */
  publish(fileId: string, version: ObjectVersion, cleanBucket: string): Promise<string | undefined>;
  discard(fileId: string): Promise<void>;
}

/** An asynchronous OCR job in flight, with the facts the metadata stage found before starting it. */
export interface OcrJob {
  fileId: string;
  version: ObjectVersion;
  jobId: string;
  mode: OcrMode;
  facts: Facts;
  startedAt: string;
}

export interface OcrJobStore {
  put(job: OcrJob): Promise<void>;
  get(fileId: string): Promise<OcrJob | undefined>;
  remove(fileId: string): Promise<void>;
  /** Completes the OCR facts of a metadata result already recorded (best effort mode); false when stale. */
  completeFacts(fileId: string, version: ObjectVersion, jobId: string, facts: Facts): Promise<boolean>;
}

/** Text found by OCR, page by page joined with form feeds. */
export interface OcrText {
  text: string;
  pages: number;
}

export type OcrJobResult =
  | ({ status: "SUCCEEDED" } & OcrText)
  | { status: "IN_PROGRESS" }
  | { status: "FAILED"; message: string };

export interface OcrEngine {
  /** Synchronous detection for an image or single-page PDF within the synchronous limits. */
  detect(version: ObjectVersion): Promise<OcrText>;
  /** Starts an asynchronous job whose completion is published to the OCR topic; returns the job id. */
  start(version: ObjectVersion, fileId: string): Promise<string>;
  /** Every page of a finished job's results (following `NextToken`), at most `maxChars` characters. */
  results(jobId: string, maxChars: number): Promise<OcrJobResult>;
}
