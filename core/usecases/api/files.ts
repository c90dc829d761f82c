/**
 * The file use cases: listing an owner's files, showing one (or the upload it is still waiting for), signing a
 * download of a VERIFIED file, and deleting a file with every stored copy of its content. Another owner's file
 * is NoSuchFileError, exactly like a file that does not exist.
 */
import type { DownloadLink, FileList, FileView } from "../../contract/api.ts";
import { displayName } from "../../domain/file-names.ts";
import { FILE_ID, textKey } from "../../domain/keys.ts";
import type { FileRecord, FileStatus } from "../../domain/types.ts";
import type { ErasedKey } from "../../ports/uploads.ts";
import type { FileDeps } from "./deps.ts";
import {
  FileBusyError,
  FileChangedError,
  FileDeletedError,
  NoSuchFileError,
  NotDownloadableError,
  NotPreviewableError,
} from "./errors.ts";
import { publicRecord } from "./public-record.ts";

const PREVIEWABLE = new Set(["png", "jpg", "gif", "webp", "pdf"]);

async function ownFile(deps: Pick<FileDeps, "files">, owner: string, fileId: string): Promise<FileRecord> {
  if (!FILE_ID.test(fileId)) throw new NoSuchFileError();
  const record = await deps.files.get(fileId);
  if (!record || record.owner !== owner) throw new NoSuchFileError();
  return record;
}

export interface FileQuery {
  status?: FileStatus;
  type?: string;
  limit: number;
  /** Where the previous page ended, as the store returned it (decoded from the caller's cursor). */
  after?: Record<string, string>;
}

/** `GET /files`: a page of the owner's files; deleted ones only when asked for by status. */
export async function listFiles(
  deps: Pick<FileDeps, "listing">,
  owner: string,
  query: FileQuery,
): Promise<{ files: FileList["files"]; last?: Record<string, string> }> {
  const { status, type, limit, after } = query;
  const page = await deps.listing.list({ owner, status, type, limit, after });
  const files = page.records.filter((r) => status === "DELETED" || r.status !== "DELETED").map(publicRecord);
  return { files: files satisfies FileView[], last: page.last };
}

/** `GET /files/{id}`: the public record, or the presigned upload that has not landed yet (to its uploader). */
export async function getFile(
  deps: Pick<FileDeps, "files" | "sessions">,
  owner: string,
  fileId: string,
): Promise<FileView> {
  if (!FILE_ID.test(fileId)) throw new NoSuchFileError();
  const record = await deps.files.get(fileId);
  if (record && record.owner === owner) return publicRecord(record);
  const session = record ? undefined : await deps.sessions.getUploadSession(fileId);
  if (session && session.owner === owner)
    return { fileId: session.fileId, name: session.filename, status: "AWAITING_UPLOAD", size: session.size };
  throw new NoSuchFileError();
}

/** `GET /files/{id}/download`: a short-lived URL of the clean copy, as an attachment or an inline preview. */
export async function downloadLink(
  deps: Pick<FileDeps, "files" | "downloads" | "audit" | "downloadExpirySeconds" | "now">,
  owner: string,
  fileId: string,
  options: { inline: boolean },
): Promise<DownloadLink> {
  const record = await ownFile(deps, owner, fileId);
  if (record.status === "DELETED") throw new FileDeletedError();
  if (record.status !== "VERIFIED" || !record.cleanKey)
    throw new NotDownloadableError(publicRecord(record).status);
  const { inline } = options;
  const type = record.detectedType;
  if (inline && !(type && PREVIEWABLE.has(type.id))) throw new NotPreviewableError();
  const name = displayName(record.key);
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const disposition = `${inline ? "inline" : "attachment"}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
  const url = await deps.downloads.signDownload(
    record.cleanKey,
    { disposition, contentType: type?.mime ?? "application/octet-stream" },
    deps.downloadExpirySeconds,
  );
  await deps.audit.audit(record.fileId, { action: "download", actor: owner, detail: { inline } });
  return { url, expiresAt: new Date(deps.now().getTime() + deps.downloadExpirySeconds * 1000).toISOString() };
}

/**
 * Erases every stored copy of a file's content: all versions of its ingest and clean objects and of its
 * extracted text, the staged text and any OCR job. Idempotent, so a failed delete can be repeated. The buckets
 * are versioned exactly when the file's S3 event named a version id (see s3-erase.ts).
 */
async function erase(deps: FileDeps, record: FileRecord): Promise<ErasedKey[]> {
  const versioned = record.version.versionId !== undefined;
  const targets = [
    { bucket: record.version.bucket, key: record.version.key },
    { bucket: deps.cleanBucket, key: record.cleanKey ?? record.version.key },
    { bucket: deps.cleanBucket, key: record.textKey ?? textKey(record.fileId) },
  ];
  const erased: ErasedKey[] = [];
  for (const target of targets) erased.push(await deps.eraser.erase({ ...target, versioned }));
  await deps.texts.discard(record.fileId);
  await deps.ocrJobs?.remove(record.fileId);
  return erased;
}

/**
 * `DELETE /files/{id}`: marks the file deleted (its facts dropped, an audit stub kept), then erases its content.
 * A file the pipeline still works on is refused; deleting a deleted file repeats the erasure.
 */
export async function deleteFile(deps: FileDeps, owner: string, fileId: string): Promise<void> {
  const record = await ownFile(deps, owner, fileId);
  // While the pipeline still works on a file (or is promoting it) a delete would race its writes.
  if (publicRecord(record).status === "PENDING") throw new FileBusyError();
  if (record.status !== "DELETED") {
    // Marked first, so that nothing shows the content while it is erased; a delete that fails half-way is
    // repeated by deleting again.
    if (!(await deps.deletions.markDeleted(record.fileId, record.version))) throw new FileChangedError();
  }
  const erased = await erase(deps, record);
  await deps.audit.audit(record.fileId, {
    action: record.status === "DELETED" ? "delete:repeat" : "delete",
    actor: owner,
    detail: { erased },
  });
}
