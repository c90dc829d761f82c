/**
 * What the built-in engine recognises in bytes: the kind of a stream from its first bytes (an executable, a
 * container to open, markup or PDF to search, or plain data), and matchers that search chunk by chunk with a
 * small carried window so that a pattern straddling two chunks is still found.
 */

import { type TextEncoding, textEncodingOf } from "./text-encoding.ts";

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
  | { type: "png" }
  | { type: "jpeg" }
  | { type: "gif" }
  | { type: "text"; encoding: TextEncoding }
  | { type: "data" };

/**
 * A function fed every chunk of one stream in order; it records what it finds through `found`. `end` is called
 * once the stream has been read to its end (for what can only be judged then).
 */
export type Matcher = ((chunk: Buffer) => void) & { end?: () => void };

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
  // A DOS header without a single NUL is text that starts with "MZ"; its far e_lfanew is checked as the stream
  // passes that offset (see peProbe).
  if (lfanew + 4 > head.length) return head.subarray(0, 0x40).includes(0);
  return head.readUInt32BE(lfanew) === 0x50450000;
}

/** Where a disk image's volume descriptors begin: ISO 9660 (`CD001`) and UDF (`BEA01`, `NSR02/03`) at 32769. */
const VOLUME_DESCRIPTOR = 0x8001;
const VOLUME_IDS = ["CD001", "BEA01", "NSR02", "NSR03"];

/**
 * Disk images (ISO 9660, UDF: the usual wrapper of droppers, mounted by a double click on Windows) are known by
 * bytes past the head: watches offset 32769 and reports `Airlock.Archive.Unopenable` if a volume descriptor
 * identifier is there.
 */
export function diskImageProbe(found: (name: string) => void): Matcher {
  let offset = 0;
  let seen = Buffer.alloc(0);
  return (chunk) => {
    const end = offset + chunk.length;
    if (end > VOLUME_DESCRIPTOR && seen.length < 5) {
      const from = Math.max(0, VOLUME_DESCRIPTOR - offset);
      seen = Buffer.concat([seen, chunk.subarray(from, from + 5 - seen.length)]);
      if (seen.length === 5 && VOLUME_IDS.includes(seen.toString("latin1")))
        found("Airlock.Archive.Unopenable");
    }
    offset = end;
  };
}

/**
 * For a stream starting with "MZ" whose `e_lfanew` points past the head: watches the four bytes at that offset
 * and reports `Airlock.Executable.PE` if they are the PE signature.
 */
