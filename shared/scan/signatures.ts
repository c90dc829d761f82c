/**
 * What the built-in engine recognises in bytes: the kind of a stream from its first bytes (an executable, a
 * container to open, markup or PDF to search, or plain data), and matchers that search chunk by chunk with a
 * small carried window so that a pattern straddling two chunks is still found.
 */

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

export function classify(head: Buffer): Kind {
  if (isPortableExecutable(head)) return { type: "finding", name: "Airlock.Executable.PE" };
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46)
    return { type: "finding", name: "Airlock.Executable.ELF" };
  if (isMachO(head)) return { type: "finding", name: "Airlock.Executable.MachO" };
  if (head.length >= 4 && (head.readUInt32BE(0) === 0x504b0304 || head.readUInt32BE(0) === 0x504b0506))
    return { type: "zip" };
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return { type: "gzip" };
  if (head.length >= 2 && head[0] === 0x23 && head[1] === 0x21)
    return { type: "finding", name: "Airlock.Script.Shebang" };
  if (head.subarray(0, 1024).includes("%PDF-")) return { type: "pdf" };
  const markup = markupOf(head);
  return markup ? { type: "markup", markup } : { type: "data" };
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
const WINDOW_CARRY = 64;

/**
 * Runs a global pattern over each chunk decoded as latin1 (one byte, one character) with the end of the
 * previous chunk in front. `onMatch` may return a replacement pattern (a switch of mode), applied at once.
 */
function windowMatcher(
  initial: RegExp,
  lowerCase: boolean,
  onMatch: (match: RegExpExecArray) => RegExp | undefined,
): Matcher {
  let pattern = new RegExp(initial.source, "g");
  let carry = "";
  return (chunk) => {
    const latin1 = chunk.toString("latin1");
    const text = carry + (lowerCase ? latin1.toLowerCase() : latin1);
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      const next = onMatch(m);
      if (next) {
        pattern = new RegExp(next.source, "g");
        pattern.lastIndex = 0;
      }
    }
    carry = text.slice(-WINDOW_CARRY);
  };
}

/** Script elements, inline event handlers and script URLs, in lower-cased HTML or SVG. */
const ACTIVE_MARKUP = /<(?:[\w.-]+:)?script[\s>/]|[\s"'/;]on[a-z]{3,24}\s*=|(?:java|vb)script\s*:/;
/**
 * Other XML (data files, Office parts) often has attributes starting with "on" and text mentioning
 * "javascript:"; only script elements count there, unless an XHTML or SVG namespace switches to the full search.
 */
const ACTIVE_XML = /<(?:[\w.-]+:)?script[\s>/]|http:\/\/www\.w3\.org\/(1999\/xhtml|2000\/svg)/;

export function markupMatcher(markup: Markup, found: (name: string) => void): Matcher {
  let name = markup === "svg" ? "Airlock.Svg.Script" : "Airlock.Html.Script";
  if (markup !== "xml")
    return windowMatcher(ACTIVE_MARKUP, true, () => {
      found(name);
      return undefined;
    });
  return windowMatcher(ACTIVE_XML, true, (m) => {
    if (m[1] === undefined) {
      found(name);
      return undefined;
    }
    name = m[1] === "2000/svg" ? "Airlock.Svg.Script" : "Airlock.Html.Script";
    return ACTIVE_MARKUP;
  });
}

/** PDF names that run code or carry files; names inside compressed object streams are not seen here. */
const PDF_ACTIVE = /\/(JavaScript|JS|Launch|EmbeddedFile)(?![A-Za-z0-9#])/;
const PDF_FINDINGS: Record<string, string> = {
  JavaScript: "Airlock.Pdf.JavaScript",
  JS: "Airlock.Pdf.JavaScript",
  Launch: "Airlock.Pdf.Launch",
  EmbeddedFile: "Airlock.Pdf.EmbeddedFile",
};

export function pdfMatcher(found: (name: string) => void): Matcher {
  return windowMatcher(PDF_ACTIVE, false, (m) => {
    found(PDF_FINDINGS[m[1] ?? ""] ?? "Airlock.Pdf.Active");
    return undefined;
  });
}
