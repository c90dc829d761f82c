/**
 * The real type of a file, from its first bytes. `file-type` knows the binary formats by their magic numbers;
 * the text family (plain text, CSV, JSON, HTML, SVG, XML, scripts) has no magic, so it is sniffed here.
 * The `id` is the policy name allow-lists use.
 */
import { fileTypeFromBuffer } from "file-type";
import type { DetectedType } from "../types.ts";
import { ooxmlFromTail } from "./ooxml-directory.ts";

/** How much of an object the validation stage reads (one ranged GET). */
export const HEAD_BYTES = 64 * 1024;

/** file-type extensions that Airlock names differently. */
const RENAMED: Record<string, string> = { "mach-o": "macho" };

const TEXT_TYPES = {
  txt: { mime: "text/plain", ext: "txt" },
  csv: { mime: "text/csv", ext: "csv" },
  json: { mime: "application/json", ext: "json" },
  html: { mime: "text/html", ext: "html" },
  svg: { mime: "image/svg+xml", ext: "svg" },
  xml: { mime: "application/xml", ext: "xml" },
  script: { mime: "text/x-script", ext: "sh" },
} as const;

export const TEXT_FAMILY: readonly string[] = Object.keys(TEXT_TYPES);

function text(id: keyof typeof TEXT_TYPES): DetectedType {
  return { id, ...TEXT_TYPES[id] };
}

/**
 * UTF-16 without a byte-order mark: Latin-script text has a zero high byte in nearly every code unit (at odd
 * offsets for little-endian, even for big-endian) and no zero low byte.
 */
function utf16WithoutBom(head: Uint8Array): "utf-16le" | "utf-16be" | undefined {
  const pairs = Math.floor(head.length / 2);
  if (pairs < 4) return undefined;
  let zeroEven = 0;
  let zeroOdd = 0;
  for (let i = 0; i < pairs * 2; i++) if (head[i] === 0) i & 1 ? zeroOdd++ : zeroEven++;
  if (zeroOdd >= pairs * 0.7 && zeroEven === 0) return "utf-16le";
  if (zeroEven >= pairs * 0.7 && zeroOdd === 0) return "utf-16be";
  return undefined;
}

/**
 * Decodes the head as text, or undefined when it is binary. A cut multi-byte character at the end is fine.
 * UTF-8 (with or without BOM), UTF-16 with a BOM or without one (see utf16WithoutBom); bytes that are not UTF-8
 * are read as Windows-1252 (Latin-1 exports from spreadsheets), and are text when they hold no NUL and almost no
 * control characters.
 */
export function decodeText(head: Uint8Array, truncated: boolean): string | undefined {
  let encoding = "utf-8";
  let bytes = head;
  if (head[0] === 0xff && head[1] === 0xfe) encoding = "utf-16le";
  else if (head[0] === 0xfe && head[1] === 0xff) encoding = "utf-16be";
  else if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) bytes = head.subarray(3);
  else encoding = utf16WithoutBom(head) ?? "utf-8";
  let decoded: string | undefined;
  for (let cut = 0; cut <= (truncated ? 3 : 0) && decoded === undefined; cut++) {
    try {
      decoded = new TextDecoder(encoding, { fatal: true, ignoreBOM: false }).decode(
        bytes.subarray(0, bytes.length - cut),
      );
    } catch {
      decoded = undefined;
    }
  }
  if (decoded === undefined && encoding === "utf-8") decoded = new TextDecoder("windows-1252").decode(bytes);
  if (decoded === undefined) return undefined;
  let control = 0;
  for (let i = 0; i < decoded.length; i++) {
    const c = decoded.charCodeAt(i);
    if (c === 0) return undefined;
    if (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) control++;
  }
  return control > decoded.length / 100 ? undefined : decoded.replace(/^\uFEFF/, "");
}

/** Counts a delimiter outside double quotes. */
function countOutsideQuotes(line: string, delimiter: string): number {
  let count = 0;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === delimiter && !quoted) count++;
  }
  return count;
}

/** Splits CSV text into records: a line break inside double quotes belongs to its field (RFC 4180). */
function csvRecords(body: string): string[] {
  const records: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === "\n" && !quoted) {
      records.push(body.slice(start, i).replace(/\r$/, ""));
      start = i + 1;
    }
  }
  records.push(body.slice(start));
  return records;
}

