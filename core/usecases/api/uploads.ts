/**
 * The upload use cases: what the server accepts, presigning an upload (a POST form, or a multipart upload with
 * one URL per part), resuming, completing and aborting a multipart upload. Every session is its owner's: another
 * owner's session is NoSuchUploadError, exactly like one that does not exist.
 */
import type {
  CompleteRequest,
  CompleteResult,
  MultipartUpload,
  ResumePlan,
  UploadPlan,
  UploadPolicy,
  UploadRequest,
} from "../../contract/api.ts";
import { contentTypeAgrees, extensionAgrees, extensionsOf } from "../../domain/content/validate.ts";
import { uploadName } from "../../domain/file-names.ts";
import { extensionOf, FILE_ID, uploadKey } from "../../domain/keys.ts";
import { TYPE_MIMES } from "../../domain/mime.ts";
import { describeAccepted } from "../../domain/reasons.ts";
import type { UploadSession } from "../../domain/types.ts";
import type { UploadDeps, UploadSettings } from "./deps.ts";
import {
  ExtensionMismatchError,
  FileTooLargeError,
  InvalidFileNameError,
  isStorageRefusal,
  NoSuchUploadError,
  NotMultipartError,
  PartsMismatchError,
  UnsupportedTypeError,
  UploadClosedError,
  UploadExpiredError,
  UploadNotOpenError,
} from "./errors.ts";

/** Seconds a multipart upload may still be completed after its session expired (as the pipeline allows). */
const COMPLETE_GRACE_SECONDS = 60;

/** The allowed types a declared Content-Type stands for. */
export function typesForContentType(contentType: string, allowed: readonly string[]): string[] {
  return allowed.filter((id) => {
    const mime = TYPE_MIMES[id];
    return mime !== undefined && contentTypeAgrees({ id, mime, ext: id }, contentType);
  });
}

/** The allowed type a declared Content-Type stands for, if any. */
export function typeForContentType(contentType: string, allowed: readonly string[]): string | undefined {
  return typesForContentType(contentType, allowed)[0];
}

/**
 * How a multipart upload of `size` bytes is cut: parts of at least 8 MiB, at most 10,000 of them, the last one
 * the remainder. Each part URL is signed for exactly its length.
 */
export function multipartPlan(size: number): { partSize: number; sizes: number[] } {
  const partSize = Math.max(8 * 1024 * 1024, Math.ceil(size / 10_000));
  const count = Math.ceil(size / partSize);
  const sizes = Array.from({ length: count }, (_, i) =>
    i < count - 1 ? partSize : size - partSize * (count - 1),
  );
  return { partSize, sizes };
}

/** How long the record of a closed upload is kept: a day past its session, longer than any retry. */
const closedUntil = (session: UploadSession) => session.expiresAt + 86_400;
const isoSeconds = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

/** `GET /uploads/policy`: the size limit and the accepted types with their extensions, and both in words. */
export function uploadPolicy(settings: UploadSettings): UploadPolicy {
  const types = settings.allowedTypes.flatMap((id) => {
    const contentType = TYPE_MIMES[id];
    return contentType === undefined ? [] : [{ id, contentType, extensions: extensionsOf(id) }];
  });
  return {
    maxSizeBytes: settings.maxSizeBytes,
    multipartThresholdBytes: settings.multipartThresholdBytes,
    types,
    description: describeAccepted(
      types.map((t) => t.id),
      settings.maxSizeBytes,
    ),
  };
}

async function ownSession(deps: Pick<UploadDeps, "sessions">, owner: string, fileId: string) {
  if (!FILE_ID.test(fileId)) throw new NoSuchUploadError();
  const session = await deps.sessions.getUploadSession(fileId);
  if (!session || session.owner !== owner) throw new NoSuchUploadError();
  return session;
}

/** The session's multipart upload id; a POST-form upload has none. */
function multipartId(session: UploadSession): string {
  if (!session.multipartUploadId) throw new NotMultipartError();
  return session.multipartUploadId;
}

