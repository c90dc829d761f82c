/**
 * The upload-session rule: an object under `uploads/` must land exactly as it was presigned — same key, size,
 * Content-Type and owner, before the session expired. S3 enforces the presigned policy in AWS; this check makes
 * the verdict independent of that (and holds where the policy is not checked).
 */
import type { UploadSession } from "./types.ts";

/** Seconds an object may land after its session's expiry (clock skew, S3 accepting right at the deadline). */
const GRACE_SECONDS = 60;

export interface LandedObject {
  key: string;
  size: number;
  contentType?: string;
  owner?: string;
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
  if (landed.owner !== undefined && landed.owner !== session.owner)
    problems.push("owner metadata differs from the presigned owner");
  return problems;
}
