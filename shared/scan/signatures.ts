/**
 * What the built-in engine recognises in bytes: the kind of a stream from its first bytes (an executable, a
 * container to open, markup or PDF to search, or plain data), and matchers that search chunk by chunk with a
 * small carried window so that a pattern straddling two chunks is still found.
 */

import { inflateSync } from "node:zlib";
import { ScanStop } from "./walk.ts";

export const EICAR = Buffer.from(
  "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
  "latin1",
);

/** Bytes examined to recognise what a stream is. */
export const HEAD_BYTES = 4096;

export type Markup = "html" | "svg" | "xml";

export type Kind =
  | { type: "finding"; name: string }
  | { type: "zip" }
  | { type: "gzip" }
  | { type: "tar" }
  | { type: "ole2" }
  | { type: "rtf" }
  | { type: "markup"; markup: Markup }
  | { type: "pdf" }
  | { type: "data" };

/** A function fed every chunk of one stream in order; it records what it finds through `found`. */
export type Matcher = (chunk: Buffer) => void;

const MACHO = new Set([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe]);
const MACHO_FAT_BE = new Set([0xcafebabe, 0xcafebabf]);
const MACHO_FAT_LE = new Set([0xbebafeca, 0xbfbafeca]);

/**
 * MZ with a readable DOS header whose e_lfanew lands inside the head must point at `PE\0\0`; MZ whose header is
 * cut short or points past the head is reported anyway (it cannot be ruled out without buffering).
 */
function isPortableExecutable(head: Buffer): boolean {
  if (head.length < 2 || head[0] !== 0x4d || head[1] !== 0x5a) return false;
  if (head.length < 0x40) return true;
  const lfanew = head.readUInt32LE(0x3c);
  if (lfanew + 4 > head.length) return true;
  return head.readUInt32BE(lfanew) === 0x50450000;
}

/** 0xCAFEBABE is also a Java class; a universal binary has a small architecture count where Java has its version. */
function isMachO(head: Buffer): boolean {
  if (head.length < 4) return false;
  const magic = head.readUInt32BE(0);
  if (MACHO.has(magic)) return true;
  if (head.length < 8) return false;
  const archs = MACHO_FAT_BE.has(magic)
    ? head.readUInt32BE(4)
    : MACHO_FAT_LE.has(magic)
      ? head.readUInt32LE(4)
      : 0;
  return archs > 0 && archs < 30;
}

/** First elements that make a document HTML to a browser's sniffer (and to us). */
const HTML_ROOTS = new Set(
  "html head body script iframe frameset div span table a p b br h1 h2 h3 h4 h5 h6 font img style title form input button meta link object embed base template".split(
    " ",
  ),
);

function markupOf(head: Buffer): Markup | undefined {
  const text = head.subarray(0, HEAD_BYTES).toString("latin1").toLowerCase();
  const start = text.replace(/^(?:\xef\xbb\xbf|\s)+/, "");
  if (!start.startsWith("<")) return undefined;
  const root = /<([a-z][\w.:-]*)/.exec(start)?.[1]?.split(":").pop() ?? "";
  if (/<!doctype\s+html/.test(text) || HTML_ROOTS.has(root)) return "html";
  if (root === "svg") return "svg";
  return "xml";
}

/** A Windows shell link: header size 0x4C and the ShellLink CLSID 00021401-0000-0000-C000-000000000046. */
const LNK_HEADER = Buffer.from("4c0000000114020000000000c000000000000046", "hex");
const OLE2_HEADER = Buffer.from("d0cf11e0a1b11ae1", "hex");

/** A Java class file: 0xCAFEBABE followed by a class-file major version (45 = Java 1.1 onwards). */
function isJavaClass(head: Buffer): boolean {
  return head.length >= 8 && head.readUInt32BE(0) === 0xcafebabe && head.readUInt16BE(6) >= 45;
}

/**
 * Scripts a Windows host runs, recognised by how such files typically begin (batch) or by the calls that make
 * them droppers (PowerShell download-and-run, encoded commands; VBScript / JScript shell objects) in the head.
 * Plain text that merely quotes these calls is reported too: held for a person to look at, not promoted.
 */
