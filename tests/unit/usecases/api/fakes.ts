/**
 * In-memory fakes of the API's ports, for the use-case and route tests. Each implements its port as declared
 * (no casts), and each can be told to refuse the way the real adapter does.
 */
import { tokenOwner } from "../../../../core/domain/owners.ts";
import type { FileRecord, ObjectVersion, UploadSession } from "../../../../core/domain/types.ts";
import type { AuditEntry, AuditLog } from "../../../../core/ports/audit-log.ts";
import type { FileDeletions, FileListing, ListPage, ListQuery } from "../../../../core/ports/file-records.ts";
import type { OcrJobStore, TextStore } from "../../../../core/ports/text-and-ocr.ts";
import type { UploadClosure, UploadSessions } from "../../../../core/ports/upload-sessions.ts";
import type {
  ContentEraser,
  DownloadSigner,
  ErasedKey,
  SignedPost,
  StoredParts,
  UploadStorage,
  UploadTarget,
} from "../../../../core/ports/uploads.ts";
import type { FileLookup } from "../../../../core/usecases/api/deps.ts";

export const OWNER = tokenOwner("https://idp.example.com/", "alice");
export const OTHER = tokenOwner("https://idp.example.com/", "bob");
export const FID = "0123456789abcdefghjkmnpqrs";
export const NOW = new Date("2026-11-22T10:00:00Z");
export const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);

export class MemoryApiRecords implements FileLookup, FileListing, FileDeletions, UploadSessions, AuditLog {
  readonly files = new Map<string, FileRecord>();
  readonly sessions = new Map<string, UploadSession>();
  readonly closed = new Map<string, UploadClosure>();
  readonly audits: { fileId: string; entry: AuditEntry }[] = [];

  async get(fileId: string): Promise<FileRecord | undefined> {
    return this.files.get(fileId);
  }

  async list(query: ListQuery): Promise<ListPage> {
    const all = [...this.files.values()]
      .filter((r) => query.owner === undefined || r.owner === query.owner)
      .filter((r) => query.status === undefined || r.status === query.status)
      .filter((r) => query.type === undefined || r.detectedType?.id === query.type)
      .sort((a, b) => a.fileId.localeCompare(b.fileId));
    const start = query.after ? all.findIndex((r) => r.fileId === query.after?.fileId) + 1 : 0;
    const records = all.slice(start, start + query.limit);
    const lastRecord = records.at(-1);
    const more = start + query.limit < all.length;
    return { records, last: more && lastRecord ? { fileId: lastRecord.fileId } : undefined };
  }

  async markDeleted(fileId: string, version: ObjectVersion): Promise<boolean> {
    const record = this.files.get(fileId);
    if (!record || record.version.sequencer !== version.sequencer) return false;
    this.files.set(fileId, {
      ...record,
      status: "DELETED",
      stages: {},
      reasons: [],
      deletedAt: NOW.toISOString(),
    });
    return true;
  }

  async getUploadSession(fileId: string): Promise<UploadSession | undefined> {
    return this.sessions.get(fileId);
  }

  async putUploadSession(session: UploadSession): Promise<void> {
    if (this.sessions.has(session.fileId)) throw new Error(`session ${session.fileId} exists`);
    this.sessions.set(session.fileId, session);
  }

  async closeUploadSession(
    fileId: string,
    how: UploadClosure,
  ): Promise<{ won: boolean; how: UploadClosure }> {
    const was = this.closed.get(fileId);
    if (was) return { won: false, how: was };
    this.closed.set(fileId, how);
    return { won: true, how };
  }

  async reopenUploadSession(fileId: string, how: UploadClosure): Promise<void> {
    if (this.closed.get(fileId) === how) this.closed.delete(fileId);
  }

  async audit(fileId: string, entry: AuditEntry): Promise<void> {
    this.audits.push({ fileId, entry });
  }
}

/** Upload storage in memory: multipart uploads by id with their parts; `refuse` makes the next call fail. */
export class MemoryUploadStorage implements UploadStorage {
  readonly uploads = new Map<
    string,
    { key: string; parts: StoredParts; state: "open" | "done" | "aborted" }
  >();
  readonly signed: { key: string; uploadId: string; partNumber: number; size: number; expiresIn: number }[] =
    [];
  completed: { key: string; parts: readonly { partNumber: number; etag: string }[] } | undefined;
  /** The error the next multipart call (list, complete, abort) throws. */
  refuse: Error | undefined;
  private next = 1;

