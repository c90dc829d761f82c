/**
 * The pipeline's own re-check of where and how an object landed — the second wall behind S3's POST policy, SigV4
 * and IAM, which must hold alone where those are not enforced.
 *
 * - An object under `uploads/` must be exactly `uploads/<id>/<name>` and land exactly as its upload session was
 *   presigned: same key, size and Content-Type, the session's owner and id in its metadata (`x-amz-meta-owner`,
 *   `x-amz-meta-upload-id`; a form with either removed is rejected), before the SESSION's own `expiresAt` (judged by
 *   the object's Last-Modified, not by when a record was first made). An id with no session is rejected.
 * - One session admits one object, once: the file record belongs to the first object registered for it, and any
 *   other object (a second post of the form, another owner's form aimed at the key, a post after the file was
 *   deleted) is rejected without touching the record (see RecordStore.register and runStage).
 * - An object carrying an upload's metadata outside its upload key (a form whose key was changed to
 *   `drops/<system>/…`) is rejected, and so is any key outside the `uploads/` and `drops/<system>/` layouts.
 */
import { describeKey, isUnderUploads } from "./keys.ts";
import type { UploadSession } from "./types.ts";

/** Seconds an object may land after its session's expiry (clock skew, S3 accepting right at the deadline). */
const GRACE_SECONDS = 60;

export interface LandedObject {
  key: string;
  size: number;
  contentType?: string;
  /** The object's user metadata (`x-amz-meta-*`, names without the prefix). */
  metadata: Record<string, string>;
  /** When the store says the object landed (Last-Modified). */
  landedAt: Date;
}

export function uploadSessionProblems(session: UploadSession | undefined, landed: LandedObject): string[] {
  if (!session) return ["no upload session was presigned for this object"];
  const problems: string[] = [];
  if (landed.landedAt.getTime() / 1000 > session.expiresAt + GRACE_SECONDS)
    problems.push("uploaded after its upload session expired");
  if (landed.key !== session.key) problems.push("key differs from the presigned key");
  if (landed.size !== session.size)
    problems.push(`size ${landed.size} differs from the presigned size ${session.size}`);
  const declared = (landed.contentType ?? "").split(";")[0]?.trim().toLowerCase();
  if (declared !== session.contentType.toLowerCase()) {
    problems.push(
      `Content-Type ${landed.contentType ?? "(none)"} differs from the presigned ${session.contentType}`,
    );
  }
  const { owner, "upload-id": uploadId } = landed.metadata;
  if (owner === undefined) problems.push("the owner metadata of the presigned form is missing");
  else if (owner !== session.owner) problems.push("owner metadata differs from the presigned owner");
  if (uploadId === undefined) problems.push("the upload-id metadata of the presigned form is missing");
  else if (uploadId !== session.fileId) problems.push("upload-id metadata differs from the presigned upload");
  return problems;
}

/** What is wrong with where an object landed, whatever its session: keys outside Airlock's two layouts. */
export function keyLayoutProblems(bucket: string, key: string, metadata: Record<string, string>): string[] {
  const file = describeKey(bucket, key);
  if (file.source === "api") return [];
  if (isUnderUploads(key))
    return ["keys under uploads/ must be exactly uploads/<id>/<name>; this one matches no upload session"];
  const problems: string[] = [];
  if (!file.owner) problems.push("the key is outside the uploads/<id>/<name> and drops/<system>/… layouts");
  if (metadata["upload-id"] !== undefined)
    problems.push(
      `the object carries the metadata of upload ${metadata["upload-id"]} but landed outside its presigned key`,
    );
  return problems;
}

/** Why an object that is not its session's one object is rejected (the record stays as it is). */
export function extraObjectReason(status: string): string {
  return status === "DELETED"
    ? "the file was deleted; its upload session admits no further object"
    : "its upload session was already used by another object; a session admits one object, once";
}