/**
 * A storage refusal that is the client's doing is logged for operators and passed on; an upload the storage
 * service no longer knows is told apart by whether its file has landed (then it was completed after all).
 */
async function refusal(deps: UploadDeps, error: unknown, fileId: string, action: string): Promise<unknown> {
  if (!isStorageRefusal(error)) return error;
  if (error instanceof UploadNotOpenError) error.landed = (await deps.files.get(fileId)) !== undefined;
  const cause = error.cause;
  deps.logger?.warn("Multipart request refused by S3", {
    fileId,
    action,
    s3Error: cause instanceof Error ? cause.name : error.name,
    s3Message: cause instanceof Error ? cause.message : String(cause),
  });
  return error;
}

/** `POST /uploads`: checks size, type and name, then signs the upload and opens its session. */
export async function requestUpload(
  deps: UploadDeps,
  owner: string,
  request: UploadRequest,
): Promise<UploadPlan> {
  const { settings } = deps;
  if (request.size > settings.maxSizeBytes) throw new FileTooLargeError(request.size, settings.maxSizeBytes);
  const contentType = request.contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  const types = typesForContentType(contentType, settings.allowedTypes);
  if (types.length === 0) throw new UnsupportedTypeError(contentType);
  const named = uploadName(request.filename);
  if (!named.ok) {
    const [problem] = named.problems;
    throw new InvalidFileNameError(problem?.code, problem?.message ?? "is not usable");
  }
  const name = named.name;
  if (!types.some((id) => extensionAgrees({ id, mime: contentType, ext: id }, name)))
    throw new ExtensionMismatchError(extensionOf(name), contentType, types[0] ?? "");

  const started = deps.now();
  const fileId = deps.newFileId(started.getTime());
  const key = uploadKey(fileId, name);
  const expiresAt = Math.floor(started.getTime() / 1000) + settings.uploadExpirySeconds;
  const target = { key, contentType, owner, fileId };
  let multipartUploadId: string | undefined;
  let upload: UploadPlan["upload"];
  if (request.size > settings.multipartThresholdBytes) {
    const uploadId = await deps.storage.createMultipart(target);
    multipartUploadId = uploadId;
    const { partSize, sizes } = multipartPlan(request.size);
    const parts = await Promise.all(
      sizes.map(async (size, i) => {
        const part = { partNumber: i + 1, size };
        return {
          ...part,
          url: await deps.storage.signPart(key, uploadId, part, settings.uploadExpirySeconds),
        };
      }),
    );
    upload = { method: "MULTIPART", uploadId, partSize, parts };
  } else {
    const post = await deps.storage.signPost(target, request.size, settings.uploadExpirySeconds);
    upload = { method: "POST", url: post.url, fields: post.fields };
  }
  // Independent writes: the session (conditional on a fresh id) and the audit entry go out together.
  await Promise.all([
    deps.sessions.putUploadSession({
      fileId,
      owner,
      key,
      filename: name,
      contentType,
      size: request.size,
      sha256: request.sha256,
      multipartUploadId,
      expiresAt,
      createdAt: started.toISOString(),
    }),
    deps.audit.audit(fileId, {
      action: "presign",
      actor: owner,
      detail: { key, size: request.size, contentType },
    }),
  ]);
  return { fileId, key, expiresAt: isoSeconds(expiresAt), upload };
}

/**
 * `GET /uploads/{id}/parts`: the parts the storage service holds (of the planned length) and fresh URLs for the
 * missing ones, signed to end with the session.
 */
