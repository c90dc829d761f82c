/**
 * Zip, read front to back from local headers (stored and deflate, zip64 sizes, data descriptors after deflated
 * entries), each entry handed to the scanner as a stream.
 *
 * Extractors trust the central directory, a streaming reader trusts local headers; an archive where the two
 * disagree can show an extractor an entry the scan never read (one hidden inside another entry's bytes, or
 * renamed, or longer). So every central record must name an entry that was read at that offset, with the same
 * name, method and sizes as were actually streamed, and nothing may follow the end record. One digest per
 * entry is kept for this, bounded by `maxEntries`.
 */
import { createHash } from "node:crypto";
import { inflate } from "./inflate.ts";
import { officeEntryFinding } from "./office.ts";
import type { ByteReader } from "./reader.ts";
import {
  type ContainerMeter,
  checkDepth,
  checkEntryName,
  countEntry,
  expansion,
  nameReadings,
  record,
  ScanStop,
  type Walk,
  where,
} from "./walk.ts";

/**
 * Scans one entry's bytes at the given path and depth; resolves to the number of bytes it read. `size` is given
 * only when the body yields exactly that many bytes or fails (a stored zip entry, a tar entry).
 */
export type InspectEntry = (
  body: AsyncIterator<Uint8Array>,
  path: string,
  depth: number,
  size?: number,
) => Promise<number>;

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const DESCRIPTOR = 0x08074b50;
const END = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const SIGNATURE = 0x05054b50;
const U32_MAX = 0xffffffff;

interface ReadEntry {
  nameDigest: string;
  method: number;
  compressed: number;
  size: number;
}

const digest = (name: Buffer) => createHash("sha256").update(name).digest("base64");

/** Reads the zip64 extended-information fields present for the values that are saturated, in spec order. */
function zip64(extra: Buffer, values: { size: number; compressed: number; offset?: number }) {
  const out = { ...values, zip64: false };
  for (let i = 0; i + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(i);
    const end = i + 4 + extra.readUInt16LE(i + 2);
    if (id === 0x0001) {
      let at = i + 4;
      const next = (current: number) => {
        if (current !== U32_MAX || at + 8 > end || at + 8 > extra.length) return current;
        at += 8;
        return Number(extra.readBigUInt64LE(at - 8));
      };
      out.size = next(values.size);
      out.compressed = next(values.compressed);
      if (values.offset !== undefined) out.offset = next(values.offset);
      out.zip64 = true;
      return out;
    }
    i = end;
  }
  return out;
}

async function* storedBody(reader: ByteReader, size: number, what: string): AsyncGenerator<Buffer> {
  let left = size;
  while (left > 0) {
    const chunk = await reader.chunk(left);
    if (!chunk) throw new ScanStop("corrupt", `truncated ${what}`);
    left -= chunk.length;
    yield chunk;
  }
}

async function readEntry(
  reader: ByteReader,
  path: string,
  depth: number,
  walk: Walk,
  container: ContainerMeter,
  inspect: InspectEntry,
): Promise<ReadEntry> {
  const header = await reader.read(30, "zip local header");
  const flags = header.readUInt16LE(6);
  const method = header.readUInt16LE(8);
  const nameBytes = await reader.read(header.readUInt16LE(26), "zip entry name");
  const name = nameBytes.toString(flags & 0x800 ? "utf8" : "latin1");
  const extra = await reader.read(header.readUInt16LE(28), "zip extra field");
  const sizes = zip64(extra, { size: header.readUInt32LE(22), compressed: header.readUInt32LE(18) });
  const entryPath = path ? `${path}/${name}` : name;
  countEntry(walk);
  checkEntryName(
    walk,
    [...nameReadings(nameBytes, flags & 0x800 ? "utf8" : "latin1"), ...unicodePaths(extra)],
    entryPath,
  );
  if (flags & 0x1) throw new ScanStop("encrypted", `encrypted zip entry ${entryPath}`);
  // VBA projects make Office documents (and anything that carries one) macro-enabled.
  if (/(^|\/)vbaProject\.bin$/i.test(name)) record(walk, "Airlock.Office.Macro", entryPath);
  const active = officeEntryFinding(name);
  if (active) record(walk, active, entryPath);
  // An Android package: its code may be compiled Dalvik (found by its header too) or native libraries.
  if (/^AndroidManifest\.xml$/.test(name)) record(walk, "Airlock.Executable.Apk", entryPath);
  if (method !== 0 && method !== 8) {
    throw new ScanStop("unsupported", `zip compression method ${method} in ${entryPath}`);
  }
  const descriptor = (flags & 0x8) !== 0;
  const known = descriptor && sizes.compressed === 0 ? undefined : sizes.compressed;
  if (method === 0 && known === undefined) {
    throw new ScanStop("unsupported", `stored zip entry of unknown length (data descriptor) ${entryPath}`);
  }
  const start = reader.position;
  const what = `zip entry ${entryPath}`;
  const body =
    method === 0
      ? storedBody(reader, known ?? 0, what)
      : inflate(reader, {
          format: "deflate",
          compressedSize: known,
          onInflate: expansion(walk, entryPath, container),
          what,
        });
  const size = await inspect(body, entryPath, depth + 1, method === 0 ? known : undefined);
  const compressed = reader.position - start;
  if (descriptor) {
    await reader.ensure(4);
    if (reader.peek(4).readUInt32LE(0) === DESCRIPTOR) await reader.read(4, "zip data descriptor");
    await reader.skip(sizes.zip64 ? 20 : 12, "zip data descriptor");
  }
  return { nameDigest: digest(nameBytes), method, compressed, size };
}

