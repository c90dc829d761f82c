/**
 * An Office Open XML package recognised from its central directory (OPC allows its parts in any order, so
 * `[Content_Types].xml` may come last, beyond the head that validation reads). Given the last bytes of a zip:
 * when `[Content_Types].xml` itself lies in them, it is handed to `file-type` as a one-entry zip (the same rules
 * as for a head); otherwise the part names decide (`word/`, `xl/`, `ppt/`, a `vbaProject.bin` making it
 * macro-enabled), as `file-type` does when it cannot read the content types.
 */
import { fileTypeFromBuffer } from "file-type";
import type { DetectedType } from "../types.ts";

/** How much of a zip's end validation reads: room for a directory of a few thousand entries. */
export const TAIL_BYTES = 256 * 1024;

const END = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_END = 0x06064b50;

interface Entry {
  name: string;
  method: number;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
}

function directory(tail: Buffer, size: number): Entry[] | undefined {
  const tailStart = size - tail.length;
  let end = -1;
  for (let i = tail.length - 22; i >= Math.max(0, tail.length - 22 - 0xffff); i--) {
    if (tail.readUInt32LE(i) === END) {
      end = i;
      break;
    }
  }
  if (end < 0) return undefined;
  let count = tail.readUInt16LE(end + 10);
  let start = tail.readUInt32LE(end + 16);
  if (end >= 20 && tail.readUInt32LE(end - 20) === ZIP64_LOCATOR) {
    const at = Number(tail.readBigUInt64LE(end - 12)) - tailStart;
    if (at >= 0 && at + 56 <= tail.length && tail.readUInt32LE(at) === ZIP64_END) {
      count = Number(tail.readBigUInt64LE(at + 32));
      start = Number(tail.readBigUInt64LE(at + 48));
    }
  }
  const entries: Entry[] = [];
  let at = start - tailStart;
  if (at < 0) return undefined;
  for (let n = 0; n < count; n++) {
    if (at + 46 > tail.length || tail.readUInt32LE(at) !== CENTRAL) return undefined;
    const nameLength = tail.readUInt16LE(at + 28);
    entries.push({
      name: tail.toString("utf8", at + 46, at + 46 + nameLength),
      method: tail.readUInt16LE(at + 10),
      crc: tail.readUInt32LE(at + 16),
      compressed: tail.readUInt32LE(at + 20),
      size: tail.readUInt32LE(at + 24),
      offset: tail.readUInt32LE(at + 42),
    });
    at += 46 + nameLength + tail.readUInt16LE(at + 30) + tail.readUInt16LE(at + 32);
  }
  return entries;
}

/** `[Content_Types].xml` copied out of the tail as a zip of its own (sizes from the central record). */
function contentTypesZip(tail: Buffer, size: number, entry: Entry): Buffer | undefined {
  const at = entry.offset - (size - tail.length);
  if (at < 0 || at + 30 > tail.length || tail.readUInt32LE(at) !== LOCAL) return undefined;
  const dataStart = at + 30 + tail.readUInt16LE(at + 26) + tail.readUInt16LE(at + 28);
  const data = tail.subarray(dataStart, dataStart + entry.compressed);
  if (data.length !== entry.compressed) return undefined;
  const name = Buffer.from(entry.name, "utf8");
  const header = Buffer.alloc(30);
  header.writeUInt32LE(LOCAL, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(entry.method, 8);
  header.writeUInt32LE(entry.crc, 14);
  header.writeUInt32LE(entry.compressed, 18);
  header.writeUInt32LE(entry.size, 22);
  header.writeUInt16LE(name.length, 26);
  return Buffer.concat([header, name, data]);
}

const OOXML: readonly [string, string, string, string][] = [
  ["word/", "docx", "docm", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
  ["xl/", "xlsx", "xlsm", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
  ["ppt/", "pptx", "pptm", "application/vnd.openxmlformats-officedocument.presentationml.presentation"],
];
const MACRO_MIME: Record<string, string> = {
  docm: "application/vnd.ms-word.document.macroenabled.12",
  xlsm: "application/vnd.ms-excel.sheet.macroenabled.12",
  pptm: "application/vnd.ms-powerpoint.presentation.macroenabled.12",
};

/** The OOXML type of a zip from its last bytes (`size` is the whole object's), or undefined. */
export async function ooxmlFromTail(tail: Uint8Array, size: number): Promise<DetectedType | undefined> {
  const bytes = Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength);
  const entries = directory(bytes, size);
  const types = entries?.find((e) => e.name === "[Content_Types].xml");
  if (!entries || !types) return undefined;
  const alone = contentTypesZip(bytes, size, types);
  const found = alone ? await fileTypeFromBuffer(alone) : undefined;
  if (found && found.ext !== "zip") return { id: found.ext, mime: found.mime, ext: found.ext };
  const macros = entries.some((e) => /(?:^|\/)vbaProject\.bin$/i.test(e.name));
  for (const [prefix, id, macroId, mime] of OOXML) {
    if (!entries.some((e) => e.name.startsWith(prefix))) continue;
    return macros
      ? { id: macroId, mime: MACRO_MIME[macroId] as string, ext: macroId }
      : { id, mime, ext: id };
  }
  return undefined;
}