export function peProbe(head: Buffer, found: (name: string) => void): Matcher | undefined {
  if (head.length < 0x40 || head[0] !== 0x4d || head[1] !== 0x5a) return undefined;
  const lfanew = head.readUInt32LE(0x3c);
  if (lfanew + 4 <= head.length) return undefined;
  let offset = 0;
  let seen = Buffer.alloc(0);
  return (chunk) => {
    const end = offset + chunk.length;
    if (end > lfanew && seen.length < 4) {
      const from = Math.max(0, lfanew - offset);
      seen = Buffer.concat([seen, chunk.subarray(from, from + 4 - seen.length)]);
      if (seen.length === 4 && seen.readUInt32BE(0) === 0x50450000) found("Airlock.Executable.PE");
    }
    offset = end;
  };
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
const PNG_SIGNATURE = Buffer.from("89504e470d0a1a0a", "hex");

/** A Java class file: 0xCAFEBABE followed by a class-file major version (45 = Java 1.1 onwards). */
function isJavaClass(head: Buffer): boolean {
  return head.length >= 8 && head.readUInt32BE(0) === 0xcafebabe && head.readUInt16BE(6) >= 45;
}

/**
 * Containers and compressed streams Airlock does not open: what they hold cannot be seen, so a file carrying one
 * (at any depth) is held. Signatures from the formats' specifications (offset, bytes).
 */
const UNOPENABLE: readonly [number, Buffer | RegExp][] = [
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((level): [number, Buffer][] => [
    [0, Buffer.from(`BZh${level}1AY&SY`, "latin1")], // bzip2 (a first block)
    [0, Buffer.from(`425a68${30 + level}177245385090`, "hex")], // bzip2 (empty)
  ]),
  [0, Buffer.from("fd377a585a00", "hex")], // xz
  [0, Buffer.from("377abcaf271c", "hex")], // 7z
  [0, Buffer.from("526172211a0700", "hex")], // rar 1.5-4
  [0, Buffer.from("526172211a070100", "hex")], // rar 5
  [0, Buffer.from("4d53434600000000", "hex")], // Microsoft cabinet
  [0, Buffer.from("49536328", "hex")], // InstallShield cabinet
  [0, Buffer.from("28b52ffd", "hex")], // zstd
  [0, Buffer.from("04224d18", "hex")], // lz4 frame
  [0, Buffer.from("02214c18", "hex")], // lz4 legacy
  [0, Buffer.from("4c5a4950", "hex")], // lzip
  [0, Buffer.from("1f9d", "hex")], // compress (.Z)
  [0, Buffer.from("!<arch>\n", "latin1")], // ar, Debian packages
  [0, Buffer.from("edabeedb", "hex")], // rpm
  [0, /^(?:07070[12][0-9A-Fa-f]{48}|070707[0-7]{48})/], // cpio (ASCII: the magic, then hex or octal fields)
  [0, /^(?:\xc7\x71|\x71\xc7)/], // cpio (binary)
  [0, Buffer.from("xar!", "latin1")], // xar, macOS packages
  [0, Buffer.from("MSWIM\0\0\0", "latin1")], // Windows imaging
  [0, /^(?:hsqs|sqsh)/], // squashfs
  [0, /^(?:SIT!|StuffIt )/], // StuffIt
  [0, Buffer.from("504b0708504b0304", "hex")], // a split zip's first segment
  [0, Buffer.from("vhdxfile", "latin1")], // Hyper-V disk image (VHDX)
  [0, Buffer.from("conectix", "latin1")], // Virtual PC disk image (VHD, dynamic)
  [2, /^-l(?:h[0-7d]|z[s45])-/], // LHA
  [7, Buffer.from("**ACE**", "latin1")], // ACE
  [20, Buffer.from("dca7c4fd", "hex")], // zoo
];

function isUnopenable(head: Buffer): boolean {
  const text = head.subarray(0, 128).toString("latin1");
  for (const [offset, signature] of UNOPENABLE) {
    if (
      signature instanceof RegExp
        ? signature.test(text.slice(offset))
        : head.subarray(offset).subarray(0, signature.length).equals(signature)
    )
      return true;
  }
  // ARJ: 60 EA and a basic header size of at most 2600 bytes; LZMA-alone: properties 0x5D and a power-of-two
  // dictionary, then an unknown (all FF) or plausible size.
  if (
    head.length >= 4 &&
    head[0] === 0x60 &&
    head[1] === 0xea &&
    head.readUInt16LE(2) <= 2600 &&
    head.readUInt16LE(2) > 0
  )
    return true;
  if (head.length >= 13 && head[0] === 0x5d) {
    const dictionary = head.readUInt32LE(1);
    const size = head.readBigUInt64LE(5);
    if (
      (dictionary & (dictionary - 1)) === 0 &&
      dictionary >= 1 << 12 &&
      (size === 0xffffffffffffffffn || size < 1n << 40n)
    )
      return true;
  }
  return false;
}

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
  if (head.subarray(0, 8).equals(PNG_SIGNATURE)) return { type: "png" };
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { type: "jpeg" };
  if (/^GIF8[79]a/.test(head.subarray(0, 6).toString("latin1"))) return { type: "gif" };
  if (isUnopenable(head)) return { type: "finding", name: "Airlock.Archive.Unopenable" };
  const markup = markupOf(head);
  if (markup) return { type: "markup", markup };
  const encoding = textEncodingOf(head);
  if (encoding) return { type: "text", encoding };
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
export function windowMatcher(
  initial: RegExp,
  ignoreCase: boolean,
  onMatch: (match: RegExpExecArray) => RegExp | undefined,
  carried = WINDOW_CARRY,
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
    carry = text.slice(-carried);
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
/**
 * Markdown that opens with an HTML block: its code samples and prose say `const onClick = …` and "JavaScript:",
 * so there only what a renderer that keeps raw HTML would run counts: script elements, handlers inside a tag,
 * script URLs in URL attributes and Markdown links, and (fail closed) a tag still open after TAG_SPAN characters.
 */
const TAG_SPAN = 4096;
const ACTIVE_MARKDOWN = new RegExp(
  "<(?:[\\w.-]+:)?script[\\s>/]" +
    `|<[a-z][\\w:.-]*[\\s/][^<>]{0,${TAG_SPAN}}?(?<=[\\s"'/])on[a-z]{3,24}\\s*=` +
    `|<[a-z][\\w:.-]*[\\s/][^<>]{${TAG_SPAN}}` +
    "|(?<=[\\s\"'/])(?:href|src|action|formaction|data|poster|background|xlink:href|content|values|to|from|by)\\s*=\\s*[\"']?[^\"'>]{0,40}?(?:java|vb)script\\s*:" +
    "|\\ssrcdoc\\s*=" +
    "|\\]\\(\\s*<?\\s*(?:java|vb)script\\s*:",
);
/** Lines only Markdown starts with (as the type detector reads them). */
const MARKDOWN_LINE =
  /^(?:#{1,6}[ \t]+\S|```|~~~|[-*+][ \t]+\S|\d{1,3}\.[ \t]+\S|>[ \t]*\S|\[[^\]\n]+\]:[ \t]*\S)/m;

/** Whether HTML is Markdown that opens with an HTML block (Markdown lines in its head). */
export const looksLikeMarkdown = (head: Buffer) => MARKDOWN_LINE.test(head.toString("latin1"));

export function markupMatcher(markup: Markup, found: (name: string) => void, markdown = false): Matcher {
  let name = markup === "svg" ? "Airlock.Svg.Script" : "Airlock.Html.Script";
  if (markdown && markup === "html") {
    return windowMatcher(
      markupPattern(ACTIVE_MARKDOWN),
      true,
      (m) => {
        const groups = m.groups ?? {};
        if (groups.entity !== undefined) found("Airlock.Xml.ExternalEntity");
        else if (groups.hta !== undefined) found("Airlock.Html.Hta");
        else found(name);
        return undefined;
      },
      2 * TAG_SPAN,
    );
  }
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

/** A zip end record: its signature and the two zero disk numbers of every archive that is not split. */
const ZIP_END = Buffer.from("504b050600000000", "hex");
/** Zip readers look for the end record in the last 22 bytes plus the longest comment. */
export const ZIP_END_WINDOW = 22 + 0xffff;

/**
 * Where the last zip end record of a stream lies. A zip tool or a JVM opens any file with one near its end as an
 * archive (they read from the end), so a file that is not a zip but ends like one is a polyglot. Speed: one
 * native search per chunk, as for EICAR.
 */
export function zipEndMatcher(size?: number): Matcher & { nearEnd(total: number): boolean } {
  // Speed: with a known length only the chunks that reach into the last window are searched. A stream that
  // turns out longer is still searched past that offset; one that turns out shorter is an error elsewhere.
  const from = size === undefined ? 0 : size - ZIP_END_WINDOW - ZIP_END.length;
  const keep = ZIP_END.length - 1;
  // Speed: Node searches a 4-byte needle several times faster than an 8-byte one; the disk numbers are then
  // compared by hand (the signature alone turns up about once in 4 GiB of random bytes).
  const signature = ZIP_END.subarray(0, 4);
  const isEnd = (bytes: Buffer, at: number) => at + 8 <= bytes.length && bytes.readUInt32LE(at + 4) === 0;
  let carry = Buffer.alloc(0);
  let offset = 0;
  let last = -1;
  const matcher = ((chunk: Buffer) => {
    if (offset + chunk.length < from) {
      offset += chunk.length;
      carry = Buffer.alloc(0);
      return;
    }
    if (carry.length > 0) {
      const joined = Buffer.concat([carry, chunk.subarray(0, keep)]);
      for (
        let at = joined.indexOf(signature);
        at !== -1 && at < carry.length;
        at = joined.indexOf(signature, at + 1)
      )
        if (isEnd(joined, at)) last = offset - carry.length + at;
    }
    for (let at = chunk.indexOf(signature); at !== -1; at = chunk.indexOf(signature, at + 1))
      if (isEnd(chunk, at)) last = offset + at;
    offset += chunk.length;
    carry = Buffer.from(
      chunk.length >= keep
        ? chunk.subarray(chunk.length - keep)
        : Buffer.concat([carry, chunk]).subarray(-keep),
    );
  }) as Matcher & { nearEnd(total: number): boolean };
  matcher.nearEnd = (total) => last !== -1 && total - last <= ZIP_END_WINDOW;
  return matcher;
}
