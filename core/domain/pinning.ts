/**
 * Pinning: every stage reads, and promotion copies, one exact object version. A version id names it where the
 * bucket keeps versions; otherwise its ETag does (S3 refuses a read, copy or delete whose `If-Match` no longer
 * holds). An event with neither could name any bytes that land under the key, so it is never judged.
 */
import type { ObjectVersion } from "./types.ts";

export function isPinned(version: ObjectVersion): boolean {
  return Boolean(version.versionId || version.eTag);
}

export const UNPINNED_REASON =
  "the event names neither a version id nor an ETag of the object, so the bytes judged could not be tied to the bytes promoted";

/** An ETag as an HTTP entity tag (quoted), the form `If-Match` headers take. */
export function entityTag(eTag: string): string {
  return `"${eTag.replace(/"/g, "")}"`;
}