  private takeRefusal() {
    const error = this.refuse;
    this.refuse = undefined;
    if (error) throw error;
  }

  async signPost(target: UploadTarget, size: number, expiresIn: number): Promise<SignedPost> {
    return {
      url: "https://ingest.example/",
      fields: {
        key: target.key,
        "Content-Type": target.contentType,
        "x-amz-meta-owner": target.owner,
        "x-amz-meta-upload-id": target.fileId,
        size: String(size),
        expires: String(expiresIn),
      },
    };
  }

  async createMultipart(target: UploadTarget): Promise<string> {
    const id = `mpu-${this.next++}`;
    this.uploads.set(id, { key: target.key, parts: new Map(), state: "open" });
    return id;
  }

  async signPart(
    key: string,
    uploadId: string,
    part: { partNumber: number; size: number },
    expiresIn: number,
  ): Promise<string> {
    this.signed.push({ key, uploadId, ...part, expiresIn });
    return `https://ingest.example/${key}?uploadId=${uploadId}&partNumber=${part.partNumber}`;
  }

  async listParts(_key: string, uploadId: string): Promise<StoredParts> {
    this.takeRefusal();
    return new Map(this.uploads.get(uploadId)?.parts ?? []);
  }

  async completeMultipart(
    key: string,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ): Promise<void> {
    this.takeRefusal();
    const upload = this.uploads.get(uploadId);
    if (upload) upload.state = "done";
    this.completed = { key, parts };
  }

  async abortMultipart(_key: string, uploadId: string): Promise<void> {
    this.takeRefusal();
    const upload = this.uploads.get(uploadId);
    if (upload) upload.state = "aborted";
  }
}

export class MemoryDownloads implements DownloadSigner {
  readonly signed: { key: string; disposition: string; contentType: string; expiresIn: number }[] = [];
  async signDownload(
    key: string,
    response: { disposition: string; contentType: string },
    expiresIn: number,
  ): Promise<string> {
    this.signed.push({ key, ...response, expiresIn });
    return `https://clean.example/${key}?signed=1`;
  }
}

/** Objects by bucket and key, each with its version ids; erasing removes them all. */
export class MemoryEraser implements ContentEraser {
  readonly objects = new Map<string, string[]>();
  put(bucket: string, key: string, versionIds: string[]) {
    this.objects.set(`${bucket}/${key}`, versionIds);
  }
  async erase(target: { bucket: string; key: string; versioned: boolean }): Promise<ErasedKey> {
    const id = `${target.bucket}/${target.key}`;
    const versionIds = this.objects.get(id) ?? [];
    this.objects.delete(id);
    return target.versioned
      ? { bucket: target.bucket, key: target.key, versionIds }
      : { bucket: target.bucket, key: target.key, versionIds: [], unversioned: true };
  }
}

export class MemoryStaged implements Pick<TextStore, "discard">, Pick<OcrJobStore, "remove"> {
  readonly discarded: string[] = [];
  readonly removed: string[] = [];
  async discard(fileId: string): Promise<void> {
    this.discarded.push(fileId);
  }
  async remove(fileId: string): Promise<void> {
    this.removed.push(fileId);
  }
}

export function fileRecord(overrides: Partial<FileRecord> = {}): FileRecord {
  const key = `uploads/${FID}/a.pdf`;
  return {
    fileId: FID,
    key,
    bucket: "ingest",
    owner: OWNER,
    source: "api",
    status: "VERIFIED",
    reasons: [],
    stages: {},
    size: 10,
    version: { bucket: "ingest", key, sequencer: "1", size: 10, versionId: "v-ingest" },
    cleanKey: key,
    detectedType: { id: "pdf", mime: "application/pdf", ext: "pdf" },
    createdAt: "2026-11-22T09:00:00.000Z",
    updatedAt: "2026-11-22T09:00:00.000Z",
    ...overrides,
  };
}

export function uploadSession(overrides: Partial<UploadSession> = {}): UploadSession {
  return {
    fileId: FID,
    owner: OWNER,
    key: `uploads/${FID}/big.txt`,
    filename: "big.txt",
    contentType: "text/plain",
    size: 20 * 1024 * 1024,
    multipartUploadId: "mpu-1",
    expiresAt: NOW_SECONDS + 300,
    createdAt: NOW.toISOString(),
    ...overrides,
  };
}
