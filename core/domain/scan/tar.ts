/**
 * A streaming tar walker (POSIX ustar, pax extended headers, GNU long names): each regular file's bytes are
 * handed to the inspector as they are read, so memory holds one 512-byte header at a time. A header whose
 * checksum does not add up, a size that is not a number, or a stream that ends inside an entry is `corrupt`.
 */

import type { ByteReader } from "./reader.ts";
import { checkDepth, checkEntryName, countEntry, record, ScanStop, type Walk, where } from "./walk.ts";
import type { InspectEntry } from "./zip.ts";

const BLOCK = 512;
/** Entry types without file data: directories, character and block devices, FIFOs, global pax, volume labels. */
const METADATA_ONLY = new Set(["3", "4", "5", "6", "g", "V"]);
/** pax and GNU long-name records are metadata, read whole: they may not be larger than this. */
const MAX_META_BYTES = 1024 * 1024;

function octal(field: Buffer, what: string): number {
  // GNU base-256: the high bit of the first byte set, the rest a big-endian number.
  if (field[0] !== undefined && field[0] & 0x80) {
    let value = field[0] & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return value;
  }
  const text = field
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new ScanStop("corrupt", `tar header with a malformed ${what}`);
  return Number.parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  const stored = octal(header.subarray(148, 156), "checksum");
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] as number);
  return sum === stored;
}

const text = (field: Buffer) => {
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString("utf8");
};

/** The bytes of one entry, exactly `size` of them, as the inspector's source. */
async function* body(reader: ByteReader, size: number, name: string): AsyncGenerator<Uint8Array> {
  let left = size;
  while (left > 0) {
    const chunk = await reader.chunk(left);
    if (!chunk) throw new ScanStop("corrupt", `tar entry ${name} ends early`);
    left -= chunk.length;
    yield chunk;
  }
}

function paxPath(records: Buffer): string | undefined {
  let path: string | undefined;
  for (const line of records.toString("utf8").split("\n")) {
    const m = /^\d+ (path|linkpath)=(.*)$/.exec(line);
    if (m?.[1] === "path") path = m[2];
  }
  return path;
}

export async function walkTar(
  reader: ByteReader,
  path: string,
  depth: number,
  walk: Walk,
  inspect: InspectEntry,
  /** Judges what follows the end-of-archive blocks (readers that skip zero blocks, `tar -i`, read on). */
  afterEnd: () => Promise<void>,
): Promise<void> {
  checkDepth(walk, path, depth);
  let longName: string | undefined;
  for (;;) {
    const header = await reader.read(BLOCK, `tar header in ${where(path)}`);
    if (header.every((b) => b === 0)) return afterEnd(); // the end-of-archive blocks
    if (!checksumOk(header)) throw new ScanStop("corrupt", `tar header checksum mismatch in ${where(path)}`);
    const type = String.fromCharCode(header[156] as number);
    const size = octal(header.subarray(124, 136), "size");
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    const prefix =
      header.subarray(257, 262).toString("latin1") === "ustar" ? text(header.subarray(345, 500)) : "";
    const name =
      longName ?? (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)));
    longName = undefined;
    if (type === "x" || type === "L" || type === "K") {
      if (size > MAX_META_BYTES)
        throw new ScanStop("limit-exceeded", `tar metadata record over 1 MiB in ${where(path)}`);
      const meta = (await reader.read(padded, "tar metadata")).subarray(0, size);
      if (type !== "K") longName = type === "x" ? paxPath(meta) : text(meta);
      continue;
    }
    const entryPath = path ? `${path}/${name}` : name;
    checkEntryName(walk, [name], entryPath);
    if (type === "0" || type === "\0" || type === "7") {
      countEntry(walk);
      const read = await inspect(body(reader, size, entryPath), entryPath, depth + 1, size);
      if (read !== size) throw new ScanStop("corrupt", `tar entry ${entryPath} was not read to its end`);
    } else if (type === "1" || type === "2") {
      // A hard or symbolic link: an extractor creates a link to a target the scan cannot judge.
      countEntry(walk);
      record(walk, "Airlock.Archive.Link", entryPath);
      await reader.skip(size, "tar entry");
    } else if (METADATA_ONLY.has(type) || size === 0) {
      // Directories, devices, FIFOs, global pax headers, volume labels: nothing an extractor writes as a file.
      await reader.skip(size, "tar entry");
    } else {
      // Sparse files, multi-volume continuations, vendor types: data the scan does not read as a file's.
      throw new ScanStop("unsupported", `tar entry type ${JSON.stringify(type)} (${entryPath}) is not read`);
    }
    await reader.skip(padded - size, "tar padding");
  }
}