const WINDOWS_SCRIPTS: readonly [RegExp, string][] = [
  [/^(?:\xef\xbb\xbf)?\s*@?echo\s+off\b/i, "Airlock.Script.Batch"],
  [
    /\b(?:invoke-expression|iex\s*\(|downloadstring\s*\(|frombase64string\s*\(|-encodedcommand\b|set-executionpolicy\b|start-process\b.*-windowstyle\s+hidden)/i,
    "Airlock.Script.PowerShell",
  ],
  [
    /\b(?:createobject|getobject)\s*\(\s*"(?:wscript\.shell|shell\.application|scripting\.filesystemobject)"/i,
    "Airlock.Script.WindowsHost",
  ],
];

export function classify(head: Buffer): Kind {
  if (isPortableExecutable(head)) return { type: "finding", name: "Airlock.Executable.PE" };
  if (head.subarray(0, LNK_HEADER.length).equals(LNK_HEADER))
    return { type: "finding", name: "Airlock.Shortcut.Lnk" };
  if (isJavaClass(head)) return { type: "finding", name: "Airlock.Executable.JavaClass" };
  if (head.length >= 8 && head.subarray(0, 5).toString("latin1") === "dex\n0" && head[7] === 0)
    return { type: "finding", name: "Airlock.Executable.Dex" };
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46)
    return { type: "finding", name: "Airlock.Executable.ELF" };
  if (isMachO(head)) return { type: "finding", name: "Airlock.Executable.MachO" };
  if (head.length >= 4 && (head.readUInt32BE(0) === 0x504b0304 || head.readUInt32BE(0) === 0x504b0506))
    return { type: "zip" };
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return { type: "gzip" };
  if (head.subarray(0, OLE2_HEADER.length).equals(OLE2_HEADER)) return { type: "ole2" };
  if (head.length >= 512 && head.subarray(257, 262).toString("latin1") === "ustar") return { type: "tar" };
  if (head.subarray(0, 5).toString("latin1") === "{\\rtf") return { type: "rtf" };
  if (head.length >= 2 && head[0] === 0x23 && head[1] === 0x21)
    return { type: "finding", name: "Airlock.Script.Shebang" };
  if (head.subarray(0, 1024).includes("%PDF-")) return { type: "pdf" };
  const markup = markupOf(head);
  if (markup) return { type: "markup", markup };
  const text = head.toString("latin1");
  for (const [pattern, name] of WINDOWS_SCRIPTS) if (pattern.test(text)) return { type: "finding", name };
  return { type: "data" };
}

/**
 * Finds EICAR anywhere. Speed: `Buffer.indexOf` (a native skip search) scans each chunk; only the 67 bytes
 * carried across a boundary are searched again, so no byte is looked at in JavaScript.
 */
export function eicarMatcher(found: (name: string) => void): Matcher {
  const keep = EICAR.length - 1;
  let carry = Buffer.alloc(0);
  let done = false;
  return (chunk) => {
    if (done) return;
    const straddles = carry.length > 0 && Buffer.concat([carry, chunk.subarray(0, keep)]).includes(EICAR);
    if (straddles || chunk.includes(EICAR)) {
      done = true;
      found("Airlock.Eicar");
      return;
    }
    // A copy, because sources may reuse their buffers.
    carry = Buffer.from(
      chunk.length >= keep
        ? chunk.subarray(chunk.length - keep)
        : Buffer.concat([carry, chunk]).subarray(-keep),
    );
  };
}

/** Characters carried across chunks: longer than any match of the patterns below that can matter. */
const WINDOW_CARRY = 256;

/**
 * Runs a global pattern over each chunk decoded as latin1 (one byte, one character) with the end of the
 * previous chunk in front. `onMatch` may return a replacement pattern (a switch of mode), applied at once.
 */
function windowMatcher(
  initial: RegExp,
  ignoreCase: boolean,
  onMatch: (match: RegExpExecArray) => RegExp | undefined,
): Matcher {
  // Case-insensitive matching instead of lower-casing each chunk: one pass over the text, not two.
  const flags = ignoreCase ? "gi" : "g";
  let pattern = new RegExp(initial.source, flags);
  let carry = "";
  return (chunk) => {
    const text = carry + chunk.toString("latin1");
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      const next = onMatch(m);
      if (next) {
        pattern = new RegExp(next.source, flags);
        pattern.lastIndex = 0;
      }
    }
    carry = text.slice(-WINDOW_CARRY);
  };
}

/** Script elements, inline event handlers and script URLs, in lower-cased HTML or SVG. */
// The handler's preceding character is a lookbehind: the search then starts at the literal `on`, twice as fast.
const ACTIVE_MARKUP = /<(?:[\w.-]+:)?script[\s>/]|(?<=[\s"'/;])on[a-z]{3,24}\s*=|(?:java|vb)script\s*:/;
/**
 * Other XML (data files, Office parts) often has attributes starting with "on" and text mentioning
 * "javascript:"; only script elements count there, unless an XHTML or SVG namespace switches to the full search.
 */
const ACTIVE_XML = /<(?:[\w.-]+:)?script[\s>/]|http:\/\/www\.w3\.org\/(?<ns>1999\/xhtml|2000\/svg)/;

/**
 * An entity whose value is fetched from elsewhere (XXE): `<!ENTITY name SYSTEM "…">`, `PUBLIC`, or a parameter
 * entity `<!ENTITY % name SYSTEM …>`. Internal entities (a quoted value) are plain text substitution and pass.
 */
const EXTERNAL_ENTITY = /<!entity\s+(?:%\s*)?[^\s>]+\s+(?:system|public)\b/;
/** An HTML Application: HTML that Windows runs with full rights through mshta.exe. */
const HTA = /<hta:application\b/;

/** One pattern for all markup findings, so each chunk is lower-cased and searched once. */
function markupPattern(active: RegExp): RegExp {
  return new RegExp(`(?<entity>${EXTERNAL_ENTITY.source})|(?<hta>${HTA.source})|(?<active>${active.source})`);
}

/** Markup (and other XML) findings: external entities, HTA, and script (see ACTIVE_MARKUP / ACTIVE_XML). */
export function markupMatcher(markup: Markup, found: (name: string) => void): Matcher {
  let name = markup === "svg" ? "Airlock.Svg.Script" : "Airlock.Html.Script";
  return windowMatcher(markupPattern(markup === "xml" ? ACTIVE_XML : ACTIVE_MARKUP), true, (m) => {
    const groups = m.groups ?? {};
    if (groups.entity !== undefined) found("Airlock.Xml.ExternalEntity");
    else if (groups.hta !== undefined) found("Airlock.Html.Hta");
    else if (groups.ns !== undefined) {
      // An XHTML or SVG namespace inside other XML: from here on, search as that markup.
      name = groups.ns.toLowerCase() === "2000/svg" ? "Airlock.Svg.Script" : "Airlock.Html.Script";
      return markupPattern(ACTIVE_MARKUP);
    } else found(name);
    return undefined;
  });
}

/** OOXML parts declared macro-enabled (docm, xlsm, pptm and their templates) in `[Content_Types].xml`. */
export function officeContentTypesMatcher(found: (name: string) => void): Matcher {
  return windowMatcher(/macroenabled|vbaproject/, true, () => {
    found("Airlock.Office.Macro");
    return undefined;
  });
}

/** Embedded OLE objects in RTF (the carrier of most RTF exploits): `\object`, `\objdata`, `\objupdate`. */
export function rtfMatcher(found: (name: string) => void): Matcher {
  return windowMatcher(/(?<!\\)\\obj(?:ect|data|update|emb|link|autlink|ocx)\b/, false, () => {
    found("Airlock.Rtf.EmbeddedObject");
    return undefined;
  });
}

/**
 * OLE2 (compound file) documents with macros: the directory names of a VBA project (`_VBA_PROJECT`, Word's
 * `Macros` storage, Excel's `_VBA_PROJECT_CUR`) are UTF-16LE strings in directory sectors, which may sit anywhere
 * in the file; searching the whole stream for them needs no sector map and holds nothing.
 */
const OLE2_MACRO = new RegExp(
  ["_VBA_PROJECT", "Macros"].map((n) => `${[...n].join("\\x00")}\\x00\\x00\\x00`).join("|"),
);

export function ole2Matcher(found: (name: string) => void): Matcher {
  return windowMatcher(OLE2_MACRO, false, () => {
    found("Airlock.Ole2.Macro");
    return undefined;
  });
}

/** PDF names that run code, act on their own or carry files, and the finding each one is. */
const PDF_FINDINGS: Record<string, string> = {
  JavaScript: "Airlock.Pdf.JavaScript",
  JS: "Airlock.Pdf.JavaScript",
  Launch: "Airlock.Pdf.Launch",
  EmbeddedFile: "Airlock.Pdf.EmbeddedFile",
  AA: "Airlock.Pdf.AutoAction",
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
  `\\/(${Object.keys(PDF_FINDINGS).map(pdfName).join("|")})(?![A-Za-z0-9#])` +
    // A lookahead, so the action's own name (/JavaScript, /Launch) is still matched on its own.
    `|\\/${pdfName("OpenAction")}(?=\\s*<<[^>]{0,160}?\\/S\\s*\\/(${OPEN_ACTIONS})\\b)`,
);

function pdfFinding(m: RegExpExecArray): string {
  if (m[2] !== undefined) return "Airlock.Pdf.OpenAction";
  const name = (m[1] ?? "").replace(/#([0-9a-fA-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
  return PDF_FINDINGS[name] ?? "Airlock.Pdf.Active";
}

/** An object stream larger than this (compressed) is not held to be inflated: the scan ends in an error. */
export const PDF_OBJECT_STREAM_MAX_BYTES = 8 * 1024 * 1024;
/** What one object stream may inflate to. */
export const PDF_OBJECT_STREAM_MAX_INFLATED = 64 * 1024 * 1024;

/**
 * PDF: the names above in the file's own bytes, and inside compressed object streams (`/Type /ObjStm`, PDF
 * 1.5+), where a document can hide its dictionaries. Each object stream's bytes are held until `endstream`
 * (at most PDF_OBJECT_STREAM_MAX_BYTES), inflated with a cap and searched; one that cannot be inflated is an
 * error, never clean. Other streams (page content, images, fonts) hold data, not dictionaries, and pass through.
 */
export function pdfMatcher(found: (name: string) => void): Matcher {
  const names = windowMatcher(PDF_ACTIVE, false, (m) => {
    found(pdfFinding(m));
    return undefined;
  });
  const searchAll = (text: string) => {
    const pattern = new RegExp(PDF_ACTIVE.source, "g");
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) found(pdfFinding(m));
  };
  let mode: "scan" | "await-stream" | "capture" = "scan";
  let tail = "";
  let held: string[] = [];
  let heldBytes = 0;

  const inflateHeld = () => {
    const raw = Buffer.from(held.join(""), "latin1");
    held = [];
    heldBytes = 0;
    let inflated: Buffer;
    try {
      inflated = inflateSync(raw, { maxOutputLength: PDF_OBJECT_STREAM_MAX_INFLATED });
    } catch (error) {
      if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE")
        throw new ScanStop("limit-exceeded", "a PDF object stream inflates past its limit");
      throw new ScanStop("corrupt", "a PDF object stream cannot be inflated");
    }
    searchAll(inflated.toString("latin1"));
  };

  return (chunk) => {
    names(chunk);
    const text = tail + chunk.toString("latin1");
    let pos = 0;
    for (;;) {
      if (mode === "capture") {
        const end = text.indexOf("endstream", pos);
        const upTo = end === -1 ? Math.max(pos, text.length - 9) : end;
        held.push(text.slice(pos, upTo));
        heldBytes += upTo - pos;
        if (heldBytes > PDF_OBJECT_STREAM_MAX_BYTES)
          throw new ScanStop("limit-exceeded", "a PDF object stream is larger than the scan holds");
        if (end === -1) {
          tail = text.slice(upTo);
          return;
        }
        inflateHeld();
        mode = "scan";
        pos = end + 9;
        continue;
      }
      const pattern = mode === "scan" ? /\/Type\s*\/ObjStm\b/g : /\bstream\r?\n/g;
      pattern.lastIndex = pos;
      const m = pattern.exec(text);
      if (!m) {
        tail = text.slice(Math.max(pos, text.length - 32));
        return;
      }
      pos = m.index + m[0].length;
      mode = mode === "scan" ? "await-stream" : "capture";
    }
  };
}
