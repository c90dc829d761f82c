/**
 * The ports the pipeline depends on. Domain and pipeline code see only these interfaces; `shared/adapters/`
 * implements them for DynamoDB, S3 and SNS, and unit tests can implement them in memory.
 */

import type {
  EngineResult,
  Facts,
  FileRecord,
  FileStatus,
  ObjectVersion,
  OcrMode,
  Source,
  StageName,
  StageResult,
  UploadSession,
} from "./domain/types.ts";
import type { Verdict } from "./domain/verdict.ts";

/** The result of a conditional write: `stale` when a newer object version owns the record. */
export type Versioned = { kind: "current"; record: FileRecord } | { kind: "stale"; record: FileRecord };

export interface NewFile {
  fileId: string;
  source: Source;
  owner?: string;
}

export interface AuditEntry {
  action: string;
  actor: string;
  detail?: Record<string, unknown>;
}

export interface ListQuery {
  status?: FileStatus;
  owner?: string;
  /** Only files of this detected type id (`pdf`, `png`, …; owner queries only). */
  type?: string;
  limit: number;
  /** Only records registered before this ISO time (status queries only). */
  registeredBefore?: string;
  /** The last key of the previous page, as the store returned it. */
  after?: Record<string, string>;
}

export interface ListPage {
  records: FileRecord[];
  last?: Record<string, string>;
}

export interface RecordStore {
  /** Creates the record or moves it to a newer object version (resetting its stages); stale for older versions. */
  register(version: ObjectVersion, file: NewFile): Promise<Versioned & { won: boolean }>;
  get(fileId: string): Promise<FileRecord | undefined>;
  /** Writes a stage result once per version; a repeated write returns the record as it is. */
  putStageResult(fileId: string, version: ObjectVersion, result: StageResult): Promise<Versioned>;
  /** Sets the final status once; returns `won: true` only to the caller whose write decided it. */
  decide(fileId: string, version: ObjectVersion, verdict: Verdict): Promise<Versioned & { won: boolean }>;
  markPromoted(fileId: string, version: ObjectVersion, cleanKey: string): Promise<void>;
  /** Claims the right to send the verdict notification; false when another caller already has. */
  claimNotification(fileId: string, version: ObjectVersion): Promise<boolean>;
  releaseNotification(fileId: string, version: ObjectVersion): Promise<void>;
  confirmNotification(fileId: string, version: ObjectVersion, messageId: string): Promise<void>;
  /** Remembers why a stage attempt failed, so a dead-lettered message can say why. Best effort. */
  noteStageFailure(fileId: string, version: ObjectVersion, stage: StageName, message: string): Promise<void>;
  list(query: ListQuery): Promise<ListPage>;
  putUploadSession(session: UploadSession): Promise<void>;
  getUploadSession(fileId: string): Promise<UploadSession | undefined>;
  /** Marks a file deleted (its objects are gone); the record and its audit trail stay. */
  markDeleted(fileId: string): Promise<void>;
  /** Keeps a message nothing can read, so that it is not lost when its queue lets go of it. */
  keepUnreadable(queue: string, messageId: string, body: string): Promise<void>;
  audit(fileId: string, entry: AuditEntry): Promise<void>;
  /**
   * Re-opens a held, unpromoted file of exactly this version and status for a new scan: status PENDING, the scan
   * result and the notification claim cleared, `rescans` counted. `won: false` when anything differs.
   */
  reopenForRescan(
    fileId: string,
    version: ObjectVersion,
    status: FileStatus,
  ): Promise<Versioned & { won: boolean }>;
}

export interface ObjectHead {
  bytes: Uint8Array;
  size: number;
  contentType?: string;
  metadata: Record<string, string>;
}

export interface ObjectStore {
  /** The first `length` bytes of exactly this version (a ranged read), with its declared content type. */
  readHead(version: ObjectVersion, length: number): Promise<ObjectHead>;
  /** The last `length` bytes of exactly this version (a suffix range read). */
  readTail?(version: ObjectVersion, length: number): Promise<Uint8Array>;
  /** The whole of exactly this version, as a stream of chunks. */
  stream(version: ObjectVersion): Promise<AsyncIterable<Uint8Array>>;
  /** Copies exactly this version to the clean bucket under the same key; returns the clean key. */
  promote(version: ObjectVersion, cleanBucket: string): Promise<string>;
  /** Deletes exactly this version from the ingest bucket. */
  remove(version: ObjectVersion): Promise<void>;
  /** Tags exactly this version; a version that no longer exists is ignored. */
  tag(version: ObjectVersion, tags: Record<string, string>): Promise<void>;
  /** The full-object SHA-256 checksum S3 keeps for this version (hex), when it has one. */
  sha256Checksum?(version: ObjectVersion): Promise<string | undefined>;
}

export interface OutgoingNotification {
  subject: string;
  body: string;
  attributes: Record<string, string>;
}

export interface Notifier {
  /** Publishes one message; returns its message id. */
  publish(message: OutgoingNotification): Promise<string>;
}

/** Raised by an ObjectStore when the object no longer is the version an event named. */
export class ObjectVersionGoneError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ObjectVersionGoneError";
  }
}

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

/** Raised by an OcrEngine when the service could not do the work (after its throttling retries). */
export class OcrError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OcrError";
  }
}

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
