/**
 * ObjectStore on S3. Every read, copy, tag and delete names the exact object version an event announced: by
 * version id where the bucket is versioned, and by the judged ETag where it is not (`If-Match` on reads and
 * deletes, `x-amz-copy-source-if-match` on copies, so S3 itself refuses a newer object with 412). A version with
 * neither is refused. The clean copy carries the judged SHA-256 (metadata `airlock-sha256`, and S3's own SHA-256
 * checksum computed while copying), and a copy whose bytes are provably not the judged ones is withdrawn at once.
 *
 * What stays racy: tagging an unversioned object. PutObjectTagging has no condition, so the tag follows a HEAD
 * with `If-Match`; an object put between the two could get the older version's status tag (it only drives the
 * held-object expiry, and the newer object's own verdict tags it again). Versioned buckets (the deployed ones)
 * name the version and have no such window.
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
import { entityTag, isPinned } from "../domain/pinning.ts";
import type { ObjectVersion } from "../domain/types.ts";
import {
  ChecksumMismatchError,
  type ChecksummedBody,
  type CleanCopy,
  type JudgedBytes,
  type ObjectHead,
  type ObjectStore,
  ObjectTooLargeError,
  ObjectVersionGoneError,
  UnpinnedObjectError,
} from "../ports/index.ts";

/** CopyObject handles up to 5 GiB; larger objects are copied in parts. */
const SINGLE_COPY_LIMIT = 5 * 1024 ** 3;
const COPY_PART_SIZE = 512 * 1024 ** 2;

const GONE = new Set(["NoSuchKey", "NoSuchVersion", "NotFound", "PreconditionFailed"]);

/** Missing (404) or no longer the named bytes (412, a failed `If-Match`). */
function isGone(error: unknown): boolean {
  // A missing bucket is a configuration fault to retry and alarm on, never a verdict on the object.
  if (!(error instanceof Error) || error.name === "NoSuchBucket") return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return GONE.has(error.name) || status === 404 || status === 412;
}

function unquote(eTag: string | undefined): string | undefined {
  return eTag?.replace(/"/g, "");
}

export function copySource(version: ObjectVersion): string {
  const key = version.key.split("/").map(encodeURIComponent).join("/");
  const source = `${version.bucket}/${key}`;
  return version.versionId ? `${source}?versionId=${encodeURIComponent(version.versionId)}` : source;
}

/** S3's SHA-256 checksum of the whole object (hex), from a HEAD or GET with the checksum mode on. */
function fullObjectSha256(out: { ChecksumSHA256?: string; ChecksumType?: string }): string | undefined {
  // A multipart upload's COMPOSITE checksum is a checksum of part checksums, not of the bytes.
  if (!out.ChecksumSHA256 || out.ChecksumType === "COMPOSITE") return undefined;
  return Buffer.from(out.ChecksumSHA256, "base64").toString("hex");
}

/**
 * The body of a GET with the checksum mode on: the SDK fails it at its end when the bytes are not the checksum's
 * (an Error whose message starts "Checksum mismatch"); that becomes ChecksumMismatchError. Destroying it
 * destroys the underlying stream.
 */
function checkedBody(
  body: AsyncIterable<Uint8Array> & { destroy?: () => void },
): AsyncIterable<Uint8Array> & { destroy: () => void } {
  const chunks = (async function* () {
    try {
      yield* body;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("Checksum mismatch"))
        throw new ChecksumMismatchError(error.message, { cause: error });
      throw error;
    }
  })();
  return Object.assign(chunks, {
    destroy: () => {
      body.destroy?.();
      void chunks.return(undefined);
    },
  });
}

/** The tags of a clean copy, as the `x-amz-tagging` query string. */
const CLEAN_TAGGING = "airlock-status=VERIFIED";

export class S3ObjectStore implements ObjectStore {
  constructor(private readonly client: S3Client) {}

  private pinned(version: ObjectVersion): void {
    if (!isPinned(version))
      throw new UnpinnedObjectError(
        `s3://${version.bucket}/${version.key}: no version id and no ETag name the bytes to act on`,
      );
  }

