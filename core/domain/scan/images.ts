/**
 * PNG, JPEG and GIF walked to the end marker a viewer stops at (PNG `IEND`, JPEG `EOI`, the GIF trailer), reading
 * only chunk and segment headers (JPEG entropy-coded data is searched natively for the next marker), so the
 * walk costs little more than reading. What follows the end marker is a viewer's blind spot and an unzip tool's
 * or a JVM's whole file: `walkImage` returns there and the caller judges the rest (see `trailing` in builtin.ts).
 *
 * A stream that ends before its end marker is a truncated image (viewers show what there is): no finding, no
 * error. A JPEG followed by another complete JPEG (multi-picture files from cameras, MPO) is walked on.
 */
import type { ByteReader } from "./reader.ts";

export type ImageKind = "png" | "jpeg" | "gif";

/** Skips `n` bytes; false when the stream ends first. */
async function skip(reader: ByteReader, n: number): Promise<boolean> {
  let left = n;
  while (left > 0) {
    const chunk = await reader.chunk(left);
    if (!chunk) return false;
    left -= chunk.length;
  }
  return true;
}

async function bytes(reader: ByteReader, n: number): Promise<Buffer | undefined> {
  if ((await reader.ensure(n)) < n) return undefined;
  const out = Buffer.from(reader.peek(n));
  await skip(reader, n);
  return out;
}

async function walkPng(reader: ByteReader): Promise<boolean> {
  if (!(await skip(reader, 8))) return false;
  for (;;) {
    const header = await bytes(reader, 8);
    if (!header) return false;
    const length = header.readUInt32BE(0);
    if (!(await skip(reader, length + 4))) return false;
    if (header.toString("latin1", 4, 8) === "IEND") return true;
  }
}

/** Markers without a length: TEM, RST0-7, SOI, EOI. */
const STANDALONE = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);

/** Reads one JPEG from SOI to EOI; false when the stream ends first. */
async function walkOneJpeg(reader: ByteReader): Promise<boolean> {
  if (!(await skip(reader, 2))) return false;
  let entropy = false;
  for (;;) {
    if (entropy) {
      // Entropy-coded data: find the next 0xFF that starts a marker (not stuffing 0xFF00, a restart or fill).
      const chunk = await reader.chunk();
      if (!chunk) return false;
      let at = chunk.indexOf(0xff);
      while (at !== -1 && at + 1 < chunk.length) {
        const next = chunk[at + 1] as number;
        if (next !== 0x00 && next !== 0xff && !(next >= 0xd0 && next <= 0xd7)) break;
        at = chunk.indexOf(0xff, at + 1);
      }
      if (at === -1) continue;
      // A marker (or a lone 0xFF at the chunk's end): put it back and read it as a marker.
      reader.unshift(chunk.subarray(at));
      entropy = false;
    }
    const head = await bytes(reader, 2);
    if (!head) return false;
    if (head[0] !== 0xff) {
      // Not a marker where one must be: a viewer stops here; so does the walk, and the rest is trailing.
      reader.unshift(head);
      return true;
    }
    let marker = head[1] as number;
    while (marker === 0xff) {
      const fill = await bytes(reader, 1);
      if (!fill) return false;
      marker = fill[0] as number;
    }
    if (marker === 0xd9) return true;
    if (marker === 0x00 || (marker >= 0xd0 && marker <= 0xd7)) {
      entropy = true;
      continue;
    }
    if (STANDALONE(marker)) continue;
    const length = await bytes(reader, 2);
    if (!length) return false;
    if (!(await skip(reader, Math.max(0, length.readUInt16BE(0) - 2)))) return false;
    if (marker === 0xda) entropy = true;
  }
}

async function walkJpeg(reader: ByteReader): Promise<boolean> {
  for (;;) {
    if (!(await walkOneJpeg(reader))) return false;
    await reader.ensure(3);
    const next = reader.peek(3);
    if (!(next.length === 3 && next[0] === 0xff && next[1] === 0xd8 && next[2] === 0xff)) return true;
  }
}

/** Sub-blocks (a length byte, then that many bytes) up to the zero-length terminator. */
async function skipSubBlocks(reader: ByteReader): Promise<boolean> {
  for (;;) {
    const size = await bytes(reader, 1);
    if (!size) return false;
    if (size[0] === 0) return true;
    if (!(await skip(reader, size[0] as number))) return false;
  }
}

async function walkGif(reader: ByteReader): Promise<boolean> {
  const screen = await bytes(reader, 13);
  if (!screen) return false;
  const flags = screen[10] as number;
  if (flags & 0x80 && !(await skip(reader, 3 * 2 ** ((flags & 7) + 1)))) return false;
  for (;;) {
    const introducer = await bytes(reader, 1);
    if (!introducer) return false;
    if (introducer[0] === 0x3b) return true;
    if (introducer[0] === 0x21) {
      if (!(await skip(reader, 1)) || !(await skipSubBlocks(reader))) return false;
    } else if (introducer[0] === 0x2c) {
      const descriptor = await bytes(reader, 9);
      if (!descriptor) return false;
      const local = descriptor[8] as number;
      if (local & 0x80 && !(await skip(reader, 3 * 2 ** ((local & 7) + 1)))) return false;
      if (!(await skip(reader, 1)) || !(await skipSubBlocks(reader))) return false;
    } else {
      // Decoders stop at a byte that starts no block: what follows is not part of the image.
      reader.unshift(introducer);
      return true;
    }
  }
}

/**
 * Reads one image to its end marker. Resolves true when the marker was found (the reader then stands at the first
 * trailing byte) and false when the stream ended first.
 */
export function walkImage(kind: ImageKind, reader: ByteReader): Promise<boolean> {
  if (kind === "png") return walkPng(reader);
  if (kind === "jpeg") return walkJpeg(reader);
  return walkGif(reader);
}
