/** The object store port: the ingest and clean buckets, every access pinned to one object version. */
import type { CleanCopy, ObjectVersion } from "../domain/types.ts";

export type { CleanCopy } from "../domain/types.ts";

export interface ObjectHead {
  bytes: Uint8Array;
  size: number;
  contentType?: string;
  metadata: Record<string, string>;
  /** When S3 stored this version (its Last-Modified): when it landed, whatever the event's delivery time. */
  lastModified?: Date;
}

/** What a promotion copies besides the bytes: the judged SHA-256 and type, so anyone can check the clean copy. */
export interface JudgedBytes {
  sha256: string;
  /** The detected type's MIME type: the clean copy's Content-Type (never the uploader's claim). */
  contentType: string;
  fileId: string;
}

/**
 * Objects in the buckets. Every read, copy, tag and delete of an ingest object is pinned to one object version:
 * by its version id where the bucket has them, else by its ETag (`If-Match` / `x-amz-copy-source-if-match`).
 * An ObjectVersion with neither is refused (UnpinnedObjectError): it could name any bytes.
 */
export interface ObjectStore {
  /** The first `length` bytes of exactly this version (a ranged read), with its declared content type. */
  readHead(version: ObjectVersion, length: number): Promise<ObjectHead>;
  /** The last `length` bytes of exactly this version (a suffix range read). */
  readTail?(version: ObjectVersion, length: number): Promise<Uint8Array>;
  /**
   * The whole of exactly this version, as a stream of chunks. With `maxBytes`, an object larger than that is not
   * read at all: ObjectTooLargeError, before any of its body is taken.
   */
  stream(version: ObjectVersion, options?: { maxBytes?: number }): Promise<AsyncIterable<Uint8Array>>;
  /**
   * Copies exactly this version to the clean bucket under the same key, carrying the judged SHA-256; returns
   * the copy. ObjectVersionGoneError when the version is gone, or the copy turned out not to be the judged
   * bytes (it is withdrawn again before the error).
   */
  promote(version: ObjectVersion, cleanBucket: string, judged: JudgedBytes): Promise<CleanCopy>;
  /** Deletes exactly this clean copy (never a newer one under the same key); a copy already gone is ignored. */
  withdraw(cleanBucket: string, copy: CleanCopy): Promise<void>;
  /** Deletes exactly this version from the ingest bucket; a version already gone or replaced is left alone. */
  remove(version: ObjectVersion): Promise<void>;
  /** Tags exactly this version; a version that no longer exists is ignored. */
  tag(version: ObjectVersion, tags: Record<string, string>): Promise<void>;
  /** The full-object SHA-256 checksum S3 keeps for this version (hex), when it has one. */
  sha256Checksum?(version: ObjectVersion): Promise<string | undefined>;
  /**
   * `stream` and `sha256Checksum` in one request: the body, and the full-object SHA-256 checksum S3 keeps for the
   * version (hex, when it has one) known before any of the body is read. A body whose bytes are not what that
   * checksum says fails at its end with ChecksumMismatchError. A caller that needs no bytes after all (a cached
   * verdict) destroys the body unread.
   */
  streamWithChecksum?(version: ObjectVersion, options?: { maxBytes?: number }): Promise<ChecksummedBody>;
}

export interface ChecksummedBody {
  body: AsyncIterable<Uint8Array>;
  sha256Checksum?: string;
}
