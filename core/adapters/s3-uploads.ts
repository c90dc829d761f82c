/**
 * The API's storage ports on S3: presigned POST forms and part URLs in the ingest bucket, the multipart calls,
 * presigned downloads from the clean bucket, and erasure (s3-erase.ts). S3's refusals that are the client's
 * doing become the use cases' named errors, the S3 error kept as `cause`; anything else escapes as it is.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type {
  ContentEraser,
  DownloadSigner,
  ErasedKey,
  SignedPost,
  StoredParts,
  UploadStorage,
  UploadTarget,
} from "../ports/uploads.ts";
import {
  InvalidPartError,
  InvalidPartOrderError,
  PartTooSmallError,
  UploadNotOpenError,
} from "../usecases/api/errors.ts";
import { eraseKey } from "./s3-erase.ts";

/** S3 answered a CreateMultipartUpload without the upload id it must carry. */
export class MissingUploadIdError extends Error {
  constructor(options?: ErrorOptions) {
    super("S3 started a multipart upload without an upload id", options);
    this.name = "MissingUploadIdError";
  }
}

/** S3 error codes (the SDK's `name`) that are the client's mistake, and what each is called here. */
const REFUSALS: Record<string, new (options: { cause: unknown }) => Error> = {
  NoSuchUpload: UploadNotOpenError,
  InvalidPart: InvalidPartError,
  InvalidPartOrder: InvalidPartOrderError,
  EntityTooSmall: PartTooSmallError,
};

/** Runs one multipart call; an S3 refusal in REFUSALS is rethrown as its named error. */
async function refused<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const named = error instanceof Error ? REFUSALS[error.name] : undefined;
    throw named ? new named({ cause: error }) : error;
  }
}

export class S3UploadStorage implements UploadStorage {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async signPost(target: UploadTarget, size: number, expiresIn: number): Promise<SignedPost> {
    const { key, contentType, owner, fileId } = target;
    const post = await createPresignedPost(this.s3, {
      Bucket: this.bucket,
      Key: key,
      Conditions: [
        ["content-length-range", size, size],
        ["eq", "$Content-Type", contentType],
        ["eq", "$x-amz-meta-owner", owner],
        ["eq", "$x-amz-meta-upload-id", fileId],
      ],
      Fields: { "Content-Type": contentType, "x-amz-meta-owner": owner, "x-amz-meta-upload-id": fileId },
      Expires: expiresIn,
    });
    return { url: post.url, fields: post.fields };
  }

  async createMultipart(target: UploadTarget): Promise<string> {
    const created = await this.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: target.key,
        ContentType: target.contentType,
        Metadata: { owner: target.owner, "upload-id": target.fileId },
      }),
    );
    if (!created.UploadId) throw new MissingUploadIdError();
    return created.UploadId;
  }

  signPart(
    key: string,
    uploadId: string,
    part: { partNumber: number; size: number },
    expiresIn: number,
  ): Promise<string> {
    return getSignedUrl(
      this.s3,
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: part.partNumber,
        ContentLength: part.size,
      }),
      { expiresIn },
    );
  }

  listParts(key: string, uploadId: string): Promise<StoredParts> {
    return refused(async () => {
      const parts: StoredParts = new Map();
      let marker: string | undefined;
      // 10,000 parts at most, 1,000 a page: a marker that does not move on ends the walk.
      for (let page = 0; page < 11; page++) {
        const out = await this.s3.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumberMarker: marker,
            MaxParts: 1000,
          }),
        );
        for (const part of out.Parts ?? [])
          if (part.PartNumber !== undefined && part.ETag)
            parts.set(part.PartNumber, { etag: part.ETag, size: part.Size ?? -1 });
        const next = out.NextPartNumberMarker;
        if (!out.IsTruncated || next === undefined || next === marker) break;
        marker = next;
      }
      return parts;
    });
  }

  async completeMultipart(
    key: string,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ): Promise<void> {
    await refused(() =>
      this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      ),
    );
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await refused(() =>
      this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })),
    );
  }
}

export class S3DownloadSigner implements DownloadSigner {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  signDownload(
    key: string,
    response: { disposition: string; contentType: string },
    expiresIn: number,
  ): Promise<string> {
    return getSignedUrl(
      this.s3,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ResponseContentDisposition: response.disposition,
        ResponseContentType: response.contentType,
      }),
      { expiresIn },
    );
  }
}

export class S3ContentEraser implements ContentEraser {
  constructor(private readonly s3: S3Client) {}

  erase(target: { bucket: string; key: string; versioned: boolean }): Promise<ErasedKey> {
    return eraseKey(this.s3, target);
  }
}
