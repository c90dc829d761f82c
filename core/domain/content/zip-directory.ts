/**
 * A zip's entry count and declared expanded size from its central directory, read from a bounded tail of the
 * stream (the directory is at the end). `fflate`'s streaming unzip cannot give these for entries whose sizes
 * only follow their data, and its whole-archive unzip needs the archive in memory; reading the end-of-central-
 * directory record and the directory entries is a few fixed-layout fields, so it is done here.
 */
import type { ArchiveFacts } from "../types.ts";

/** A directory larger than this (about 10,000 entries with long names) is not read; the count still is. */
export const DIRECTORY_TAIL_BYTES = 2 * 1024 * 1024;
const END = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_END = 0x06064b50;
const CENTRAL = 0x02014b50;
const END_MAX = 22 + 0xffff;

export function zipDirectory() {
  const chunks: Buffer[] = [];
  let held = 0;
  let total = 0;
  return {
    update(chunk: Uint8Array) {
      const copy = Buffer.from(chunk);
      chunks.push(copy);
      held += copy.length;
      total += copy.length;
      while (chunks.length > 1 && held - (chunks[0]?.length ?? 0) >= DIRECTORY_TAIL_BYTES + END_MAX) {
        held -= chunks.shift()?.length ?? 0;
      }
    },
    buffered: () => held,
    /** The facts, or a reason they could not be read. */
    finish(): { archive?: ArchiveFacts; warning?: string } {
      const tail = Buffer.concat(chunks);
      const tailStart = total - tail.length;
      let end = -1;
      for (let i = tail.length - 22; i >= Math.max(0, tail.length - END_MAX); i--) {
        if (tail.readUInt32LE(i) === END) {
          end = i;
          break;
        }
      }
      if (end < 0) return { warning: "zip end-of-directory record not found" };
      let entries = tail.readUInt16LE(end + 10);
      let size = tail.readUInt32LE(end + 12);
      let offset = tail.readUInt32LE(end + 16);
      const locator = end - 20;
      if (locator >= 0 && tail.readUInt32LE(locator) === ZIP64_LOCATOR) {
        const at = Number(tail.readBigUInt64LE(locator + 8)) - tailStart;
        if (at >= 0 && at + 56 <= tail.length && tail.readUInt32LE(at) === ZIP64_END) {
          entries = Number(tail.readBigUInt64LE(at + 32));
          size = Number(tail.readBigUInt64LE(at + 40));
          offset = Number(tail.readBigUInt64LE(at + 48));
        }
      }
      const start = offset - tailStart;
      if (start < 0 || start + size > tail.length)
        return {
          archive: { entries, expandedBytes: 0 },
          warning: "zip central directory too large: expanded size not read",
        };
      let expandedBytes = 0;
      let at = start;
      for (let n = 0; n < entries; n++) {
        if (at + 46 > tail.length || tail.readUInt32LE(at) !== CENTRAL)
          return { archive: { entries, expandedBytes }, warning: "zip central directory is corrupt" };
        let uncompressed = tail.readUInt32LE(at + 24);
        const nameLength = tail.readUInt16LE(at + 28);
        const extraLength = tail.readUInt16LE(at + 30);
        const commentLength = tail.readUInt16LE(at + 32);
        if (uncompressed === 0xffffffff) {
          // zip64: the extended-information extra field holds the real size first.
          const extra = tail.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength);
          for (let i = 0; i + 4 <= extra.length; i += 4 + extra.readUInt16LE(i + 2)) {
            if (extra.readUInt16LE(i) === 0x0001 && i + 12 <= extra.length) {
              uncompressed = Number(extra.readBigUInt64LE(i + 4));
              break;
            }
          }
        }
        expandedBytes += uncompressed;
        at += 46 + nameLength + extraLength + commentLength;
      }
      return { archive: { entries, expandedBytes } };
    },
  };
}
