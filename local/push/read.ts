/**
 * Reading files for a push without ever sending a torn copy. Hashing records the file's fingerprint (size,
 * mtime, ctime, inode) before and after the read; the upload reads the file again through a stream that hashes
 * what it sends, holds back the last chunk, and only lets it go when the digest, the size and the fingerprint
 * still match. A file that changed in between fails the stream before its last byte, so neither a single PUT,
 * a POST nor a multipart completion can finish with bytes nobody hashed.
 */
import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { Transform, type TransformCallback } from "node:stream";

export interface Fingerprint {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

export class FileChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FileChangedError";
  }
}

export function fingerprintOf(stats: Stats): Fingerprint {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
}

export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

const CHUNK = 256 * 1024;
/** Read buffers as large as the file (plus one byte, to see its end in the same read), at most CHUNK: a 2 KiB
 * file does not allocate 256 KiB twice, which for ten thousand small files is most of the garbage. */
const chunkFor = (size: number) => Math.min(CHUNK, Math.max(16 * 1024, size + 1));

/** Streams the file through SHA-256 (constant memory); throws FileChangedError when it changed meanwhile. */
export async function hashFile(
  path: string,
  onBytes: (n: number) => void = () => {},
): Promise<{ sha256: string; fingerprint: Fingerprint }> {
  const handle = await open(path, "r");
  try {
    const before = fingerprintOf(await handle.stat());
    const hash = createHash("sha256");
    let total = 0;
    for await (const chunk of handle.createReadStream({
      autoClose: false,
      highWaterMark: chunkFor(before.size),
    })) {
      hash.update(chunk as Buffer);
      total += (chunk as Buffer).length;
      onBytes((chunk as Buffer).length);
    }
    const after = fingerprintOf(await handle.stat());
    if (total !== before.size || !sameFingerprint(before, after))
      throw new FileChangedError("the file changed while it was being read; it was not uploaded");
    return { sha256: hash.digest("hex"), fingerprint: before };
  } finally {
    await handle.close();
  }
}

/**
 * Passes bytes through, hashing and counting them, and keeps the latest chunk back until the end: `check` runs
 * before that chunk is released and fails the stream when the bytes are not the ones expected.
 */
export class VerifyingStream extends Transform {
  private readonly hash = createHash("sha256");
  private held: Buffer | undefined;
  private bytes = 0;

  constructor(
    private readonly expected: { sha256?: string; size: number },
    private readonly check: () => Promise<void> = async () => {},
    private readonly onBytes: (n: number) => void = () => {},
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (this.bytes > this.expected.size) {
      callback(new FileChangedError("the file grew while it was being uploaded; it was not uploaded"));
      return;
    }
    if (this.held) {
      this.push(this.held);
      this.onBytes(this.held.length);
    }
    this.held = chunk;
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const digest = this.hash.digest("hex");
    if (this.bytes !== this.expected.size) {
      callback(new FileChangedError("the file shrank while it was being uploaded; it was not uploaded"));
      return;
    }
    if (this.expected.sha256 !== undefined && digest !== this.expected.sha256) {
      callback(new FileChangedError("the file changed after it was hashed; it was not uploaded"));
      return;
    }
    this.check().then(
      () => {
        if (this.held) {
          this.push(this.held);
          this.onBytes(this.held.length);
        }
        this.held = undefined;
        callback();
      },
      (error: unknown) => callback(error as Error),
    );
  }
}

/**
 * Opens the file for upload: checks it is still the file that was hashed, and returns a stream of exactly its
 * bytes that fails (before the last chunk) if they differ from what was hashed.
 */
export async function openVerified(
  path: string,
  expected: { sha256?: string; fingerprint: Fingerprint },
  onBytes: (n: number) => void = () => {},
): Promise<VerifyingStream> {
  const handle: FileHandle = await open(path, "r");
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close().catch(() => {});
  };
  try {
    const now = fingerprintOf(await handle.stat());
    if (!sameFingerprint(now, expected.fingerprint))
      throw new FileChangedError("the file changed after it was hashed; it was not uploaded");
  } catch (error) {
    await close();
    throw error;
  }
  const verifying = new VerifyingStream(
    { sha256: expected.sha256, size: expected.fingerprint.size },
    async () => {
      const after = fingerprintOf(await handle.stat());
      await close();
      if (!sameFingerprint(after, expected.fingerprint))
        throw new FileChangedError("the file changed while it was being uploaded; it was not uploaded");
    },
    onBytes,
  );
  const source = handle.createReadStream({
    autoClose: false,
    highWaterMark: chunkFor(expected.fingerprint.size),
  });
  source.on("error", (error) => verifying.destroy(error));
  verifying.on("close", () => {
    source.destroy();
    void close();
  });
  source.pipe(verifying);
  return verifying;
}
