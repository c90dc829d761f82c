/**
 * The built-in engine: pure TypeScript, one streamed pass, memory bounded by a constant.
 *
 * - Signatures: the EICAR test string anywhere (across chunk boundaries, at every nesting level); PE, ELF and
 *   Mach-O executables and shebang scripts at the start of the object or of any archive entry; script, inline
 *   event handlers and `javascript:` URLs in HTML and SVG.
 * - Containers: zip (stored and deflate, zip64 sizes, data descriptors after deflated entries) and gzip, opened
 *   recursively while streaming. Inflation is counted as it happens and stops as soon as a limit is crossed, so a
 *   bomb is never expanded: crossing the expansion ratio is reported as the finding `Airlock.Archive.Bomb` (a
 *   bomb is an attack, not an accident); crossing depth, entry or total-size limits is an error `limit-exceeded`.
 * - Anything that cannot be read to the end (corrupt or truncated containers, encrypted entries, unknown
 *   compression, a stream shorter than announced) is an error, never clean. A finding outranks an error.
 */
import { createGunzip, createInflateRaw } from "node:zlib";
import type { EngineResult, ErrorReason, Finding } from "../domain/types.ts";
import type { ScanContext, ScanEngine, ScanLimits } from "./engine.ts";
import { ByteReader, TruncatedError } from "./reader.ts";

export const EICAR = Buffer.from(
  "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
  "latin1",
);

