/**
 * ObjectStore on S3. Every read, copy, tag and delete names the exact object version an event announced:
 * by version id where the bucket is versioned, and by ETag comparison where it is not, so bytes that were never
 * judged can never be promoted.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import type { ObjectVersion } from "../domain/types.ts";
import { type ObjectHead, type ObjectStore, ObjectVersionGoneError } from "../ports.ts";

/** CopyObject handles up to 5 GiB; larger objects are copied in parts. */
const SINGLE_COPY_LIMIT = 5 * 1024 ** 3;
const COPY_PART_SIZE = 512 * 1024 ** 2;

const GONE = new Set(["NoSuchKey", "NoSuchVersion", "NotFound", "PreconditionFailed"]);

function isGone(error: unknown): boolean {
  return error instanceof Error && GONE.has(error.name);
}

function unquote(eTag: string | undefined): string | undefined {
  return eTag?.replace(/"/g, "");
}

export function copySource(version: ObjectVersion): string {
  const key = version.key.split("/").map(encodeURIComponent).join("/");
  const source = `${version.bucket}/${key}`;
  return version.versionId ? `${source}?versionId=${encodeURIComponent(version.versionId)}` : source;
}

export class S3ObjectStore implements ObjectStore {
  constructor(private readonly client: S3Client) {}

  private target(version: ObjectVersion) {
    return { Bucket: version.bucket, Key: version.key, VersionId: version.versionId };
  }

  /** Without version ids, the ETag is what ties a read to the event's bytes. */
  private assertSameBytes(version: ObjectVersion, eTag: string | undefined): void {
    if (version.versionId || !version.eTag || !eTag) return;
    if (unquote(eTag) !== version.eTag) {
      throw new ObjectVersionGoneError(
        `s3://${version.bucket}/${version.key} was overwritten after the event`,
      );
    }
  }

  /** Runs a read of exactly this version; a missing or replaced object becomes ObjectVersionGoneError. */
  private async exactly<T extends { ETag?: string }>(
    version: ObjectVersion,
    read: () => Promise<T>,
  ): Promise<T> {
    try {
      const out = await read();
      this.assertSameBytes(version, out.ETag);
      return out;
    } catch (error) {
      if (isGone(error)) {
        throw new ObjectVersionGoneError(`s3://${version.bucket}/${version.key} no longer exists`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  private get(version: ObjectVersion, range?: string) {
    return this.exactly(version, () =>
      this.client.send(new GetObjectCommand({ ...this.target(version), Range: range })),
    );
  }

  async readHead(version: ObjectVersion, length: number): Promise<ObjectHead> {
    if (version.size === 0) {
      // A ranged read of an empty object is an error in S3: ask for its headers only.
      const head = await this.head(version);
      return {
        bytes: new Uint8Array(0),
        size: head.ContentLength ?? 0,
        contentType: head.ContentType,
        metadata: head.Metadata ?? {},
      };
    }
    const out = await this.get(version, `bytes=0-${length - 1}`);
    const bytes = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
    const total = out.ContentRange ? Number(out.ContentRange.split("/")[1]) : out.ContentLength;
    return {
      bytes: bytes.subarray(0, length),
      size: Number.isFinite(total) ? Number(total) : version.size,
      contentType: out.ContentType,
      metadata: out.Metadata ?? {},
    };
  }

  async readTail(version: ObjectVersion, length: number): Promise<Uint8Array> {
    // An explicit range rather than a suffix (`bytes=-N`), which some S3 emulators read as `bytes=0-N`.
    const start = Math.max(0, version.size - length);
    const out = await this.get(version, `bytes=${start}-${Math.max(start, version.size - 1)}`);
    return out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
  }

  async stream(version: ObjectVersion): Promise<AsyncIterable<Uint8Array>> {
    const out = await this.get(version);
    if (!out.Body) return (async function* () {})();
    return out.Body as unknown as AsyncIterable<Uint8Array>;
  }

  private head(version: ObjectVersion) {
    return this.exactly(version, () => this.client.send(new HeadObjectCommand(this.target(version))));
  }

  async promote(version: ObjectVersion, cleanBucket: string): Promise<string> {
    const head = await this.head(version);
    try {
      return await this.copy(version, cleanBucket, head);
    } catch (error) {
      // Gone between the check and the copy (deleted, or promoted and removed by a concurrent settlement).
      if (isGone(error)) {
        throw new ObjectVersionGoneError(`s3://${version.bucket}/${version.key} no longer exists`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  private async copy(
    version: ObjectVersion,
    cleanBucket: string,
    head: Awaited<ReturnType<S3ObjectStore["head"]>>,
  ): Promise<string> {
    const size = head.ContentLength ?? version.size;
    if (size <= SINGLE_COPY_LIMIT) {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: cleanBucket,
          Key: version.key,
          CopySource: copySource(version),
          MetadataDirective: "COPY",
          TaggingDirective: "COPY",
        }),
      );
      return version.key;
    }
    const upload = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: cleanBucket,
        Key: version.key,
        ContentType: head.ContentType,
        Metadata: head.Metadata,
      }),
    );
    const parts: { ETag?: string; PartNumber: number }[] = [];
    for (let start = 0, part = 1; start < size; start += COPY_PART_SIZE, part++) {
      const end = Math.min(start + COPY_PART_SIZE, size) - 1;
      const out = await this.client.send(
        new UploadPartCopyCommand({
          Bucket: cleanBucket,
          Key: version.key,
          UploadId: upload.UploadId,
          PartNumber: part,
          CopySource: copySource(version),
          CopySourceRange: `bytes=${start}-${end}`,
        }),
      );
      parts.push({ ETag: out.CopyPartResult?.ETag, PartNumber: part });
    }
    await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: cleanBucket,
        Key: version.key,
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return version.key;
  }

  async sha256Checksum(version: ObjectVersion): Promise<string | undefined> {
    const head = await this.exactly(version, () =>
      this.client.send(new HeadObjectCommand({ ...this.target(version), ChecksumMode: "ENABLED" })),
    );
    // A multipart upload's COMPOSITE checksum is a checksum of part checksums, not of the bytes.
    if (!head.ChecksumSHA256 || head.ChecksumType === "COMPOSITE") return undefined;
    return Buffer.from(head.ChecksumSHA256, "base64").toString("hex");
  }

  async remove(version: ObjectVersion): Promise<void> {
    if (!version.versionId) {
      // Unversioned: only delete what is still the judged object, never a newer upload under the same key.
      try {
        await this.head(version);
      } catch (error) {
        if (error instanceof ObjectVersionGoneError) return;
        throw error;
      }
    }
    await this.client.send(new DeleteObjectCommand(this.target(version)));
  }

  async tag(version: ObjectVersion, tags: Record<string, string>): Promise<void> {
    try {
      await this.client.send(
        new PutObjectTaggingCommand({
          ...this.target(version),
          Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        }),
      );
    } catch (error) {
      if (isGone(error)) return;
      throw error;
    }
  }
}