export async function listParts(deps: UploadDeps, owner: string, fileId: string): Promise<ResumePlan> {
  const session = await ownSession(deps, owner, fileId);
  const uploadId = multipartId(session);
  const nowSeconds = Math.floor(deps.now().getTime() / 1000);
  if (nowSeconds >= session.expiresAt) throw new UploadExpiredError(isoSeconds(session.expiresAt));
  let stored: Awaited<ReturnType<UploadDeps["storage"]["listParts"]>>;
  try {
    stored = await deps.storage.listParts(session.key, uploadId);
  } catch (error) {
    throw await refusal(deps, error, session.fileId, "list-parts");
  }
  const { partSize, sizes } = multipartPlan(session.size);
  const uploaded: ResumePlan["upload"]["uploaded"] = [];
  const missing: { partNumber: number; size: number }[] = [];
  sizes.forEach((size, i) => {
    const part = stored.get(i + 1);
    // A part of another length than planned cannot be completed: it is sent again.
    if (part && part.size === size) uploaded.push({ partNumber: i + 1, size, etag: part.etag });
    else missing.push({ partNumber: i + 1, size });
  });
  // The new URLs end with the session: an object landing after it is refused by the pipeline anyway.
  const expiresIn = Math.min(deps.settings.uploadExpirySeconds, session.expiresAt - nowSeconds);
  const parts: MultipartUpload["parts"] = await Promise.all(
    missing.map(async (part) => ({
      ...part,
      url: await deps.storage.signPart(session.key, uploadId, part, expiresIn),
    })),
  );
  return {
    fileId: session.fileId,
    key: session.key,
    expiresAt: isoSeconds(session.expiresAt),
    upload: { method: "MULTIPART", uploadId, partSize, parts, uploaded },
  };
}

/**
 * `POST /uploads/{id}/complete`: the session is closed first (once), then the storage service completes the
 * upload; when it refuses, the session is re-opened so the client can correct the parts and try again.
 */
export async function completeUpload(
  deps: UploadDeps,
  owner: string,
  fileId: string,
  /** The parsed body, read only once the session is known to be the caller's (an unknown upload is 404). */
  readRequest: () => CompleteRequest,
): Promise<CompleteResult> {
  const session = await ownSession(deps, owner, fileId);
  const uploadId = multipartId(session);
  const request = readRequest();
  if (deps.now().getTime() / 1000 > session.expiresAt + COMPLETE_GRACE_SECONDS)
    throw new UploadExpiredError(isoSeconds(session.expiresAt));
  const { sizes } = multipartPlan(session.size);
  const parts = [...request.parts].sort((a, b) => a.partNumber - b.partNumber);
  if (parts.length !== sizes.length || parts.some((p, i) => p.partNumber !== i + 1))
    throw new PartsMismatchError(sizes.length);
  const closed = await deps.sessions.closeUploadSession(session.fileId, "completed", closedUntil(session));
  if (!closed.won) throw new UploadClosedError(closed.how, "complete");
  try {
    await deps.storage.completeMultipart(session.key, uploadId, parts);
  } catch (error) {
    await deps.sessions.reopenUploadSession(session.fileId, "completed");
    throw await refusal(deps, error, session.fileId, "complete");
  }
  await deps.audit.audit(session.fileId, { action: "upload", actor: owner, detail: { parts: parts.length } });
  return { fileId: session.fileId, status: "PENDING" };
}

/** `DELETE /uploads/{id}`: aborts a multipart upload once; aborting it again is done, not an error. */
export async function abortUpload(deps: UploadDeps, owner: string, fileId: string): Promise<void> {
  const session = await ownSession(deps, owner, fileId);
  const uploadId = multipartId(session);
  const closed = await deps.sessions.closeUploadSession(session.fileId, "aborted", closedUntil(session));
  if (!closed.won) {
    if (closed.how === "aborted") return;
    throw new UploadClosedError(closed.how, "abort");
  }
  try {
    await deps.storage.abortMultipart(session.key, uploadId);
  } catch (error) {
    await deps.sessions.reopenUploadSession(session.fileId, "aborted");
    throw await refusal(deps, error, session.fileId, "abort");
  }
  await deps.audit.audit(session.fileId, { action: "abort", actor: owner });
}