  /** The request fields that name exactly this version: its id, else `If-Match` on its ETag. */
  private target(version: ObjectVersion) {
    this.pinned(version);
    return version.versionId
      ? { Bucket: version.bucket, Key: version.key, VersionId: version.versionId }
      : { Bucket: version.bucket, Key: version.key, IfMatch: entityTag(version.eTag as string) };
  }

  /** Without version ids, the ETag is what ties a read to the event's bytes (also where If-Match is ignored). */
  private assertSameBytes(version: ObjectVersion, eTag: string | undefined): void {
    if (version.versionId || !eTag) return;
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
    this.pinned(version);
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

  private head(version: ObjectVersion) {
    return this.exactly(version, () => this.client.send(new HeadObjectCommand(this.target(version))));
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
        lastModified: head.LastModified,
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
      lastModified: out.LastModified,
    };
  }

  async readTail(version: ObjectVersion, length: number): Promise<Uint8Array> {
    // An explicit range rather than a suffix (`bytes=-N`), which some S3 emulators read as `bytes=0-N`.
    const start = Math.max(0, version.size - length);
    const out = await this.get(version, `bytes=${start}-${Math.max(start, version.size - 1)}`);
    return out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
  }

  async stream(
    version: ObjectVersion,
    options: { maxBytes?: number } = {},
  ): Promise<AsyncIterable<Uint8Array>> {
    return (await this.open(version, options, false)).body;
  }

  async streamWithChecksum(
    version: ObjectVersion,
    options: { maxBytes?: number } = {},
  ): Promise<ChecksummedBody> {
    return this.open(version, options, true);
  }

  private async open(
    version: ObjectVersion,
    options: { maxBytes?: number },
    checksum: boolean,
  ): Promise<ChecksummedBody> {
    // With the checksum mode on, S3 returns its full-object checksum in the GET's headers (what a HEAD would),
    // and the SDK checks the body against it as it is read.
    const out = await this.exactly(version, () =>
      this.client.send(
        new GetObjectCommand({ ...this.target(version), ...(checksum ? { ChecksumMode: "ENABLED" } : {}) }),
      ),
    );
    const body = out.Body as unknown as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    const size = out.ContentLength ?? version.size;
    if (options.maxBytes !== undefined && size > options.maxBytes) {
      body?.destroy?.();
      throw new ObjectTooLargeError(size, options.maxBytes);
    }
    if (!body) return { body: (async function* () {})() };
    if (!checksum) return { body };
    const sha256 = fullObjectSha256(out);
    return { body: checkedBody(body), ...(sha256 ? { sha256Checksum: sha256 } : {}) };
  }

  async promote(version: ObjectVersion, cleanBucket: string, judged: JudgedBytes): Promise<CleanCopy> {
    this.pinned(version);
    let copy: CleanCopy & { sha256?: string };
    try {
      copy =
        version.size <= SINGLE_COPY_LIMIT
          ? await this.copyOnce(version, cleanBucket, judged)
          : await this.copyInParts(version, cleanBucket, judged);
    } catch (error) {
      // Gone since it was judged: deleted, overwritten (412 on the copy condition), or promoted and removed by
      // a concurrent settlement.
      if (isGone(error)) {
        throw new ObjectVersionGoneError(`s3://${version.bucket}/${version.key} is not the judged object`, {
          cause: error,
        });
      }
      throw error;
    }
    const { sha256, ...clean } = copy;
    // S3's checksum of the copy is over the bytes it copied: it must be the judged digest. Where the store
    // computes none, an ETag-pinned single copy must at least carry the judged ETag (MD5 ETags of the same bytes).
    const notJudged =
      sha256 !== undefined
        ? sha256 !== judged.sha256
        : !version.versionId &&
          version.size <= SINGLE_COPY_LIMIT &&
          clean.eTag !== undefined &&
          clean.eTag !== version.eTag;
    if (notJudged) {
      await this.withdraw(cleanBucket, clean);
      throw new ObjectVersionGoneError(
        `s3://${version.bucket}/${version.key}: the bytes copied are not the judged bytes; the copy was withdrawn`,
      );
    }
    return clean;
  }

