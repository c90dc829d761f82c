/**
 * The API's ports onto object storage: signing uploads and downloads, the multipart upload calls, and erasing
 * a file's stored content. `core/adapters/s3-uploads.ts` implements them for S3 and maps the storage service's
 * refusals to the named errors of core/usecases/api/errors.ts (UploadNotOpenError, InvalidPartError, …).
 */

/** A browser-style POST upload: the URL and the form fields that pin key, size, type and owner. */
export interface SignedPost {
  url: string;
  fields: Record<string, string>;
}

/** What every upload of a file carries, so that the pipeline can match the object to its session. */
export interface UploadTarget {
  key: string;
  contentType: string;
  owner: string;
  fileId: string;
}

/** The parts the storage service holds for a multipart upload, by part number. */
export type StoredParts = Map<number, { etag: string; size: number }>;

export interface UploadStorage {
  /** A POST form for exactly `size` bytes of this type under this key, carrying owner and file id. */
  signPost(target: UploadTarget, size: number, expiresIn: number): Promise<SignedPost>;
  /** Starts a multipart upload; returns its upload id. */
  createMultipart(target: UploadTarget): Promise<string>;
  /** A part's upload URL, signed for exactly `size` bytes (Content-Length is a signed header). */
  signPart(
    key: string,
    uploadId: string,
    part: { partNumber: number; size: number },
    expiresIn: number,
  ): Promise<string>;
  /** Every part stored so far (all pages). */
  listParts(key: string, uploadId: string): Promise<StoredParts>;
  /** Completes the upload from these parts, in ascending part order. */
  completeMultipart(
    key: string,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ): Promise<void>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
}

export interface DownloadSigner {
  /** A GET URL for a clean object, answered with this disposition and content type. */
  signDownload(
    key: string,
    response: { disposition: string; contentType: string },
    expiresIn: number,
  ): Promise<string>;
}

/** What erasing one key removed (see core/adapters/s3-erase.ts). */
export interface ErasedKey {
  bucket: string;
  key: string;
  versionIds: string[];
  unversioned?: boolean;
}

export interface ContentEraser {
  /** Deletes every version of exactly this key (or the object, unversioned); idempotent. */
  erase(target: { bucket: string; key: string; versioned: boolean }): Promise<ErasedKey>;
}
