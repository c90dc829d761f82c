/**
 * How much of an object a stage may read. Validation reads the first bytes only; the scan and metadata stages
 * read the whole object, so they first check its size against the file's limit and refuse at once, without
 * reading, an object that is larger than it may be.
 */
import { formatSize } from "../../domain/format.ts";
import type { FileRecord, UploadSession } from "../../domain/types.ts";

/** Reads the upload session of an API upload (undefined for other objects). */
export type SessionLookup = (fileId: string) => Promise<UploadSession | undefined>;

/**
 * The most bytes a stage reads of a file: its upload session's declared size (an API upload), never more than
 * the policy's maximum. Validation rejects anything larger; the scan and metadata stages, which run at the same
 * time, check this before they stream a byte, so a declaration of 64 MiB that became 40 GiB is not read at all.
 */
export interface SizeLimit {
  maxBytes: number;
  /** In words, for the reason: "the 64 MiB declared for its upload". */
  what: string;
}

export type SizeLimitOf = (record: FileRecord) => Promise<SizeLimit>;

export function sizeLimit(maxSizeBytes: number, sessions?: SessionLookup): SizeLimitOf {
  return async (record) => {
    const session = record.source === "api" ? await sessions?.(record.fileId) : undefined;
    if (session && session.size < maxSizeBytes)
      return { maxBytes: session.size, what: `the ${formatSize(session.size)} declared for its upload` };
    return { maxBytes: maxSizeBytes, what: `the ${formatSize(maxSizeBytes)} limit` };
  };
}

/** Why a stage did not read an object: it is larger than it may be. */
export function tooLargeReason(size: number, limit: SizeLimit): string {
  return `not read: the object is ${formatSize(size)}, above ${limit.what}`;
}