  private async copyOnce(
    version: ObjectVersion,
    cleanBucket: string,
    judged: JudgedBytes,
  ): Promise<CleanCopy & { sha256?: string }> {
    const out = await this.client.send(
      new CopyObjectCommand({
        Bucket: cleanBucket,
        Key: version.key,
        CopySource: copySource(version),
        ...(version.versionId ? {} : { CopySourceIfMatch: entityTag(version.eTag as string) }),
        MetadataDirective: "REPLACE",
        ContentType: judged.contentType,
        Metadata: cleanMetadata(judged),
        TaggingDirective: "REPLACE",
        Tagging: CLEAN_TAGGING,
        ChecksumAlgorithm: "SHA256",
      }),
    );
    const checksum = out.CopyObjectResult?.ChecksumSHA256;
    return {
      key: version.key,
      ...(out.VersionId ? { versionId: out.VersionId } : {}),
      ...(out.CopyObjectResult?.ETag ? { eTag: unquote(out.CopyObjectResult.ETag) } : {}),
      ...(checksum ? { sha256: Buffer.from(checksum, "base64").toString("hex") } : {}),
    };
  }

  /** Over 5 GiB: a multipart upload whose every part copy is pinned like a single copy would be. */
  private async copyInParts(
    version: ObjectVersion,
    cleanBucket: string,
    judged: JudgedBytes,
  ): Promise<CleanCopy> {
    const upload = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: cleanBucket,
        Key: version.key,
        ContentType: judged.contentType,
        Metadata: cleanMetadata(judged),
        Tagging: CLEAN_TAGGING,
      }),
    );
    const parts: { ETag?: string; PartNumber: number }[] = [];
    const pin = version.versionId ? {} : { CopySourceIfMatch: entityTag(version.eTag as string) };
    for (let start = 0, part = 1; start < version.size; start += COPY_PART_SIZE, part++) {
      const end = Math.min(start + COPY_PART_SIZE, version.size) - 1;
      const out = await this.client.send(
        new UploadPartCopyCommand({
          Bucket: cleanBucket,
          Key: version.key,
          UploadId: upload.UploadId,
          PartNumber: part,
          CopySource: copySource(version),
          CopySourceRange: `bytes=${start}-${end}`,
          ...pin,
        }),
      );
      parts.push({ ETag: out.CopyPartResult?.ETag, PartNumber: part });
    }
    const done = await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: cleanBucket,
        Key: version.key,
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return {
      key: version.key,
      ...(done.VersionId ? { versionId: done.VersionId } : {}),
      ...(done.ETag ? { eTag: unquote(done.ETag) } : {}),
    };
  }

  async withdraw(cleanBucket: string, copy: CleanCopy): Promise<void> {
    // A copy the store named neither way is deleted by key: better a file missing from clean than one unjudged.
    const pin = copy.versionId
      ? { VersionId: copy.versionId }
      : copy.eTag
        ? { IfMatch: entityTag(copy.eTag) }
        : {};
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: cleanBucket, Key: copy.key, ...pin }));
    } catch (error) {
      if (isGone(error)) return;
      throw error;
    }
  }

  async sha256Checksum(version: ObjectVersion): Promise<string | undefined> {
    const head = await this.exactly(version, () =>
      this.client.send(new HeadObjectCommand({ ...this.target(version), ChecksumMode: "ENABLED" })),
    );
    return fullObjectSha256(head);
  }

  async remove(version: ObjectVersion): Promise<void> {
    // By version id; unversioned, a conditional delete (If-Match), so a newer upload under the key stays.
    try {
      await this.client.send(new DeleteObjectCommand(this.target(version)));
    } catch (error) {
      if (isGone(error)) return;
      throw error;
    }
  }

  async tag(version: ObjectVersion, tags: Record<string, string>): Promise<void> {
    const target = this.target(version);
    try {
      if (!version.versionId) await this.head(version);
      await this.client.send(
        new PutObjectTaggingCommand({
          Bucket: target.Bucket,
          Key: target.Key,
          VersionId: version.versionId,
          Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        }),
      );
    } catch (error) {
      if (error instanceof ObjectVersionGoneError || isGone(error)) return;
      throw error;
    }
  }
}

function cleanMetadata(judged: JudgedBytes): Record<string, string> {
  return { "airlock-sha256": judged.sha256, "airlock-file-id": judged.fileId };
}
