/**
 * Streams a deflate or gzip body out of a reader through node's zlib, with backpressure: the consumer pulls
 * inflated chunks, a pump feeds compressed chunks only as zlib takes them, so memory stays at a few chunks and
 * a consumer that throws (a limit crossed) stops the inflation at once.
 *
 * Every way out settles: a zlib error rejects the pending write as well as the consumer, so neither side can
 * wait on the other for ever.
 */
import type { Gunzip, InflateRaw } from "node:zlib";
import { createGunzip, createInflateRaw } from "node:zlib";
import type { ByteReader } from "./reader.ts";
import { TruncatedError } from "./reader.ts";
import { type Expansion, ScanStop } from "./walk.ts";

export interface InflateOptions {
  format: "deflate" | "gzip";
  /** Compressed bytes of a zip entry; undefined when a data descriptor follows, or for gzip (to the end). */
  compressedSize?: number;
  /** Called with each inflated chunk before it is handed on. */
  onInflate: Expansion;
  /** Names the stream in error details. */
  what: string;
}

/** Speed: larger output chunks than zlib's 16 KiB default halve the per-chunk overhead. */
const CHUNK_SIZE = 64 * 1024;

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Resolves once zlib has consumed the chunk; rejects if zlib fails or is torn down first. */
function write(zlib: InflateRaw | Gunzip, chunk: Buffer, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error?: unknown) => {
      zlib.off("error", fail);
      zlib.off("close", fail);
      reject(
        new ScanStop(
          "corrupt",
          `unreadable compressed data in ${what}: ${message(error ?? "stream closed")}`,
        ),
      );
    };
    zlib.on("error", fail);
    zlib.on("close", fail);
    zlib.write(chunk, (error) => {
      if (error) return fail(error);
      zlib.off("error", fail);
      zlib.off("close", fail);
      resolve();
    });
  });
}

export async function* inflate(reader: ByteReader, options: InflateOptions): AsyncGenerator<Buffer> {
  const { format, compressedSize, onInflate, what } = options;
  const zlib =
    format === "gzip" ? createGunzip({ chunkSize: CHUNK_SIZE }) : createInflateRaw({ chunkSize: CHUNK_SIZE });
  // Errors reach the pump and the consumer; this keeps a late one from becoming an uncaught exception.
  zlib.on("error", () => {});
  let pumpError: unknown;
  const pump = (async () => {
    try {
      let written = 0;
      let left = compressedSize ?? Number.POSITIVE_INFINITY;
      while (left > 0) {
        const chunk = await reader.chunk(left);
        if (!chunk) {
          if (compressedSize !== undefined) throw new TruncatedError(`truncated ${what}`);
          break;
        }
        await write(zlib, chunk, what);
        written += chunk.length;
        left -= chunk.length;
        // zlib stops taking input at the end of a raw deflate stream: the rest belongs to the container.
        const unused = written - zlib.bytesWritten;
        if (unused > 0 && format === "deflate") {
          if (compressedSize !== undefined) {
            throw new ScanStop("corrupt", `deflate data of ${what} ends before its compressed size`);
          }
          reader.unshift(chunk.subarray(chunk.length - unused));
          break;
        }
      }
      if (!zlib.destroyed) zlib.end();
    } catch (error) {
      pumpError = error;
      zlib.destroy();
    }
  })();

  let consumerError: unknown;
  let completed = false;
  try {
    for await (const out of zlib) {
      const bytes = out as Buffer;
      onInflate(bytes.length, zlib.bytesWritten);
      yield bytes;
    }
    completed = true;
  } catch (error) {
    consumerError = error;
  } finally {
    // After a normal end the pump finishes by itself (it may still hand zlib trailing bytes to check).
    if (!completed) zlib.destroy();
    await pump;
    zlib.destroy();
  }
  // A limit crossed while inflating names itself; otherwise the pump knows best (truncation, source failure).
  if (consumerError instanceof ScanStop) throw consumerError;
  if (pumpError !== undefined) throw pumpError;
  if (consumerError !== undefined) {
    throw new ScanStop("corrupt", `unreadable compressed data in ${what}: ${message(consumerError)}`);
  }
}