/** Names from Info-ZIP Unicode Path extra fields (0x7075), which extractors show instead of the header's. */
function unicodePaths(extra: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i + 4 <= extra.length; i += 4 + extra.readUInt16LE(i + 2)) {
    const end = Math.min(extra.length, i + 4 + extra.readUInt16LE(i + 2));
    if (extra.readUInt16LE(i) === 0x7075 && end > i + 9)
      out.push(extra.subarray(i + 9, end).toString("utf8"));
  }
  return out;
}

/** Unix file types in a central record's external attributes (made by Unix: the mode's high bits). */
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** Checks one central record against the entry read at its offset. */
async function checkCentral(
  reader: ByteReader,
  read: Map<number, ReadEntry>,
  path: string,
  walk: Walk,
): Promise<void> {
  const fixed = await reader.read(46, "zip central directory");
  const nameBytes = await reader.read(fixed.readUInt16LE(28), "zip central directory");
  const extra = await reader.read(fixed.readUInt16LE(30), "zip central directory");
  await reader.skip(fixed.readUInt16LE(32), "zip central directory");
  const listed = zip64(extra, {
    size: fixed.readUInt32LE(24),
    compressed: fixed.readUInt32LE(20),
    offset: fixed.readUInt32LE(42),
  });
  const name = nameBytes.toString(fixed.readUInt16LE(8) & 0x800 ? "utf8" : "latin1");
  const entryPath = path ? `${path}/${name}` : name;
  checkEntryName(walk, unicodePaths(extra), entryPath);
  // A symbolic link: an extractor creates a link to a target the scan cannot judge (outside the archive, or a
  // path later entries are written through).
  if (fixed[5] === 3 && ((fixed.readUInt32LE(38) >>> 16) & S_IFMT) === S_IFLNK)
    record(walk, "Airlock.Archive.Link", entryPath);
  const entry = read.get(listed.offset ?? -1);
  if (!entry) {
    throw new ScanStop(
      "corrupt",
      `central directory of ${where(path)} lists ${name}, which no local header holds`,
    );
  }
  if (
    entry.nameDigest !== digest(nameBytes) ||
    entry.method !== fixed.readUInt16LE(10) ||
    entry.compressed !== listed.compressed ||
    entry.size !== listed.size
  ) {
    throw new ScanStop(
      "corrupt",
      `central directory of ${where(path)} disagrees with the local header of ${name}`,
    );
  }
}

/** Central directory, zip64 end records and the end record; nothing may follow the end record's comment. */
async function readDirectory(
  reader: ByteReader,
  read: Map<number, ReadEntry>,
  path: string,
  walk: Walk,
): Promise<void> {
  for (;;) {
    if ((await reader.ensure(4)) < 4) {
      throw new ScanStop("corrupt", `zip ended before its end record at ${where(path)}`);
    }
    const signature = reader.peek(4).readUInt32LE(0);
    if (signature === CENTRAL) await checkCentral(reader, read, path, walk);
    else if (signature === ZIP64_END) {
      const head = await reader.read(12, "zip64 end record");
      await reader.skip(Number(head.readBigUInt64LE(4)), "zip64 end record");
    } else if (signature === ZIP64_LOCATOR) await reader.skip(20, "zip64 end locator");
    else if (signature === SIGNATURE) {
      const head = await reader.read(6, "zip digital signature");
      await reader.skip(head.readUInt16LE(4), "zip digital signature");
    } else if (signature === END) {
      const end = await reader.read(22, "zip end record");
      const comment = await reader.read(end.readUInt16LE(20), "zip comment");
      // Another end record in the comment or after it would let a reader that searches from the end see a
      // different archive.
      if (comment.includes(Buffer.from([0x50, 0x4b, 0x05, 0x06])) || (await reader.ensure(1)) > 0) {
        throw new ScanStop("corrupt", `data after the end record of ${where(path)}`);
      }
      return;
    } else throw new ScanStop("corrupt", `bad zip record in the central directory of ${where(path)}`);
  }
}

export async function walkZip(
  reader: ByteReader,
  path: string,
  depth: number,
  walk: Walk,
  inspect: InspectEntry,
): Promise<void> {
  checkDepth(walk, path, depth);
  const read = new Map<number, ReadEntry>();
  const container: ContainerMeter = { path, expanded: 0, compressed: () => reader.position };
  for (;;) {
    if ((await reader.ensure(4)) < 4) {
      throw new ScanStop("corrupt", `zip ended before its central directory at ${where(path)}`);
    }
    const signature = reader.peek(4).readUInt32LE(0);
    if (signature !== LOCAL) break;
    const offset = reader.position;
    read.set(offset, await readEntry(reader, path, depth, walk, container, inspect));
  }
  const signature = reader.peek(4).readUInt32LE(0);
  if (signature !== CENTRAL && signature !== END && signature !== ZIP64_END) {
    throw new ScanStop("corrupt", `bad zip record in ${where(path)}`);
  }
  await readDirectory(reader, read, path, walk);
}
