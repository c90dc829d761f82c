/**
 * The local S3's storage: versioned buckets as an in-memory index of versions per key, each version's bytes in
 * one immutable blob file named by a random id. Keys are only ever map keys, never paths: `..`, `.` and `//`
 * are stored literally and nothing a client sends can name a file outside the data directory.
 *
 * Every write is staged in a blob first and becomes a version only at commit, which checks the write's
 * conditions (If-Match / If-None-Match) at that instant, synchronously: a write that loses a race gets 412 and
 * leaves nothing behind.
 *
 * Persistent (`persistent: true`): every change of the index (bucket, version, delete marker, removal, tags,
 * multipart upload and part) is appended to `journal.jsonl` with a synchronous write inside the synchronous
 * commit, before the request is answered, so a SIGKILL of the process loses nothing acknowledged (the page
 * cache outlives the process; a power cut is not covered: no fsync per write). Each commit's event
 * notification is recorded in the same line and stays owed until `delivered()` marks it: the owed ones are
 * handed out again after a restart (S3 delivers event notifications at least once). At start the journal is
 * replayed (a torn last line, the write the kill cut short, is dropped), rewritten compactly (and again every
 * `compactAfterLines` lines while running: written aside, synced, renamed over it), and blob files no version or
 * part names (writes staged when the process died) are removed.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  createReadStream,
  createWriteStream,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { copyFile, link, mkdir, readdir, rm, unlink } from "node:fs/promises";
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

/** The event notification a commit owes, as recorded with it: kept until delivered. */
export interface StoredEvent {
  /** The store's own number for it (`delivered(seq)`). */
  seq: number;
  bucket: string;
  key: string;
  eventName: string;
  versionId: string;
  deleteMarker: boolean;
  size?: number;
  etag?: string; // quoted
  /** Strictly increasing across all commits and restarts (S3's per-key order holds a fortiori). */
  sequencer: string;
}

/** One line of the journal. */
type JournalLine =
  | { t: "bucket"; name: string; created: string }
  | { t: "put"; b: string; k: string; v: Version; e?: StoredEvent; done?: string }
  | { t: "marker"; b: string; k: string; v: DeleteMarker; e?: StoredEvent }
  | { t: "remove"; b: string; k: string; id: string; e: StoredEvent }
  | { t: "tags"; b: string; k: string; id: string; tags: [string, string][] }
  | { t: "upload"; u: Omit<MultipartUpload, "parts" | "completing"> }
  | { t: "part"; u: string; p: Part }
  | { t: "end"; u: string }
  | { t: "event"; e: StoredEvent }
  | { t: "sent"; n: number }
  | { t: "counters"; seq: number; sequencer: string };

const JOURNAL = "journal.jsonl";

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

const asDate = (value: Date | string) => new Date(value);

export class VersionedStore {
  private readonly buckets = new Map<string, { created: Date; keys: Map<string, Entry[]> }>();
  private readonly uploads = new Map<string, MultipartUpload>();
  private readonly blobDir: string;
  private readonly journalPath: string;
  private readonly persistent: boolean;
  private readonly listeners: ((commit: Commit, event: StoredEvent) => void)[] = [];
  /** Where each live version is (tag changes are journaled by bucket, key and version id). */
  private readonly location = new WeakMap<Version, { bucket: string; key: string }>();
  private readonly owed = new Map<number, StoredEvent>();
  private journal: number | undefined;
  /** Lines appended since the journal was last rewritten, and the count that triggers the next rewrite. */
  private appended = 0;
  private readonly compactAfter: number;
  private seq = 0;
  private sequencer = 0n;

  constructor(dataDir: string, options: { persistent?: boolean; compactAfterLines?: number } = {}) {
    this.blobDir = join(dataDir, "blobs");
    this.journalPath = join(dataDir, JOURNAL);
    this.persistent = options.persistent ?? false;
    this.compactAfter = options.compactAfterLines ?? 100_000;
  }

  async init(buckets: string[]): Promise<void> {
    await mkdir(this.blobDir, { recursive: true });
    if (this.persistent) {
      this.replay();
      this.compact();
      this.journal = openSync(this.journalPath, "a");
      await this.removeUnnamedBlobs();
    }
    for (const name of buckets) this.createBucket(name);
  }

  /** Closes the journal (a stopped store writes nothing more). */
  close(): void {
    if (this.journal !== undefined) closeSync(this.journal);
    this.journal = undefined;
  }

