/**
 * The built-in engine: pure TypeScript over node's zlib, one streamed pass, memory bounded by a constant (a
 * few chunks, small carried windows, one digest per zip entry up to `maxEntries`).
 *
 * - Signatures: the EICAR test string anywhere (across chunk boundaries, at every nesting level); PE, ELF and
 *   Mach-O executables and shebang scripts at the start of the object or of any archive entry; script, inline
 *   event handlers and script URLs in HTML and SVG (and script elements in other XML); PDF actions that run
 *   code or carry files; VBA projects in zips.
 * - Containers: zip (see zip.ts) and gzip, opened recursively while streaming, to `maxDepth` (the object is
 *   depth 0).
 * - Limits: inflation is counted as it happens and stops as soon as a limit is crossed, so a bomb is never
 *   expanded. Crossing depth, entry or total-size limits is an error `limit-exceeded`. Crossing the expansion
 *   ratio (of one stream or of a whole zip, past 1 MiB) is that error too, and also the finding
 *   `Airlock.Archive.Bomb`: a classic bomb is an attack, not an accident, and should read as one.
 * - Anything that cannot be read to the end (corrupt or truncated containers, encrypted entries, unknown
 *   compression, a stream shorter than announced) is an error, never clean. A finding outranks an error.
 */
import type { EngineResult, ErrorReason } from "../types.ts";
import type { ScanContext, ScanEngine, ScanLimits } from "./engine.ts";
import { DEFAULT_MAX_TRAILING_BYTES } from "./engine.ts";
import { walkImage } from "./images.ts";
import { inflate } from "./inflate.ts";
import { officeContentTypesMatcher, officeXmlMatcher, ole2Matcher, rtfMatcher } from "./office.ts";
import { pdfMatcher } from "./pdf.ts";
import { ByteReader, TruncatedError } from "./reader.ts";
import { scriptMatcher } from "./scripts.ts";
import {
  classify,
  diskImageProbe,
  eicarMatcher,
  HEAD_BYTES,
  looksLikeMarkdown,
  type Matcher,
  markupMatcher,
  peProbe,
  zipEndMatcher,
} from "./signatures.ts";
import { walkTar } from "./tar.ts";
import { checkDepth, countEntry, expansion, record, ScanStop, type Walk } from "./walk.ts";
import { walkZip } from "./zip.ts";

/** Kinds whose bytes are not themselves an archive being walked: a zip end record near their end is a polyglot. */
const NOT_ZIP = new Set(["markup", "pdf", "ole2", "rtf", "png", "jpeg", "gif", "text", "data"]);

/** Inspects one stream (the object or an entry) to its end; returns how many bytes it read. */
async function inspect(
  source: AsyncIterator<Uint8Array>,
  path: string,
  depth: number,
  walk: Walk,
  /** The stream's length when it cannot be longer (see InspectEntry). */
  size?: number,
): Promise<number> {
  const found = (name: string) => record(walk, name, path);
  const eicar = eicarMatcher(found);
  // Speed: plain data only meets the native searches; the regex windows run only when the head says so.
  let content: Matcher | undefined;
  let zipEnd: ReturnType<typeof zipEndMatcher> | undefined;
  let probe: Matcher | undefined;
  const reader = new ByteReader(source, (chunk) => {
    eicar(chunk);
    zipEnd?.(chunk);
    probe?.(chunk);
    content?.(chunk);
  });
  const start = (matcher: Matcher, buffered: number) => {
    content = matcher;
    matcher(reader.peek(buffered));
  };
  try {
    const buffered = await reader.ensure(HEAD_BYTES);
    const kind = classify(reader.peek(HEAD_BYTES));
    if (NOT_ZIP.has(kind.type)) {
      zipEnd = zipEndMatcher(size);
      zipEnd(reader.peek(buffered));
    }
    probe = peProbe(reader.peek(HEAD_BYTES), found);
    // A disk image's first 32 KiB are zeros (its system area): such a head is data, never another kind.
    if (kind.type === "data") {
      const pe = probe;
      const disk = diskImageProbe(found);
      probe = pe
        ? (chunk) => {
            pe(chunk);
            disk(chunk);
          }
        : disk;
    }
    probe?.(reader.peek(buffered));
    switch (kind.type) {
      case "finding":
        found(kind.name);
        break;
      case "zip":
        await walkZip(reader, path, depth, walk, (body, entryPath, entryDepth, entrySize) =>
          inspect(body, entryPath, entryDepth, walk, entrySize),
        );
        break;
      case "gzip":
        await inspectGzip(reader, path, depth, walk);
        break;
      case "tar":
        await walkTar(
          reader,
          path,
          depth,
          walk,
          (body, entryPath, entryDepth, entrySize) => inspect(body, entryPath, entryDepth, walk, entrySize),
          () => trailing(reader, path, depth, walk),
        );
        break;
      case "markup": {
        // Other XML (Office parts, Office 2003 XML documents) is also read for Office active content.
        const matchers = [markupMatcher(kind.markup, found, looksLikeMarkdown(reader.peek(HEAD_BYTES)))];
        if (kind.markup === "xml") matchers.push(officeXmlMatcher(found));
        if (/(^|\/)\[Content_Types\]\.xml$/.test(path)) matchers.push(officeContentTypesMatcher(found));
        start(
          matchers.length === 1
            ? (matchers[0] as Matcher)
            : (chunk) => {
                for (const matcher of matchers) matcher(chunk);
              },
          buffered,
        );
        break;
      }
      case "pdf":
        start(pdfMatcher(found, walk.limits), buffered);
        break;
      case "ole2":
        start(ole2Matcher(found), buffered);
        break;
      case "rtf":
        start(rtfMatcher(found), buffered);
        break;
      case "png":
      case "jpeg":
      case "gif":
        if (await walkImage(kind.type, reader)) await trailing(reader, path, depth, walk);
        break;
      case "text":
        start(scriptMatcher(kind.encoding, found), buffered);
        break;
      case "data":
        break;
    }
    await reader.drain();
    content?.end?.();
    if (zipEnd?.nearEnd(reader.consumed)) found("Airlock.Polyglot.Zip");
    return reader.consumed;
  } catch (error) {
    // Unwinds an inner decompressor (or releases the caller's stream) instead of leaving it mid-flight.
    await reader.close().catch(() => undefined);
    throw error;
  }
}

