/**
 * The local S3's storage: versioned buckets as an in-memory index of versions per key, each version's bytes in
 * one immutable blob file named by a random id. Keys are only ever map keys, never paths: `..`, `.` and `//`
 * are stored literally and nothing a client sends can name a file outside the data directory.
 *
 * Every write is staged in a blob first and becomes a version only at commit, which checks the write's
 * conditions (If-Match / If-None-Match) at that instant, synchronously: a write that loses a race gets 412 and
 * leaves nothing behind.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, link, mkdir, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { crc32 } from "node:zlib";
import { preconditionFailed, S3Error } from "./errors.ts";

export interface Checksums {
  md5: string; // hex
  sha256: string; // base64
  sha1: string; // base64
  crc32: string; // base64
}

export type ChecksumAlgorithm = "SHA256" | "SHA1" | "CRC32";

export interface Blob {
  id: string;
  size: number;
  checksums: Checksums;
}

export interface ObjectAttributes {
  contentType: string;
  /** Content-Disposition, Content-Encoding, Content-Language, Cache-Control, Expires (lower-case names). */
  headers: Record<string, string>;
  /** User metadata, lower-case names without the x-amz-meta- prefix. */
  metadata: Record<string, string>;
  tags: [string, string][];
  /** The checksum S3 reports for this object (x-amz-checksum-*), when one was asked for at write. */
  checksumAlgorithm?: ChecksumAlgorithm;
}

export interface Version extends ObjectAttributes {
  versionId: string;
  deleteMarker: false;
  blob: Blob;
  etag: string; // quoted, as S3 sends it
  lastModified: Date;
  parts?: number;
}

export interface DeleteMarker {
  versionId: string;
  deleteMarker: true;
  lastModified: Date;
}

export type Entry = Version | DeleteMarker;

export interface WriteConditions {
  ifMatch?: string;
  ifNoneMatch?: string;
}

export interface Part {
  partNumber: number;
  blob: Blob;
  etag: string;
  lastModified: Date;
}

export interface MultipartUpload {
  uploadId: string;
  bucket: string;
  key: string;
  attributes: ObjectAttributes;
  parts: Map<number, Part>;
  initiated: Date;
  completing: boolean;
}

export interface Commit {
  bucket: string;
  key: string;
  entry: Entry;
  eventName: string;
}

const newVersionId = () => randomBytes(24).toString("base64url");

function checksumsOf(md5: Buffer, sha256: Buffer, sha1: Buffer, crc: number): Checksums {
  const crcBytes = Buffer.alloc(4);
  crcBytes.writeUInt32BE(crc >>> 0);
  return {
    md5: md5.toString("hex"),
    sha256: sha256.toString("base64"),
    sha1: sha1.toString("base64"),
    crc32: crcBytes.toString("base64"),
  };
}

