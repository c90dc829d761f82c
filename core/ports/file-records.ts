/**
 * The file-record ports: one record per file id, every state change a conditional write on the record's current
 * object version. Split by what callers need: the stages register versions and write results (`FileRecords`),
 * settlement decides and promotes (`FileVerdicts`), the API and the sweeper list (`FileListing`), the API deletes
 * (`FileDeletions`) and operators rescan (`FileRescans`). One table stands behind them all.
 *
 * The rule for objects arriving under a file id that has a record:
 * - API upload: one session admits one object, once. The record belongs to the first object registered; any
 *   other object (newer or older, after a verdict or a delete) is `stale` and never changes the record.
 * - drop: a newer object (by S3 sequencer) takes the record over and resets it to PENDING; its predecessor's clean
 *   copies stay listed in `cleanCopy` until withdrawn. An older one is `stale`.
 */
import type {
  CleanCopy,
  FileRecord,
  FileStatus,
  ObjectVersion,
  Source,
  StageName,
  StageResult,
} from "../domain/types.ts";
import type { Verdict } from "../domain/verdict.ts";
import type { AuditEntry } from "./audit-log.ts";

/** The result of a conditional write: `stale` when a newer object version owns the record. */
export type Versioned = { kind: "current"; record: FileRecord } | { kind: "stale"; record: FileRecord };

/** A conditional write that may also have lost: `won` only for the caller whose write changed the record. */
export type Decided = Versioned & { won: boolean };

export interface NewFile {
  fileId: string;
  source: Source;
  owner?: string;
}

/** Reading a record, registering object versions and recording stage results. */
export interface FileRecords {
  get(fileId: string): Promise<FileRecord | undefined>;
  /** Registers the version; `audit` is appended to the file's trail with the write, only when it wins. */
  register(version: ObjectVersion, file: NewFile, audit?: AuditEntry): Promise<Decided>;
  /**
   * Writes a stage result once per version; a repeated write returns the record as it is. `audit` is appended to
   * the file's trail with the write, only by the call that wrote the result (`won`).
   */
  putStageResult(
    fileId: string,
    version: ObjectVersion,
    result: StageResult,
    audit?: AuditEntry,
  ): Promise<Decided>;
  /** Remembers why a stage attempt failed, so a dead-lettered message can say why. Best effort. */
  noteStageFailure(fileId: string, version: ObjectVersion, stage: StageName, message: string): Promise<void>;
}

/** The verdict and what follows it: decided once, promoted only while still that VERIFIED version. */
export interface FileVerdicts {
  /** Sets the final status once; returns `won: true` only to the caller whose write decided it. */
  decide(fileId: string, version: ObjectVersion, verdict: Verdict): Promise<Decided>;
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
  holdUnpromoted(fileId: string, version: ObjectVersion, reason: string): Promise<Decided>;
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
  /**
   * Only decided records whose notification was never confirmed (no `notificationId`; status queries only):
   * the sweeper's search for unfinished settlements, answered from the status index without reading the rest.
   */
  unnotified?: boolean;
  /** The last key of the previous page, as the store returned it. */
  after?: Record<string, string>;
}

export interface ListPage {
  records: FileRecord[];
  last?: Record<string, string>;
}

/**
 * Pages of records by owner or by status, newest first. A page holds the records as they are when read: one that
 * left the page's status (or no longer matches its filters) since the index listed it is left out, so a page
 * may be shorter than `limit` and still have a `last` key.
 */
export interface FileListing {
  list(query: ListQuery): Promise<ListPage>;
}

export interface FileDeletions {
  /**
   * Marks exactly this version of a file deleted and leaves an audit stub (no stage results, facts or reasons);
   * the audit trail stays. False when the record has moved to another version since.
   */
  markDeleted(fileId: string, version: ObjectVersion): Promise<boolean>;
}

export interface FileRescans {
  /**
   * Re-opens a held, unpromoted file of exactly this version and status for a new scan: status PENDING, the scan
   * result and the notification claim cleared, `rescans` counted. `won: false` when anything differs.
   */
  reopenForRescan(fileId: string, version: ObjectVersion, status: FileStatus): Promise<Decided>;
}