/** Bytes examined to recognise what a stream is. */
const HEAD_BYTES = 4096;
/** The ratio limit applies once an entry has expanded past this, so small well-compressed files pass. */
const RATIO_GRACE_BYTES = 1024 * 1024;
const MARKUP_PATTERN = /<script[\s>/]|[\s"'/;]on[a-z]{3,24}\s*=|javascript\s*:/;
const MARKUP_CARRY = 64;

class ScanStop extends Error {
  constructor(
    readonly reason: ErrorReason,
    message: string,
  ) {
    super(message);
    this.name = "ScanStop";
  }
}

interface Walk {
  limits: ScanLimits;
  findings: Finding[];
  entries: number;
  expanded: number;
}

type Kind =
  | { type: "finding"; name: string }
  | { type: "zip" }
  | { type: "gzip" }
  | { type: "markup"; svg: boolean }
  | { type: "pdf" }
  | { type: "data" };

const MACHO = new Set([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe]);

export function classify(head: Buffer): Kind {
  if (head.length >= 2 && head[0] === 0x4d && head[1] === 0x5a && head.length >= 0x40) {
    const lfanew = head.readUInt32LE(0x3c);
    if (lfanew + 4 <= head.length && head.readUInt32BE(lfanew) === 0x50450000) {
      return { type: "finding", name: "Airlock.Executable.PE" };
    }
  }
  if (head.length >= 4) {
    const magic = head.readUInt32BE(0);
    if (magic === 0x7f454c46) return { type: "finding", name: "Airlock.Executable.ELF" };
    if (MACHO.has(magic)) return { type: "finding", name: "Airlock.Executable.MachO" };
    // 0xCAFEBABE is also a Java class; a universal binary has a small architecture count where Java has its version.
    if (magic === 0xcafebabe && head.length >= 8 && head.readUInt32BE(4) > 0 && head.readUInt32BE(4) < 30) {
      return { type: "finding", name: "Airlock.Executable.MachO" };
    }
    if (magic === 0x504b0304 || magic === 0x504b0506) return { type: "zip" };
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return { type: "gzip" };
  if (head.length >= 2 && head[0] === 0x23 && head[1] === 0x21)
    return { type: "finding", name: "Airlock.Script.Shebang" };
  const text = head
    .subarray(0, 1024)
    .toString("latin1")
    .replace(/^(\xef\xbb\xbf|\s)+/, "")
    .toLowerCase();
  if (head.subarray(0, 1024).includes("%PDF-")) return { type: "pdf" };
  if (text.startsWith("<"))
    return { type: "markup", svg: /<svg[\s>]/.test(head.toString("latin1").toLowerCase()) };
  return { type: "data" };
}

function record(walk: Walk, name: string, path: string): void {
  if (!walk.findings.some((f) => f.name === name && f.path === path)) walk.findings.push({ name, path });
}

/** Finds EICAR across chunk boundaries, keeping a copy of the last bytes (sources may reuse their buffers). */
function eicarMatcher(walk: Walk, path: string): (chunk: Buffer) => void {
  const keep = EICAR.length - 1;
  let carry = Buffer.alloc(0);
  let found = false;
  return (chunk) => {
    if (found) return;
    if (
      chunk.indexOf(EICAR) >= 0 ||
      (carry.length > 0 && Buffer.concat([carry, chunk.subarray(0, keep)]).indexOf(EICAR) >= 0)
    ) {
      found = true;
      record(walk, "Airlock.Eicar", path);
      return;
    }
    carry = Buffer.from(
      chunk.length >= keep
        ? chunk.subarray(chunk.length - keep)
        : Buffer.concat([carry, chunk]).subarray(-keep),
    );
  };
}

/**
 * Finds a pattern across chunk boundaries with a small carried window, recording each distinct finding once.
 * `nameOf` turns a match into a finding name.
 */
function windowMatcher(
  walk: Walk,
  path: string,
  pattern: RegExp,
  nameOf: (match: RegExpExecArray) => string,
  lowerCase: boolean,
): (chunk: Buffer) => void {
  let carry = "";
  const global = new RegExp(pattern.source, "g");
  return (chunk) => {
    const latin1 = chunk.toString("latin1");
    const text = carry + (lowerCase ? latin1.toLowerCase() : latin1);
    for (let m = global.exec(text); m !== null; m = global.exec(text)) record(walk, nameOf(m), path);
    carry = text.slice(-MARKUP_CARRY);
  };
}

const markupMatcher = (walk: Walk, path: string, svg: boolean) =>
  windowMatcher(walk, path, MARKUP_PATTERN, () => (svg ? "Airlock.Svg.Script" : "Airlock.Html.Script"), true);

/** PDF names that run code or carry files; names inside compressed object streams are not seen here. */
const PDF_ACTIVE = /\/(JavaScript|JS|Launch|EmbeddedFile)(?![A-Za-z0-9#])/;
const PDF_FINDINGS: Record<string, string> = {
  JavaScript: "Airlock.Pdf.JavaScript",
  JS: "Airlock.Pdf.JavaScript",
  Launch: "Airlock.Pdf.Launch",
  EmbeddedFile: "Airlock.Pdf.EmbeddedFile",
};
const pdfMatcher = (walk: Walk, path: string) =>
  windowMatcher(walk, path, PDF_ACTIVE, (m) => PDF_FINDINGS[m[1] ?? ""] ?? "Airlock.Pdf.Active", false);

async function drain(reader: ByteReader): Promise<void> {
  while (await reader.chunk()) {}
}

/** Inspects one stream (the object or an entry); returns how many bytes it read. */
async function inspect(
  source: AsyncIterator<Uint8Array>,
  path: string,
  depth: number,
  walk: Walk,
): Promise<number> {
  const eicar = eicarMatcher(walk, path);
  let markup: ((chunk: Buffer) => void) | undefined;
  const reader = new ByteReader(source, (chunk) => {
    eicar(chunk);
    markup?.(chunk);
  });
  const buffered = await reader.ensure(HEAD_BYTES);
  const kind = classify(reader.peek(HEAD_BYTES));
  switch (kind.type) {
    case "finding":
      record(walk, kind.name, path);
      break;
    case "zip":
      await inspectZip(reader, path, depth, walk);
      break;
    case "gzip":
      await inspectGzip(reader, path, depth, walk);
      break;
    case "markup":
      markup = markupMatcher(walk, path, kind.svg);
      markup(reader.peek(buffered));
      break;
    case "pdf":
      markup = pdfMatcher(walk, path);
      markup(reader.peek(buffered));
      break;
    case "data":
      break;
  }
  await drain(reader);
  return reader.consumed;
}

function openContainer(path: string, depth: number, walk: Walk): void {
  if (depth + 1 > walk.limits.maxDepth) {
    throw new ScanStop(
      "limit-exceeded",
      `archives nested deeper than the depth limit of ${walk.limits.maxDepth} at ${path || "the object"}`,
    );
  }
}

/** Counts expanded bytes against the limits as they are produced. */
function expansionGuard(walk: Walk, path: string) {
  let expanded = 0;
  return (bytes: number, compressed: number) => {
    expanded += bytes;
    walk.expanded += bytes;
    if (walk.expanded > walk.limits.maxExpandedBytes) {
      throw new ScanStop(
        "limit-exceeded",
        `archive contents exceed the ${walk.limits.maxExpandedBytes}-byte expansion limit at ${path}`,
      );
    }
    if (expanded > RATIO_GRACE_BYTES && expanded / Math.max(compressed, 1) > walk.limits.maxRatio) {
      record(walk, "Airlock.Archive.Bomb", path);
      throw new ScanStop("limit-exceeded", `expansion ratio above ${walk.limits.maxRatio} at ${path}`);
    }
  };
}

/** Exactly `size` bytes of the reader, as a stream. */
async function* storedBody(reader: ByteReader, size: number, what: string): AsyncGenerator<Buffer> {
  let left = size;
  while (left > 0) {
    const chunk = await reader.chunk(left);
    if (!chunk) throw new TruncatedError(`truncated ${what}`);
    left -= chunk.length;
    yield chunk;
  }
}

/**
 * Inflates a raw deflate stream from the reader. With a known compressed size it reads exactly that much; without
 * one (a data descriptor follows) it feeds chunks until zlib stops consuming, then puts the excess back.
 */
async function* inflateBody(
  reader: ByteReader,
  compressedSize: number | undefined,
  guard: (bytes: number, compressed: number) => void,
  gzip = false,
): AsyncGenerator<Buffer> {
  const zlib = gzip ? createGunzip() : createInflateRaw();
  let written = 0;
  let pumpError: unknown;
  const pump = (async () => {
    try {
      let left = compressedSize ?? Number.POSITIVE_INFINITY;
      while (left > 0) {
        const chunk = await reader.chunk(left);
        if (!chunk) {
          if (compressedSize !== undefined) throw new TruncatedError("truncated compressed entry");
          break;
        }
        await new Promise<void>((resolve, reject) => zlib.write(chunk, (e) => (e ? reject(e) : resolve())));
        written += chunk.length;
        left -= chunk.length;
        if (compressedSize === undefined && !gzip && zlib.bytesWritten < written) {
          reader.unshift(chunk.subarray(chunk.length - (written - zlib.bytesWritten)));
          break;
        }
      }
      zlib.end();
    } catch (error) {
      pumpError = error;
      zlib.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  })();
  try {
    for await (const out of zlib) {
      guard((out as Buffer).length, zlib.bytesWritten);
      yield out as Buffer;
    }
  } catch (error) {
    if (pumpError) throw pumpError;
    if (error instanceof ScanStop) throw error;
    throw new ScanStop("corrupt", `unreadable compressed data: ${(error as Error).message}`);
  } finally {
    zlib.destroy();
    await pump;
  }
  if (pumpError) throw pumpError;
}

function zip64Sizes(
  extra: Buffer,
  size: number,
  compressed: number,
): { size: number; compressed: number; zip64: boolean } {
  for (let i = 0; i + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(i);
    const len = extra.readUInt16LE(i + 2);
    if (id === 0x0001) {
      let at = i + 4;
      const next = () => {
        const v = at + 8 <= i + 4 + len ? Number(extra.readBigUInt64LE(at)) : undefined;
        at += 8;
        return v;
      };
      const realSize = size === 0xffffffff ? next() : size;
      const realCompressed = compressed === 0xffffffff ? next() : compressed;
      return { size: realSize ?? size, compressed: realCompressed ?? compressed, zip64: true };
    }
    i += 4 + len;
  }
  return { size, compressed, zip64: false };
}

async function inspectZip(reader: ByteReader, path: string, depth: number, walk: Walk): Promise<void> {
  openContainer(path, depth, walk);
  for (;;) {
    if ((await reader.ensure(4)) < 4)
      throw new ScanStop("corrupt", `zip ended before its central directory at ${path || "the object"}`);
    const signature = reader.peek(4).readUInt32LE(0);
    // The central directory repeats what the local headers said; the entries have all been read by now.
    if (signature === 0x02014b50 || signature === 0x06054b50 || signature === 0x06064b50) return;
    if (signature !== 0x04034b50) throw new ScanStop("corrupt", `bad zip record in ${path || "the object"}`);
    const header = await reader.read(30, "zip local header");
    const flags = header.readUInt16LE(6);
    const method = header.readUInt16LE(8);
    const name = (await reader.read(header.readUInt16LE(26), "zip entry name")).toString(
      flags & 0x800 ? "utf8" : "latin1",
    );
    const extra = await reader.read(header.readUInt16LE(28), "zip extra field");
    const sizes = zip64Sizes(extra, header.readUInt32LE(22), header.readUInt32LE(18));
    const entryPath = path ? `${path}/${name}` : name;
    if (++walk.entries > walk.limits.maxEntries) {
      throw new ScanStop("limit-exceeded", `more than ${walk.limits.maxEntries} archive entries`);
    }
    if (flags & 0x1) throw new ScanStop("encrypted", `encrypted zip entry ${entryPath}`);
    // VBA projects make Office documents (and anything that carries one) macro-enabled.
    if (/(^|\/)vbaProject\.bin$/i.test(name)) record(walk, "Airlock.Office.Macro", entryPath);
    if (method !== 0 && method !== 8)
      throw new ScanStop("unsupported", `zip compression method ${method} in ${entryPath}`);
    const descriptor = (flags & 0x8) !== 0;
    const known = descriptor && sizes.compressed === 0 ? undefined : sizes.compressed;
    if (method === 0 && known === undefined) {
      throw new ScanStop("unsupported", `stored zip entry of unknown length (data descriptor) ${entryPath}`);
    }
    const guard = expansionGuard(walk, entryPath);
    const body =
      method === 0
        ? storedBody(reader, known ?? 0, `zip entry ${entryPath}`)
        : inflateBody(reader, known, guard);
    await inspect(body, entryPath, depth + 1, walk);
    if (descriptor) {
      await reader.ensure(4);
      if (reader.peek(4).readUInt32LE(0) === 0x08074b50) await reader.read(4, "zip data descriptor");
      await reader.read(sizes.zip64 ? 20 : 12, "zip data descriptor");
    }
  }
}

async function inspectGzip(reader: ByteReader, path: string, depth: number, walk: Walk): Promise<void> {
  openContainer(path, depth, walk);
  const inner = path ? `${path}/(gunzip)` : "(gunzip)";
  await inspect(inflateBody(reader, undefined, expansionGuard(walk, inner), true), inner, depth + 1, walk);
}

export function createBuiltinEngine(limits: ScanLimits): ScanEngine {
  return {
    name: "builtin",
    async scan(source: AsyncIterable<Uint8Array>, ctx: ScanContext): Promise<EngineResult> {
      const walk: Walk = { limits, findings: [], entries: 0, expanded: 0 };
      let failure: { reason: ErrorReason; detail: string } | undefined;
      try {
        const read = await inspect(source[Symbol.asyncIterator](), "", 0, walk);
        if (read < ctx.size)
          failure = {
            reason: "corrupt",
            detail: `object shorter than announced (${read} of ${ctx.size} bytes)`,
          };
      } catch (error) {
        if (error instanceof ScanStop) failure = { reason: error.reason, detail: error.message };
        else if (error instanceof TruncatedError) failure = { reason: "corrupt", detail: error.message };
        else failure = { reason: "internal", detail: error instanceof Error ? error.message : String(error) };
      }
      // A stored entry's bytes are also the container's bytes: name a finding where it is, not twice.
      const findings = walk.findings.filter(
        (f) =>
          !walk.findings.some(
            (g) =>
              g !== f &&
              g.name === f.name &&
              (f.path === "" ? g.path !== "" : g.path.startsWith(`${f.path}/`)),
          ),
      );
      if (findings.length > 0) return { engine: "builtin", status: "infected", findings };
      if (failure) return { engine: "builtin", status: "error", ...failure };
      return { engine: "builtin", status: "clean" };
    },
  };
}