/** ETag comparison as S3 does it: quotes optional, `*` matches any existing object. */
export function etagMatches(condition: string, etag: string): boolean {
  return condition
    .split(",")
    .map((c) => c.trim())
    .some((c) => c === "*" || c.replace(/^W\//, "").replace(/"/g, "") === etag.replace(/"/g, ""));
}

export class VersionedStore {
  private readonly buckets = new Map<string, { created: Date; keys: Map<string, Entry[]> }>();
  private readonly uploads = new Map<string, MultipartUpload>();
  private readonly blobDir: string;
  private readonly listeners: ((commit: Commit) => void)[] = [];

  constructor(dataDir: string) {
    this.blobDir = join(dataDir, "blobs");
  }

  async init(buckets: string[]): Promise<void> {
    await mkdir(this.blobDir, { recursive: true });
    for (const name of buckets) this.createBucket(name);
  }

  onCommit(listener: (commit: Commit) => void): void {
    this.listeners.push(listener);
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  bucketNames(): { name: string; created: Date }[] {
    return [...this.buckets].map(([name, b]) => ({ name, created: b.created }));
  }

  createBucket(name: string): boolean {
    if (this.buckets.has(name)) return false;
    this.buckets.set(name, { created: new Date(), keys: new Map() });
    return true;
  }

  private bucket(name: string) {
    const bucket = this.buckets.get(name);
    if (!bucket)
      throw new S3Error("NoSuchBucket", "The specified bucket does not exist", {
        fields: { BucketName: name },
      });
    return bucket;
  }

  /** Writes bytes to a new blob, hashing as they stream; a failed or refused write leaves no file. */
  async writeBlob(
    source: AsyncIterable<Uint8Array>,
    limits: { maxBytes?: number; tooLarge?: () => S3Error } = {},
  ): Promise<Blob> {
    const id = randomBytes(16).toString("hex");
    const path = join(this.blobDir, id);
    const md5 = createHash("md5");
    const sha256 = createHash("sha256");
    const sha1 = createHash("sha1");
    let crc = 0;
    let size = 0;
    const max = limits.maxBytes ?? Number.POSITIVE_INFINITY;
    async function* hashed() {
      for await (const chunk of source) {
        size += chunk.length;
        if (size > max)
          throw (
            limits.tooLarge?.() ??
            new S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
          );
        md5.update(chunk);
        sha256.update(chunk);
        sha1.update(chunk);
        crc = crc32(chunk, crc);
        yield chunk;
      }
    }
    try {
      await pipeline(hashed, createWriteStream(path, { flags: "wx" }));
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    return { id, size, checksums: checksumsOf(md5.digest(), sha256.digest(), sha1.digest(), crc) };
  }

  async discard(blob: Blob): Promise<void> {
    await unlink(join(this.blobDir, blob.id)).catch(() => undefined);
  }

  /** A second name for an immutable blob (copies share bytes; deleting one version keeps the other's). */
  async cloneBlob(blob: Blob): Promise<Blob> {
    const id = randomBytes(16).toString("hex");
    const from = join(this.blobDir, blob.id);
    const to = join(this.blobDir, id);
    await link(from, to).catch(() => copyFile(from, to));
    return { ...blob, id };
  }

  read(blob: Blob, range?: { start: number; end: number }) {
    return createReadStream(join(this.blobDir, blob.id), range);
  }

  /** Concatenates blobs (a multipart upload's parts) into a new blob. */
  async concat(blobs: Blob[]): Promise<Blob> {
    const store = this;
    async function* all() {
      for (const blob of blobs) yield* store.read(blob) as AsyncIterable<Uint8Array>;
    }
    return this.writeBlob(all());
  }

  /** All entries of a key, oldest first. */
  entries(bucket: string, key: string): Entry[] {
    return this.bucket(bucket).keys.get(key) ?? [];
  }

  current(bucket: string, key: string): Entry | undefined {
    const entries = this.entries(bucket, key);
    return entries[entries.length - 1];
  }

  /**
   * The version a read names: by id, or the current one. A delete marker answers as S3 does: 404 NoSuchKey
   * when current, 405 MethodNotAllowed when named by id; both with x-amz-delete-marker.
   */
  resolve(bucket: string, key: string, versionId?: string): Version {
    const entries = this.entries(bucket, key);
    if (versionId !== undefined) {
      const entry = entries.find((e) => e.versionId === versionId);
      if (!entry) {
        throw new S3Error("NoSuchVersion", "The specified version does not exist.", {
          fields: { Key: key, VersionId: versionId },
        });
      }
      if (entry.deleteMarker) {
        throw new S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.", {
          headers: { "x-amz-delete-marker": "true", "x-amz-version-id": entry.versionId },
        });
      }
      return entry;
    }
    const entry = entries[entries.length - 1];
    if (!entry || entry.deleteMarker) {
      throw new S3Error("NoSuchKey", "The specified key does not exist.", {
        fields: { Key: key },
        headers: entry ? { "x-amz-delete-marker": "true", "x-amz-version-id": entry.versionId } : {},
      });
    }
    return entry;
  }

  /** Write conditions against the current version, checked at commit time. */
  private checkWrite(bucket: string, key: string, conditions: WriteConditions): void {
    const current = this.current(bucket, key);
    const live = current && !current.deleteMarker ? current : undefined;
    if (conditions.ifNoneMatch !== undefined) {
      if (conditions.ifNoneMatch.trim() !== "*")
        throw new S3Error("NotImplemented", "If-None-Match on writes accepts only *");
      if (live) throw preconditionFailed("If-None-Match");
    }
    if (conditions.ifMatch !== undefined) {
      if (!live)
        throw new S3Error("NoSuchKey", "The specified key does not exist.", { fields: { Key: key } });
      if (!etagMatches(conditions.ifMatch, live.etag)) throw preconditionFailed("If-Match");
    }
  }

  private emit(commit: Commit): void {
    for (const listener of this.listeners) listener(commit);
  }

  /** Makes a staged blob the new current version of a key, if the write's conditions still hold. */
  async commit(
    bucket: string,
    key: string,
    blob: Blob,
    attributes: ObjectAttributes,
    options: { conditions?: WriteConditions; eventName: string; etag?: string; parts?: number },
  ): Promise<Version> {
    try {
      this.bucket(bucket);
      this.checkWrite(bucket, key, options.conditions ?? {});
    } catch (error) {
      await this.discard(blob);
      throw error;
    }
    const version: Version = {
      ...attributes,
      versionId: newVersionId(),
      deleteMarker: false,
      blob,
      etag: options.etag ?? `"${blob.checksums.md5}"`,
      lastModified: new Date(),
      ...(options.parts ? { parts: options.parts } : {}),
    };
    const keys = this.bucket(bucket).keys;
    keys.set(key, [...(keys.get(key) ?? []), version]);
    this.emit({ bucket, key, entry: version, eventName: options.eventName });
    return version;
  }

  /**
   * DeleteObject. With a version id: that version (or marker) is removed for good. Without: a delete marker
   * becomes the current version, as in a versioned bucket; the bytes stay readable by version id.
   */
  async delete(
    bucket: string,
    key: string,
    options: { versionId?: string; ifMatch?: string },
  ): Promise<{ versionId?: string; deleteMarker: boolean }> {
    const keys = this.bucket(bucket).keys;
    const entries = keys.get(key) ?? [];
    if (options.versionId !== undefined) {
      const index = entries.findIndex((e) => e.versionId === options.versionId);
      if (index < 0) return { versionId: options.versionId, deleteMarker: false };
      const entry = entries[index] as Entry;
      if (options.ifMatch !== undefined) {
        if (entry.deleteMarker) throw preconditionFailed("If-Match");
        if (!etagMatches(options.ifMatch, entry.etag)) throw preconditionFailed("If-Match");
      }
      const rest = entries.filter((_, i) => i !== index);
      if (rest.length > 0) keys.set(key, rest);
      else keys.delete(key);
      if (!entry.deleteMarker) await this.discard(entry.blob);
      this.emit({
        bucket,
        key,
        entry,
        eventName: entry.deleteMarker ? "ObjectRemoved:Delete" : "ObjectRemoved:Delete",
      });
      return { versionId: entry.versionId, deleteMarker: entry.deleteMarker };
    }
    if (options.ifMatch !== undefined) {
      const current = entries[entries.length - 1];
      if (!current || current.deleteMarker)
        throw new S3Error("NoSuchKey", "The specified key does not exist.", { fields: { Key: key } });
      if (!etagMatches(options.ifMatch, current.etag)) throw preconditionFailed("If-Match");
    }
    const marker: DeleteMarker = { versionId: newVersionId(), deleteMarker: true, lastModified: new Date() };
    keys.set(key, [...entries, marker]);
    this.emit({ bucket, key, entry: marker, eventName: "ObjectRemoved:DeleteMarkerCreated" });
    return { versionId: marker.versionId, deleteMarker: true };
  }

  setTags(version: Version, tags: [string, string][]): void {
    version.tags = tags;
  }

  /** Keys in S3's order (UTF-8 bytes), each with its entries. */
  sortedKeys(bucket: string, prefix: string): [string, Entry[]][] {
    return [...this.bucket(bucket).keys]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
  }

  createUpload(bucket: string, key: string, attributes: ObjectAttributes): MultipartUpload {
    this.bucket(bucket);
    const upload: MultipartUpload = {
      uploadId: randomBytes(24).toString("base64url"),
      bucket,
      key,
      attributes,
      parts: new Map(),
      initiated: new Date(),
      completing: false,
    };
    this.uploads.set(upload.uploadId, upload);
    return upload;
  }

  upload(bucket: string, key: string, uploadId: string): MultipartUpload {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key || upload.completing) {
      throw new S3Error(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        { fields: { UploadId: uploadId } },
      );
    }
    return upload;
  }

  async putPart(upload: MultipartUpload, partNumber: number, blob: Blob, etag?: string): Promise<Part> {
    if (!this.uploads.has(upload.uploadId) || upload.completing) {
      await this.discard(blob);
      throw new S3Error("NoSuchUpload", "The specified upload does not exist.", {
        fields: { UploadId: upload.uploadId },
      });
    }
    const part: Part = {
      partNumber,
      blob,
      etag: etag ?? `"${blob.checksums.md5}"`,
      lastModified: new Date(),
    };
    const previous = upload.parts.get(partNumber);
    upload.parts.set(partNumber, part);
    if (previous) await this.discard(previous.blob);
    return part;
  }

  async abortUpload(upload: MultipartUpload): Promise<void> {
    this.uploads.delete(upload.uploadId);
    await Promise.all([...upload.parts.values()].map((p) => this.discard(p.blob)));
  }

  /** Marks an upload as completing (a second complete or a late part then gets NoSuchUpload). */
  beginComplete(upload: MultipartUpload): void {
    upload.completing = true;
  }

  endComplete(upload: MultipartUpload, done: boolean): Promise<void> {
    if (!done) {
      upload.completing = false;
      return Promise.resolve();
    }
    return this.abortUpload(upload);
  }
}