function looksLikeCsv(body: string, truncated: boolean): boolean {
  const lines = csvRecords(body);
  if (truncated) lines.pop();
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const sample = lines.slice(0, 20);
  if (sample.length < 2) return false;
  return [",", ";", "\t"].some((d) => {
    const first = countOutsideQuotes(sample[0] ?? "", d);
    return first >= 1 && sample.every((line) => countOutsideQuotes(line, d) === first);
  });
}

function looksLikeJson(body: string, truncated: boolean): boolean {
  const trimmed = body.trim();
  if (!/^[[{]/.test(trimmed)) return false;
  if (!truncated) {
    try {
      JSON.parse(trimmed);
      return true;
    } catch {
      return false;
    }
  }
  // Cut off mid-document: accept when what is there tokenizes like JSON.
  return /^[[{]\s*("|[[{\]}]|-?\d|true|false|null)/.test(trimmed);
}

/** Lines only Markdown starts with: headings, fences, list items, quotes, link references. */
const MARKDOWN_LINE =
  /^(?:#{1,6}[ \t]+\S|```|~~~|[-*+][ \t]+\S|\d{1,3}\.[ \t]+\S|>[ \t]*\S|\[[^\]\n]+\]:[ \t]*\S)/m;

function sniffText(head: Uint8Array, truncated: boolean): DetectedType | undefined {
  const body = decodeText(head, truncated);
  if (body === undefined) return undefined;
  const start = body.trimStart().slice(0, 1024).toLowerCase();
  if (start.startsWith("#!")) return text("script");
  if (start.startsWith("<")) {
    const window = body.slice(0, 4096).toLowerCase();
    if (/<svg[\s>]/.test(window)) return text("svg");
    if (/<!doctype html|<html[\s>]|<head[\s>]|<body[\s>]|<script[\s>]|<iframe[\s>]/.test(window))
      return text("html");
    // Markdown may open with an HTML block (a centred logo, a badge row): Markdown lines after it make it text.
    if (!start.startsWith("<?xml") && MARKDOWN_LINE.test(body.slice(0, 16 * 1024))) return text("txt");
    return text("xml");
  }
  if (looksLikeJson(body, truncated)) return text("json");
  if (looksLikeCsv(body, truncated)) return text("csv");
  return text("txt");
}

/** A DOS header whose `e_lfanew` points at a `PE\0\0` signature inside the head. */
function hasPeHeader(head: Uint8Array): boolean {
  if (head.length < 0x40) return false;
  const view = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const lfanew = view.readUInt32LE(0x3c);
  return lfanew + 4 <= view.length && view.readUInt32BE(lfanew) === 0x50450000;
}

/**
 * Detects the type of an object from its head (at most HEAD_BYTES; `truncated` says whether more follows).
 * Returns undefined for empty input or unknown binary data.
 */
export async function detectType(
  head: Uint8Array,
  truncated = head.length >= HEAD_BYTES,
  /** The object's last bytes and its size: a zip whose head says only "zip" may be OOXML by its directory. */
  tail?: { bytes: Uint8Array; size: number },
): Promise<DetectedType | undefined> {
  if (head.length === 0) return undefined;
  // A byte-order mark means text; file-type would read FF FE as an MPEG audio frame sync.
  const bom =
    (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff) || head[0] === 0xef;
  if (bom) {
    const sniffed = sniffText(head, truncated);
    if (sniffed) return sniffed;
  }
  const found = await fileTypeFromBuffer(head);
  if (found) {
    // An animated PNG is a PNG (viewers that do not animate show its first frame).
    if (found.ext === "apng") return { id: "png", mime: "image/png", ext: "png" };
    // `MZ` is all file-type needs for an executable; text that starts with those letters is still text.
    if (found.ext === "exe" && !hasPeHeader(head)) {
      const sniffed = sniffText(head, truncated);
      if (sniffed) return sniffed;
    }
    if (found.ext === "zip" && truncated && tail) {
      const ooxml = await ooxmlFromTail(tail.bytes, tail.size);
      if (ooxml) return ooxml;
    }
    const id = RENAMED[found.ext] ?? found.ext;
    // file-type reports XML for SVG and XHTML; the text sniffer tells them apart.
    if (id === "xml") return sniffText(head, truncated) ?? { id, mime: found.mime, ext: found.ext };
    return { id, mime: found.mime, ext: found.ext };
  }
  return sniffText(head, truncated);
}
