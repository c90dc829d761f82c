/**
 * The ports the pipeline depends on. Domain and pipeline code see only these interfaces; `core/adapters/`
 * implements them for DynamoDB, S3 and SNS, and unit tests can implement them in memory.
 */

import type {
  CleanCopy,
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
} from "../domain/types.ts";
import type { Verdict } from "../domain/verdict.ts";

export type { CleanCopy } from "../domain/types.ts";

/** The result of a conditional write: `stale` when a newer object version owns the record. */
export type Versioned = { kind: "current"; record: FileRecord } | { kind: "stale"; record: FileRecord };

export interface NewFile {
  fileId: string;
  source: Source;
  owner?: string;
}

export type UploadClosure = "completed" | "aborted";

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
  /** Only records registered (or decided) after this ISO time (status queries with `registeredBefore` only). */
  registeredAfter?: string;
  /** The last key of the previous page, as the store returned it. */
  after?: Record<string, string>;
}

export interface ListPage {
  records: FileRecord[];
  last?: Record<string, string>;
}

/**
 * The file records. One record per file id: an API upload's id is its upload session's, a drop's is derived from
 * bucket and key. The rule for objects arriving under a file id that has a record:
 * - API upload: one session admits one object, once. The record belongs to the first object registered; any
 *   other object (newer or older, after a verdict or a delete) is `stale` and never changes the record.
 * - drop: a newer object (by S3 sequencer) takes the record over and resets it to PENDING; its predecessor's clean
 *   copies stay listed in `cleanCopy` until withdrawn. An older one is `stale`.
 */
export interface RecordStore {
  register(version: ObjectVersion, file: NewFile): Promise<Versioned & { won: boolean }>;
  get(fileId: string): Promise<FileRecord | undefined>;
  /** Writes a stage result once per version; a repeated write returns the record as it is. */
  putStageResult(fileId: string, version: ObjectVersion, result: StageResult): Promise<Versioned>;
  /** Sets the final status once; returns `won: true` only to the caller whose write decided it. */
  decide(fileId: string, version: ObjectVersion, verdict: Verdict): Promise<Versioned & { won: boolean }>;
  /**
   * Records the clean copy of exactly this version, only while it is the record's version and VERIFIED; false
   * otherwise (a newer drop took the record over, or the file was deleted): the caller withdraws the copy.
   */
  markPromoted(fileId: string, version: ObjectVersion, copy: CleanCopy): Promise<boolean>;
  /** Forgets the clean copies of the version with this sequencer once they are withdrawn. */
  forgetCleanCopy(fileId: string, sequencer: string): Promise<void>;
  /**
   * A VERIFIED version whose bytes could not be promoted (gone, or not the judged bytes) ends FAILED with the
   * reason; `won: false` when the record is no longer that unpromoted VERIFIED version.
   */
  holdUnpromoted(
    fileId: string,
    version: ObjectVersion,
    reason: string,
  ): Promise<Versioned & { won: boolean }>;
  /**
   * Claims the right to send the verdict notification for `leaseSeconds`; false when it was sent (confirmed), or
   * another caller holds a claim that has not lapsed. A lapsed claim without confirmation can be claimed again.
   */
  claimNotification(fileId: string, version: ObjectVersion, leaseSeconds: number): Promise<boolean>;
  releaseNotification(fileId: string, version: ObjectVersion): Promise<void>;
  confirmNotification(fileId: string, version: ObjectVersion, messageId: string): Promise<void>;
  /** Remembers why a stage attempt failed, so a dead-lettered message can say why. Best effort. */
  noteStageFailure(fileId: string, version: ObjectVersion, stage: StageName, message: string): Promise<void>;
  list(query: ListQuery): Promise<ListPage>;
  putUploadSession(session: UploadSession): Promise<void>;
  getUploadSession(fileId: string): Promise<UploadSession | undefined>;
  /**
   * Closes a multipart upload session once, as completed or aborted (a conditional write): `won` for the caller
   * that closed it, otherwise how it had been closed. `expiresAt` (epoch seconds) lets the store forget it.
   */
  closeUploadSession(
    fileId: string,
    how: UploadClosure,
    expiresAt: number,
  ): Promise<{ won: boolean; how: UploadClosure }>;
  /** Re-opens a session this caller closed as `how` when the storage service refused the completion or abort. */
  reopenUploadSession(fileId: string, how: UploadClosure): Promise<void>;
  /**
   * Marks exactly this version of a file deleted and leaves an audit stub (no stage results, facts or reasons);
   * the audit trail stays. False when the record has moved to another version since.
   */
  markDeleted(fileId: string, version: ObjectVersion): Promise<boolean>;
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
  /** When S3 stored this version (its Last-Modified): when it landed, whatever the event's delivery time. */
  lastModified?: Date;
}

/** What a promotion copies besides the bytes: the judged SHA-256 and type, so anyone can check the clean copy. */
export interface JudgedBytes {
  sha256: string;
  /** The detected type's MIME type: the clean copy's Content-Type (never the uploader's claim). */
  contentType: string;
  fileId: string;
}

/**
 * Objects in the buckets. Every read, copy, tag and delete of an ingest object is pinned to one object version:
 * by its version id where the bucket has them, else by its ETag (`If-Match` / `x-amz-copy-source-if-match`).
 * An ObjectVersion with neither is refused (UnpinnedObjectError): it could name any bytes.
 */
export interface ObjectStore {
  /** The first `length` bytes of exactly this version (a ranged read), with its declared content type. */
  readHead(version: ObjectVersion, length: number): Promise<ObjectHead>;
  /** The last `length` bytes of exactly this version (a suffix range read). */
  readTail?(version: ObjectVersion, length: number): Promise<Uint8Array>;
  /**
   * The whole of exactly this version, as a stream of chunks. With `maxBytes`, an object larger than that is not
   * read at all: ObjectTooLargeError, before any of its body is taken.
   */
  stream(version: ObjectVersion, options?: { maxBytes?: number }): Promise<AsyncIterable<Uint8Array>>;
  /**
   * Copies exactly this version to the clean bucket under the same key, carrying the judged SHA-256; returns
   * the copy. ObjectVersionGoneError when the version is gone, or the copy turned out not to be the judged
   * bytes (it is withdrawn again before the error).
   */
  promote(version: ObjectVersion, cleanBucket: string, judged: JudgedBytes): Promise<CleanCopy>;
  /** Deletes exactly this clean copy (never a newer one under the same key); a copy already gone is ignored. */
  withdraw(cleanBucket: string, copy: CleanCopy): Promise<void>;
  /** Deletes exactly this version from the ingest bucket; a version already gone or replaced is left alone. */
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

/** Raised by an ObjectStore asked to act on an object version that has neither a version id nor an ETag. */
export class UnpinnedObjectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnpinnedObjectError";
  }
}

/** Raised by ObjectStore.stream when the object is larger than the caller will read. */
export class ObjectTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly maxBytes: number,
  ) {
    super(`the object is ${size} bytes, above the ${maxBytes} bytes it may have`);
    this.name = "ObjectTooLargeError";
  }
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
