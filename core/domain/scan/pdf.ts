/**
 * PDF, searched as readers see it: the names that run code, act on their own or carry files, in the file's own
 * bytes and inside every stream a reader decodes for objects (object streams, recognised by their dictionary's
 * `/N` and `/First`, by `/Type /ObjStm` even `#`-escaped, or by content that starts like one), through every filter
 * and predictor readers apply (see pdf-filters.ts); XFA form packets searched for scripts; what follows the last
 * `%%EOF` judged as trailing data.
 *
 * Streams are held until `endstream` (at most PDF_STREAM_MAX_BYTES; an object stream larger than that is an
 * error, another stream is judged by its first bytes), decoded with a cap and searched. Image streams are not
 * held. An object stream that cannot be decoded (an unknown filter, data that does not decode, nothing decoded)
 * is an error, never clean; another stream that does not decode hides nothing, since readers cannot parse it
 * either. In an encrypted PDF (`/Encrypt`) the streams cannot be decoded without the key: object streams are then
 * an `encrypted` error, other streams are not searched.
 */
import type { ScanLimits } from "./engine.ts";
import { DEFAULT_MAX_TRAILING_BYTES } from "./engine.ts";
import { decryptStream, encryptParams, fileKey, pdfStringBytes } from "./pdf-crypt.ts";
import {
  canonicalFilter,
  decodeStream,
  FilterError,
  type FilterParams,
  IMAGE_FILTERS,
} from "./pdf-filters.ts";
import { classify, EICAR, type Matcher, windowMatcher } from "./signatures.ts";
import { ScanStop } from "./walk.ts";

/** PDF names that run code, act on their own or carry files, and the finding each one is. */
const PDF_FINDINGS: Record<string, string> = {
  JavaScript: "Airlock.Pdf.JavaScript",
  JS: "Airlock.Pdf.JavaScript",
  Launch: "Airlock.Pdf.Launch",
  EmbeddedFile: "Airlock.Pdf.EmbeddedFile",
  EF: "Airlock.Pdf.EmbeddedFile",
  FileAttachment: "Airlock.Pdf.EmbeddedFile",
  AA: "Airlock.Pdf.AutoAction",
  RichMedia: "Airlock.Pdf.RichMedia",
  JBIG2Decode: "Airlock.Pdf.Jbig2",
  ImportData: "Airlock.Pdf.ImportData",
  SubmitForm: "Airlock.Pdf.SubmitForm",
  GoToE: "Airlock.Pdf.GoToE",
};
/** Actions an `/OpenAction` may run as the document opens (a destination array is harmless and passes). */
const OPEN_ACTIONS = "JavaScript|Launch|URI|SubmitForm|ImportData|GoToR|GoToE|Rendition|Movie|Sound";

/** A PDF name may spell any character as `#xx` (`/J#61vaScript`): match both spellings of each one. */
function pdfName(name: string): string {
  return [...name]
    .map((c) => {
      const [high, low] = c.charCodeAt(0).toString(16).padStart(2, "0");
      return `(?:${c}|#${high}[${low}${low?.toUpperCase()}])`;
    })
    .join("");
}

const PDF_ACTIVE = new RegExp(
  `\\/(?<name>${Object.keys(PDF_FINDINGS).map(pdfName).join("|")})(?![A-Za-z0-9#])` +
    // A lookahead, so the action's own name (/JavaScript, /Launch) is still matched on its own.
    `|\\/${pdfName("OpenAction")}(?=\\s*<<[^>]{0,160}?\\/S\\s*\\/(?<open>${OPEN_ACTIONS})\\b)` +
    // A colour count past 2^24 (the overflow of CVE-2009-3459, a PDFiD keyword).
    `|\\/${pdfName("Colors")}\\s+(?<colors>\\d{8,})` +
    // A remote go-to whose file is a UNC path or a URL: the reader fetches it (and leaks credentials to it).
    `|\\/${pdfName("GoToR")}(?![A-Za-z0-9#])(?=[\\s\\S]{0,300}?\\/F\\s*\\(\\s*(?<remote>\\\\{2}|\\/\\/|[a-z]+:\\/\\/))`,
);

function pdfFinding(m: RegExpExecArray): string | undefined {
  const groups = m.groups ?? {};
  if (groups.open !== undefined) return "Airlock.Pdf.OpenAction";
  if (groups.colors !== undefined) return Number(groups.colors) > 2 ** 24 ? "Airlock.Pdf.Colors" : undefined;
  if (groups.remote !== undefined) return "Airlock.Pdf.RemoteGoTo";
  const name = unescapeName(groups.name ?? "");
  return PDF_FINDINGS[name] ?? "Airlock.Pdf.Active";
}