  /** Called at each commit, with the event it owes (also owed until `delivered`). */
  onCommit(listener: (commit: Commit, event: StoredEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Events committed and not yet marked delivered, oldest first (after a restart: the ones still owed). */
  undelivered(): StoredEvent[] {
    return [...this.owed.values()];
  }

  /** The event was handed to its destination (or has none): it is not owed any more. */
  delivered(seq: number): void {
    if (!this.owed.delete(seq)) return;
    this.log({ t: "sent", n: seq });
  }

  private log(line: JournalLine): void {
    if (this.journal !== undefined) this.append(line);
    // The change's event is owed once the change is on record, not before (a failed write owes nothing).
    if ("e" in line && line.e) this.owed.set(line.e.seq, line.e);
  }

  /** Appends one line, whole or not at all: a write that fails partway (a full disk) is cut off again. */
  private append(line: JournalLine): void {
    if (this.journal === undefined) return;
    const bytes = Buffer.from(`${JSON.stringify(line)}\n`);
    const before = fstatSync(this.journal).size;
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(this.journal, bytes, written);
    } catch (error) {
      ftruncateSync(this.journal, before);
      throw error;
    }
    // A long run rewrites it as it goes: once the change this line records is applied (every line is written
    // just before its change, in the same synchronous step), and before any other change can come in.
    if (++this.appended === this.compactAfter) {
      queueMicrotask(() => {
        if (this.journal === undefined) return;
        closeSync(this.journal);
        this.compact();
        this.journal = openSync(this.journalPath, "a");
      });
    }
  }

  private nextEvent(bucket: string, key: string, entry: Entry, eventName: string): StoredEvent {
    this.seq += 1;
    const now = BigInt(Date.now()) * 1_000_000n;
    this.sequencer = now > this.sequencer ? now : this.sequencer + 1n;
    const event: StoredEvent = {
      seq: this.seq,
      bucket,
      key,
      eventName,
      versionId: entry.versionId,
      deleteMarker: entry.deleteMarker,
      ...(entry.deleteMarker ? {} : { size: entry.blob.size, etag: entry.etag }),
      sequencer: this.sequencer.toString(16).toUpperCase().padStart(18, "0"),
    };
    return event;
  }

  private counted(event: StoredEvent): void {
    if (event.seq > this.seq) this.seq = event.seq;
    const sequencer = BigInt(`0x${event.sequencer}`);
    if (sequencer > this.sequencer) this.sequencer = sequencer;
  }

  /** Rebuilds the index from the journal; a torn last line (a write cut short) is dropped. */
  private replay(): void {
    let text: string;
    try {
      text = readFileSync(this.journalPath, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    const lines = text.split("\n");
    lines.forEach((raw, index) => {
      if (raw === "") return;
      let line: JournalLine;
      try {
        line = JSON.parse(raw) as JournalLine;
      } catch {
        if (index === lines.length - 1) return; // the torn last write
        throw new Error(`local S3: line ${index + 1} of ${this.journalPath} is corrupt`);
      }
      this.apply(line);
    });
  }

  private keysOf(bucket: string): Map<string, Entry[]> {
    let b = this.buckets.get(bucket);
    if (!b) {
      b = { created: new Date(), keys: new Map() };
      this.buckets.set(bucket, b);
    }
    return b.keys;
  }

  private apply(line: JournalLine): void {
    switch (line.t) {
      case "bucket":
        if (!this.buckets.has(line.name))
          this.buckets.set(line.name, { created: asDate(line.created), keys: new Map() });
        return;
      case "put": {
        const version: Version = { ...line.v, lastModified: asDate(line.v.lastModified) };
        const keys = this.keysOf(line.b);
        keys.set(line.k, [...(keys.get(line.k) ?? []), version]);
        this.location.set(version, { bucket: line.b, key: line.k });
        if (line.done) this.uploads.delete(line.done);
        if (line.e) this.owe(line.e);
        return;
      }
      case "marker": {
        const keys = this.keysOf(line.b);
        keys.set(line.k, [
          ...(keys.get(line.k) ?? []),
          { ...line.v, lastModified: asDate(line.v.lastModified) },
        ]);
        if (line.e) this.owe(line.e);
        return;
      }
      case "remove": {
        const keys = this.keysOf(line.b);
        const rest = (keys.get(line.k) ?? []).filter((e) => e.versionId !== line.id);
        if (rest.length > 0) keys.set(line.k, rest);
        else keys.delete(line.k);
        this.owe(line.e);
        return;
      }
      case "tags": {
        const entry = this.keysOf(line.b)
          .get(line.k)
          ?.find((e) => e.versionId === line.id);
        if (entry && !entry.deleteMarker) entry.tags = line.tags;
        return;
      }
      case "upload":
        this.uploads.set(line.u.uploadId, {
          ...line.u,
          initiated: asDate(line.u.initiated),
          parts: new Map(),
          completing: false,
        });
        return;
      case "part": {
        const upload = this.uploads.get(line.u);
        if (upload)
          upload.parts.set(line.p.partNumber, { ...line.p, lastModified: asDate(line.p.lastModified) });
        return;
      }
      case "end":
        this.uploads.delete(line.u);
        return;
      case "event":
        this.owe(line.e);
        return;
      case "sent":
        this.owed.delete(line.n);
        return;
      case "counters":
        if (line.seq > this.seq) this.seq = line.seq;
        if (BigInt(`0x${line.sequencer}`) > this.sequencer) this.sequencer = BigInt(`0x${line.sequencer}`);
        return;
    }
  }

  private owe(event: StoredEvent): void {
    this.counted(event);
    this.owed.set(event.seq, event);
  }

  /** Rewrites the journal as the state it describes (written aside, synced, then renamed over it). */
  private compact(): void {
    const lines: JournalLine[] = [];
    for (const [name, bucket] of this.buckets) {
      lines.push({ t: "bucket", name, created: bucket.created.toISOString() });
    }
    for (const [bucketName, bucket] of this.buckets) {
      for (const [key, entries] of bucket.keys) {
        for (const entry of entries) {
          lines.push(
            entry.deleteMarker
              ? { t: "marker", b: bucketName, k: key, v: entry }
              : { t: "put", b: bucketName, k: key, v: entry },
          );
        }
      }
    }
    for (const event of this.owed.values()) lines.push({ t: "event", e: event });
    for (const upload of this.uploads.values()) {
      const { parts, completing: _completing, ...rest } = upload;
      lines.push({ t: "upload", u: rest });
      for (const part of parts.values()) lines.push({ t: "part", u: upload.uploadId, p: part });
    }
    lines.push({
      t: "counters",
      seq: this.seq,
      sequencer: this.sequencer.toString(16).toUpperCase().padStart(18, "0"),
    });
    const aside = `${this.journalPath}.new`;
    const fd = openSync(aside, "w");
    try {
      writeSync(fd, lines.map((line) => `${JSON.stringify(line)}\n`).join(""));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(aside, this.journalPath);
    this.appended = 0;
  }

  /** Blob files no version or part names: staged writes the process died before committing. */
  private async removeUnnamedBlobs(): Promise<void> {
    const named = new Set<string>();
    for (const bucket of this.buckets.values())
      for (const entries of bucket.keys.values())
        for (const entry of entries) if (!entry.deleteMarker) named.add(entry.blob.id);
    for (const upload of this.uploads.values())
      for (const part of upload.parts.values()) named.add(part.blob.id);
    for (const file of await readdir(this.blobDir)) {
      if (!named.has(file)) await unlink(join(this.blobDir, file)).catch(() => undefined);
    }
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  bucketNames(): { name: string; created: Date }[] {
    return [...this.buckets].map(([name, b]) => ({ name, created: b.created }));
  }

  createBucket(name: string): boolean {
    if (this.buckets.has(name)) return false;
    const created = new Date();
    this.buckets.set(name, { created, keys: new Map() });
    this.log({ t: "bucket", name, created: created.toISOString() });
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

  private emit(commit: Commit, event: StoredEvent): void {
    for (const listener of this.listeners) listener(commit, event);
  }

  /** Makes a staged blob the new current version of a key, if the write's conditions still hold. */
  async commit(
    bucket: string,
    key: string,
    blob: Blob,
    attributes: ObjectAttributes,
    options: {
      conditions?: WriteConditions;
      eventName: string;
      etag?: string;
      parts?: number;
      /** The multipart upload this commit completes (it ends with the commit, in the same journal line). */
      upload?: string;
    },
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
    const event = this.nextEvent(bucket, key, version, options.eventName);
    this.log({
      t: "put",
      b: bucket,
      k: key,
      v: version,
      e: event,
      ...(options.upload ? { done: options.upload } : {}),
    });
    keys.set(key, [...(keys.get(key) ?? []), version]);
    this.location.set(version, { bucket, key });
    this.emit({ bucket, key, entry: version, eventName: options.eventName }, event);
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
      const eventName = "ObjectRemoved:Delete";
      const event = this.nextEvent(bucket, key, entry, eventName);
      this.log({ t: "remove", b: bucket, k: key, id: entry.versionId, e: event });
      if (rest.length > 0) keys.set(key, rest);
      else keys.delete(key);
      if (!entry.deleteMarker) await this.discard(entry.blob);
      this.emit({ bucket, key, entry, eventName }, event);
      return { versionId: entry.versionId, deleteMarker: entry.deleteMarker };
    }
    if (options.ifMatch !== undefined) {
      const current = entries[entries.length - 1];
      if (!current || current.deleteMarker)
        throw new S3Error("NoSuchKey", "The specified key does not exist.", { fields: { Key: key } });
      if (!etagMatches(options.ifMatch, current.etag)) throw preconditionFailed("If-Match");
    }
    const marker: DeleteMarker = { versionId: newVersionId(), deleteMarker: true, lastModified: new Date() };
    const eventName = "ObjectRemoved:DeleteMarkerCreated";
    const event = this.nextEvent(bucket, key, marker, eventName);
    this.log({ t: "marker", b: bucket, k: key, v: marker, e: event });
    keys.set(key, [...entries, marker]);
    this.emit({ bucket, key, entry: marker, eventName }, event);
    return { versionId: marker.versionId, deleteMarker: true };
  }

  setTags(version: Version, tags: [string, string][]): void {
    const where = this.location.get(version);
    if (where) this.log({ t: "tags", b: where.bucket, k: where.key, id: version.versionId, tags });
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
    const { parts: _parts, completing: _completing, ...logged } = upload;
    this.log({ t: "upload", u: logged });
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
    this.log({ t: "part", u: upload.uploadId, p: part });
    upload.parts.set(partNumber, part);
    if (previous) await this.discard(previous.blob);
    return part;
  }

  async abortUpload(upload: MultipartUpload): Promise<void> {
    if (this.uploads.has(upload.uploadId)) this.log({ t: "end", u: upload.uploadId });
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
