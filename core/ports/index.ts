/**
 * The ports the core depends on, one file per port family. Domain and use-case code see only these interfaces;
 * `core/adapters/` implements them for DynamoDB, S3, SNS and Textract, and `tests/support/memory.ts` in memory.
 */
import type { AuditLog, AuditTrail } from "./audit-log.ts";
import type { FileDeletions, FileListing, FileRecords, FileRescans, FileVerdicts } from "./file-records.ts";
import type { NotificationClaims } from "./notification-claims.ts";
import type { UnreadableMessages } from "./unreadable-messages.ts";
import type { UploadSessions } from "./upload-sessions.ts";

export type { AuditEntry, AuditLog, AuditRecord, AuditTrail } from "./audit-log.ts";
export * from "./errors.ts";
export type {
  Decided,
  FileDeletions,
  FileListing,
  FileRecords,
  FileRescans,
  FileVerdicts,
  ListPage,
  ListQuery,
  NewFile,
  Versioned,
} from "./file-records.ts";
export type { NotificationClaims } from "./notification-claims.ts";
export type { Notifier, OutgoingNotification } from "./notifier.ts";
export type { ChecksummedBody, CleanCopy, JudgedBytes, ObjectHead, ObjectStore } from "./objects.ts";
export type { ScanCache, ScanPart, ScanPartStore } from "./scan.ts";
export type { OcrEngine, OcrJob, OcrJobResult, OcrJobStore, OcrText, TextStore } from "./text-and-ocr.ts";
export type { UnreadableMessages } from "./unreadable-messages.ts";
export type { UploadClosure, UploadSessionLookup, UploadSessions } from "./upload-sessions.ts";

/**
 * Every port the one DynamoDB table serves, as the composition root wires it. Use cases never ask for this:
 * each names the ports it uses.
 */
export interface RecordStore
  extends FileRecords,
    FileVerdicts,
    FileListing,
    FileDeletions,
    FileRescans,
    UploadSessions,
    AuditLog,
    AuditTrail,
    NotificationClaims,
    UnreadableMessages {}