const unescapeName = (text: string) =>
  text.replace(/#([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

/** Raw bytes of one stream held to be decoded; an object stream larger than this is an error. */
export const PDF_STREAM_MAX_BYTES = 8 * 1024 * 1024;
/** What one stream may decode to. */
export const PDF_STREAM_MAX_DECODED = 64 * 1024 * 1024;
/** Of a stream too large to hold, the first bytes decoded to tell whether it holds objects or an XFA packet. */
const PREFIX_BYTES = 64 * 1024;
/** Text before `stream` kept to read the stream's dictionary. */
const DICTIONARY_WINDOW = 16 * 1024;
/** Object streams of an encrypted PDF held until the end, to be decrypted once the trailer is known. */
const PENDING_MAX_BYTES = 32 * 1024 * 1024;
/** The first string of a trailer's `/ID` array. */
const ID_PATTERN = /\/ID\s*\[\s*(<[0-9A-Fa-f\s]*>|\((?:\\[\s\S]|[^\\)])*\))/;
/** Bytes after the last `%%EOF` kept to judge them. */
const AFTER_EOF_BYTES = 4096;

interface StreamDictionary {
  filters: string[];
  params: (FilterParams | undefined)[];
  /** Readers parse it for objects (`/Type /ObjStm`, or the `/N` and `/First` every object stream has). */
  objects: boolean;
  image: boolean;
  /** The indirect object holding the stream (`12 0 obj`): its numbers key the stream's decryption. */
  number?: number;
  generation?: number;
}

/** The text of a `<< … >>` or `[ … ]` value starting at `at`, nesting included. */
function balanced(text: string, at: number): string {
  const open = text[at] === "[" ? "[" : "<<";
  const close = open === "[" ? "]" : ">>";
  let depth = 0;
  for (let i = at; i < text.length; ) {
    if (text.startsWith(open, i)) {
      depth++;
      i += open.length;
    } else if (text.startsWith(close, i)) {
      depth--;
      i += close.length;
      if (depth === 0) return text.slice(at, i);
    } else i++;
  }
  return text.slice(at);
}

function paramsOf(dictionary: string): FilterParams {
  const number = (key: string) => {
    const m = new RegExp(`/${key}\\s+(-?\\d+)`).exec(dictionary);
    return m ? Number(m[1]) : undefined;
  };
  return {
    predictor: number("Predictor"),
    colors: number("Colors"),
    bitsPerComponent: number("BitsPerComponent"),
    columns: number("Columns"),
    earlyChange: number("EarlyChange"),
  };
}

/** Reads the parts of a stream dictionary that decide how it is decoded (names `#`-unescaped first). */
export function streamDictionary(raw: string): StreamDictionary {
  const text = unescapeName(raw);
  const filters: string[] = [];
  const f = /\/Filter\s*(\/[^\s/[\]<>()]+|\[)/.exec(text);
  if (f?.[1] === "[") {
    const array = balanced(text, f.index + f[0].length - 1);
    for (const m of array.matchAll(/\/([^\s/[\]<>()]+)/g)) filters.push(m[1] as string);
  } else if (f?.[1]) filters.push(f[1].slice(1));
  const params: (FilterParams | undefined)[] = [];
  const d = /\/(?:DecodeParms|DP)\s*(<<|\[)/.exec(text);
  if (d?.[1] === "<<") params.push(paramsOf(balanced(text, d.index + d[0].length - 2)));
  else if (d?.[1] === "[") {
    const array = balanced(text, d.index + d[0].length - 1).slice(1, -1);
    for (let i = 0; i < array.length; ) {
      if (array.startsWith("<<", i)) {
        const one = balanced(array, i);
        params.push(paramsOf(one));
        i += one.length;
      } else if (array.startsWith("null", i)) {
        params.push(undefined);
        i += 4;
      } else i++;
    }
  }
  const objects = /\/Type\s*\/ObjStm\b/.test(text) || (/\/N\s+\d/.test(text) && /\/First\s+\d/.test(text));
  const image =
    /\/Subtype\s*\/Image\b/.test(text) || IMAGE_FILTERS.has(canonicalFilter(filters.at(-1) ?? ""));
  return { filters, params, objects, image };
}

/** Decoded bytes that start like an object stream: pairs of object numbers and offsets, then an object. */
const OBJECT_STREAM_HEAD = /^\s*\d+\s+\d+(?:\s+\d+\s+\d+)*\s*(?:<<|\[|\/|\()/;
/** Decoded bytes that are an XFA packet (the XML of a dynamic form). */
const XFA_HEAD = /<xdp:xdp\b|http:\/\/www\.xfa\.org\/schema|<template\b[^>]*xfa/i;
const XFA_SCRIPT = /<(?:[\w.-]+:)?script\b/i;

interface Failure {
  objects: boolean;
  reason: "corrupt" | "unsupported" | "limit-exceeded";
  message: string;
}

export function pdfMatcher(
  found: (name: string) => void,
  limits?: Pick<ScanLimits, "maxTrailingBytes">,
): Matcher {
  const names = windowMatcher(PDF_ACTIVE, false, (m) => {
    const name = pdfFinding(m);
    if (name) found(name);
    return undefined;
  });
  const searchAll = (text: string) => {
    const pattern = new RegExp(PDF_ACTIVE.source, "g");
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      const name = pdfFinding(m);
      if (name) found(name);
    }
  };
  const failures: Failure[] = [];
  let encrypted = false;
  // Encryption (the standard handler's dictionary and the file's first ID), and the object streams that did not
  // decode: in an encrypted file they are decrypted at the end, when the trailer has been seen.
  let encryptDictionary: string | undefined;
  let fileId: Buffer | undefined;
  const pending: { dictionary: StreamDictionary; raw: Buffer; failure: Failure }[] = [];
  let pendingBytes = 0;
  const undecoded = (dictionary: StreamDictionary, raw: Buffer, failure: Failure) => {
    failures.push(failure);
    if (pendingBytes + raw.length > PENDING_MAX_BYTES || dictionary.number === undefined) return;
    pending.push({ dictionary, raw, failure });
    pendingBytes += raw.length;
  };

  /** Judges one stream's decoded bytes (or its decoded first bytes, when `prefixOnly`). */
  const judge = (dictionary: StreamDictionary, raw: Buffer, prefixOnly: boolean) => {
    const what = dictionary.objects ? "a PDF object stream" : "a PDF stream";
    if (!raw.some((b) => b > 0x20)) return;
    if (prefixOnly && dictionary.objects) {
      failures.push({
        objects: true,
        reason: "limit-exceeded",
        message: `${what} is larger than the scan holds`,
      });
      return;
    }
    let decoded: Buffer;
    try {
      decoded = decodeStream(raw, dictionary.filters, dictionary.params, PDF_STREAM_MAX_DECODED);
    } catch (error) {
      if (!(error instanceof FilterError)) throw error;
      // A stream readers do not parse for objects hides nothing when it cannot be decoded: a reader shows
      // nothing of it either (broken content streams are common in ordinary files).
      if (!dictionary.objects) return;
      undecoded(dictionary, raw, {
        objects: true,
        reason: error.reason,
        message: `${what}: ${error.message}`,
      });
      return;
    }
    if (decoded.length === 0 && dictionary.objects) {
      undecoded(dictionary, raw, {
        objects: true,
        reason: "corrupt",
        message: `${what} that decodes to nothing`,
      });
      return;
    }
    if (decoded.includes(EICAR)) found("Airlock.Eicar");
    const head = decoded.subarray(0, 4096).toString("latin1");
    const objects = dictionary.objects || OBJECT_STREAM_HEAD.test(head);
    const xfa = XFA_HEAD.test(head);
    if ((objects || xfa) && prefixOnly) {
      failures.push({
        objects: true,
        reason: "limit-exceeded",
        message: "a PDF object stream is larger than the scan holds",
      });
      return;
    }
    const text = objects || xfa ? decoded.toString("latin1") : "";
    if (objects) searchAll(text);
    if (xfa && XFA_SCRIPT.test(text)) found("Airlock.Pdf.XfaScript");
  };

  let mode: "scan" | "capture" | "skip" = "scan";
  let tail = "";
  let held: string[] = [];
  let heldBytes = 0;
  let current: StreamDictionary | undefined;
  let tooLarge = false;
  // Absolute offsets, for the bytes after the last %%EOF.
  let total = 0;
  let lastEof = -1;
  let afterEof = "";

  const finishStream = () => {
    // The end-of-line before `endstream` is not part of the data.
    const raw = Buffer.from(held.join("").replace(/(?:\r\n|\r|\n)$/, ""), "latin1");
    held = [];
    heldBytes = 0;
    if (current && !current.image) judge(current, raw, tooLarge);
    current = undefined;
    tooLarge = false;
  };

  const matcher: Matcher = (chunk) => {
    names(chunk);
    const chunkText = chunk.toString("latin1");
    const textStart = total - tail.length;
    total += chunk.length;
    const text = tail + chunkText;
    if (!encrypted && /\/Encrypt\s*(?:\d|<<)/.test(text)) encrypted = true;
    if (text.includes("/ID")) {
      const id = ID_PATTERN.exec(text);
      if (id?.[1]) fileId = pdfStringBytes(id[1]) ?? fileId;
    }
    for (const at of [text.search(/\/Filter\s*\/Standard\b/), text.search(/\/Encrypt\s*<</)]) {
      if (at === -1) continue;
      // `/Encrypt << … >>` is the dictionary itself; `/Filter /Standard` sits in an object's dictionary.
      const objectStart = text.lastIndexOf("obj", at);
      const open =
        text[at + 1] === "E" ? text.indexOf("<<", at) : text.indexOf("<<", Math.max(0, objectStart));
      const dictionary = open === -1 ? "" : balanced(text, open);
      if (dictionary.endsWith(">>") && /\/Filter\s*\/Standard\b/.test(dictionary))
        encryptDictionary = dictionary;
    }
    const eof = text.lastIndexOf("%%EOF");
    if (eof !== -1 && textStart + eof + 5 > lastEof) {
      lastEof = textStart + eof + 5;
      afterEof = text.slice(eof + 5, eof + 5 + AFTER_EOF_BYTES);
    } else if (lastEof !== -1 && afterEof.length < AFTER_EOF_BYTES)
      afterEof += chunkText.slice(0, AFTER_EOF_BYTES - afterEof.length);
    let pos = 0;
    for (;;) {
      if (mode !== "scan") {
        const end = text.indexOf("endstream", pos);
        const upTo = end === -1 ? Math.max(pos, text.length - 9) : end;
        if (mode === "capture") {
          held.push(text.slice(pos, upTo));
          heldBytes += upTo - pos;
          if (heldBytes > PDF_STREAM_MAX_BYTES) {
            // Too large to hold: its first bytes say whether it holds objects; the rest is skipped.
            const prefix = held.join("").slice(0, PREFIX_BYTES);
            held = [prefix];
            heldBytes = prefix.length;
            tooLarge = true;
            mode = "skip";
          }
        }
        if (end === -1) {
          tail = text.slice(upTo);
          return;
        }
        finishStream();
        mode = "scan";
        pos = end + 9;
        continue;
      }
      const pattern = />>\s*stream(?:\r\n|\r|\n)/g;
      pattern.lastIndex = pos;
      const m = pattern.exec(text);
      if (!m) {
        tail = text.slice(Math.max(pos, text.length - DICTIONARY_WINDOW));
        return;
      }
      const before = text.slice(Math.max(0, m.index - DICTIONARY_WINDOW), m.index + 2);
      const start = before.lastIndexOf("obj");
      current = streamDictionary(start === -1 ? before : before.slice(start));
      const header =
        start === -1 ? null : /(\d+)\s+(\d+)\s+$/.exec(before.slice(Math.max(0, start - 24), start));
      if (header) {
        current.number = Number(header[1]);
        current.generation = Number(header[2]);
      }
      if (current.objects) current.image = false;
      mode = current.image ? "skip" : "capture";
      pos = m.index + m[0].length;
    }
  };

  /** Decrypts (empty user password) and judges the object streams that did not decode; what still fails stays. */
  const decryptPending = () => {
    const params = encryptDictionary && fileId ? encryptParams(encryptDictionary, fileId) : undefined;
    const key = params ? fileKey(params) : undefined;
    if (!params || !key) return;
    for (const { dictionary, raw, failure } of pending) {
      let plain: Buffer;
      try {
        plain = decryptStream(params, key, dictionary.number ?? 0, dictionary.generation ?? 0, raw);
      } catch {
        continue;
      }
      const before = failures.length;
      failures.splice(failures.indexOf(failure), 1);
      judge(dictionary, plain, false);
      if (failures.length >= before) failures.push({ ...failure, message: `${failure.message} (decrypted)` });
    }
  };

  matcher.end = () => {
    if (mode === "capture") finishStream();
    // After the last %%EOF: whitespace and NUL padding pass, a few other bytes pass, anything more is held.
    if (lastEof !== -1) {
      const trailing = total - lastEof;
      const padding = /^[\0\t\n\f\r ]*/.exec(afterEof)?.[0].length ?? 0;
      if (trailing - padding > (limits?.maxTrailingBytes ?? DEFAULT_MAX_TRAILING_BYTES)) {
        found("Airlock.Polyglot.TrailingData");
        const kind = classify(Buffer.from(afterEof.slice(padding), "latin1"));
        if (kind.type === "finding") found(kind.name);
      }
    }
    if (encrypted) decryptPending();
    const objectFailure = failures.find((f) => f.objects);
    if (encrypted) {
      if (objectFailure)
        throw new ScanStop(
          "encrypted",
          "an encrypted PDF whose object streams cannot be decoded without its key",
        );
      return;
    }
    const failure = objectFailure ?? failures[0];
    if (failure) throw new ScanStop(failure.reason, failure.message);
  };
  return matcher;
}