const isPadding = (b: number) => b === 0 || b === 0xff;

/**
 * What follows a format's end (an image's end marker, a tar's end blocks): padding (NUL or 0xFF bytes) passes;
 * past it, up to `maxTrailingBytes` of anything pass; more is the finding `Airlock.Polyglot.TrailingData`, and
 * those bytes are inspected as a stream of their own (an appended zip, JAR or executable is named as such).
 */
async function trailing(reader: ByteReader, path: string, depth: number, walk: Walk): Promise<void> {
  for (;;) {
    const chunk = await reader.chunk();
    if (!chunk) return;
    let at = 0;
    while (at < chunk.length && isPadding(chunk[at] as number)) at++;
    if (at < chunk.length) {
      reader.unshift(chunk.subarray(at));
      break;
    }
  }
  const allowed = walk.limits.maxTrailingBytes ?? DEFAULT_MAX_TRAILING_BYTES;
  if ((await reader.ensure(allowed + 1)) <= allowed) return;
  record(walk, "Airlock.Polyglot.TrailingData", path);
  if (depth + 1 > walk.limits.maxDepth) return;
  const body = (async function* () {
    for (let chunk = await reader.chunk(); chunk; chunk = await reader.chunk()) yield chunk;
  })();
  await inspect(body, path ? `${path}/(trailing data)` : "(trailing data)", depth + 1, walk);
}

async function inspectGzip(reader: ByteReader, path: string, depth: number, walk: Walk): Promise<void> {
  checkDepth(walk, path, depth);
  countEntry(walk);
  const inner = path ? `${path}/(gunzip)` : "(gunzip)";
  const body = inflate(reader, { format: "gzip", onInflate: expansion(walk, inner), what: `gzip ${inner}` });
  await inspect(body, inner, depth + 1, walk);
}

function failureOf(error: unknown): { reason: ErrorReason; detail: string } {
  if (error instanceof ScanStop) return { reason: error.reason, detail: error.message };
  if (error instanceof TruncatedError) return { reason: "corrupt", detail: error.message };
  return { reason: "internal", detail: error instanceof Error ? error.message : String(error) };
}

/** The built-in engine's catalogue version: raised whenever what it finds changes, so cached verdicts expire. */
export const BUILTIN_SIGNATURES = "airlock-builtin-2026.12";

export function createBuiltinEngine(limits: ScanLimits): ScanEngine {
  return {
    name: "builtin",
    async scan(source: AsyncIterable<Uint8Array>, ctx: ScanContext): Promise<EngineResult> {
      const walk: Walk = { limits, findings: [], entries: 0, expanded: 0 };
      let failure: { reason: ErrorReason; detail: string } | undefined;
      try {
        const read = await inspect(source[Symbol.asyncIterator](), "", 0, walk, ctx.size);
        if (read < ctx.size) {
          failure = {
            reason: "corrupt",
            detail: `object shorter than announced (${read} of ${ctx.size} bytes)`,
          };
        }
      } catch (error) {
        failure = failureOf(error);
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
      if (findings.length > 0)
        return { engine: "builtin", status: "infected", findings, signatureVersion: BUILTIN_SIGNATURES };
      if (failure) return { engine: "builtin", status: "error", ...failure };
      return { engine: "builtin", status: "clean", signatureVersion: BUILTIN_SIGNATURES };
    },
  };
}
