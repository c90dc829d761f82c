/**
 * What the API's use cases depend on: the split record ports (only the methods each needs), the storage ports,
 * and the settings that shape uploads and downloads. Built once by the composition root (handlers/api.ts).
 */
import type { AuditLog } from "../../ports/audit-log.ts";
import type { FileDeletions, FileListing, FileRecords } from "../../ports/file-records.ts";
import type { OcrJobStore, TextStore } from "../../ports/text-and-ocr.ts";
import type { UploadSessions } from "../../ports/upload-sessions.ts";
import type { ContentEraser, DownloadSigner, UploadStorage } from "../../ports/uploads.ts";

/** Reading one file record: all the API needs of FileRecords. */
export type FileLookup = Pick<FileRecords, "get">;

/** Where the use cases say what a client did wrong in the storage service's terms, for operators. */
export interface ApiLogger {
  warn(message: string, details: Record<string, unknown>): void;
}

export interface UploadSettings {
  maxSizeBytes: number;
  allowedTypes: readonly string[];
  uploadExpirySeconds: number;
  multipartThresholdBytes: number;
}

export interface UploadDeps {
  sessions: UploadSessions;
  files: FileLookup;
  audit: AuditLog;
  storage: UploadStorage;
  settings: UploadSettings;
  now: () => Date;
  /** Mints a file id (time-ordered); see core/http/ids.ts. */
  newFileId: (nowMs: number) => string;
  logger?: ApiLogger;
}

export interface FileDeps {
  files: FileLookup;
  sessions: Pick<UploadSessions, "getUploadSession">;
  listing: FileListing;
  deletions: FileDeletions;
  audit: AuditLog;
  downloads: DownloadSigner;
  eraser: ContentEraser;
  /** Staged extracted text, dropped when its file is deleted. */
  texts: Pick<TextStore, "discard">;
  /** OCR jobs (they carry the facts found before OCR), dropped when their file is deleted. */
  ocrJobs?: Pick<OcrJobStore, "remove">;
  cleanBucket: string;
  downloadExpirySeconds: number;
  now: () => Date;
}
