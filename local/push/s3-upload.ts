/**
 * One object into S3 through `@aws-sdk/lib-storage`: a single PUT up to one part, a multipart upload above (parts
 * in flight at once, aborted on any failure so no partial object is ever completed). Shared by `airlock drop`
 * and push's drop adapter.
 */

import type { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

export interface PutFileInput {
  bucket: string;
  key: string;
  body: Readable;
  contentType?: string;
  metadata?: Record<string, string>;
  partSize?: number;
  queueSize?: number;
  /** Bytes acknowledged by S3 so far (after each part for multipart uploads). */
  onProgress?: (loaded: number) => void;
  signal?: AbortSignal;
}

export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/** Uploads the stream; returns the object's ETag (without quotes). */
export async function putFile(s3: S3Client, input: PutFileInput): Promise<string | undefined> {
  const upload = new Upload({
    client: s3,
    params: {
      Bucket: input.bucket,
      Key: input.key,
      Body: input.body,
      ContentType: input.contentType,
      Metadata: input.metadata,
    },
    partSize: input.partSize ?? DEFAULT_PART_SIZE,
    queueSize: input.queueSize ?? 4,
    leavePartsOnError: false,
  });
  if (input.onProgress) upload.on("httpUploadProgress", (p) => input.onProgress?.(p.loaded ?? 0));
  const abort = () => void upload.abort().catch(() => {});
  input.signal?.addEventListener("abort", abort, { once: true });
  try {
    return (await upload.done()).ETag?.replace(/"/g, "");
  } finally {
    input.signal?.removeEventListener("abort", abort);
  }
}
