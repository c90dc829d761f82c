/**
 * The state of one scan as it descends into containers: findings so far and the limits that stop it. Limits
 * are checked as bytes are produced, so a bomb stops at the first inflated chunk past a limit.
 */
import type { ErrorReason, Finding } from "../types.ts";
import type { ScanLimits } from "./engine.ts";

/** Ends a scan with an error result; findings recorded before it still win. */
export class ScanStop extends Error {
  constructor(
    readonly reason: ErrorReason,
    message: string,
  ) {
    super(message);
    this.name = "ScanStop";
  }
}

/** The ratio limit applies once a stream has expanded past this, so small well-compressed files pass. */
export const RATIO_GRACE_BYTES = 1024 * 1024;

export interface Walk {
  readonly limits: ScanLimits;
  readonly findings: Finding[];
  entries: number;
  expanded: number;
}

export const where = (path: string) => path || "the object";

export function record(walk: Walk, name: string, path: string): void {
  if (!walk.findings.some((f) => f.name === name && f.path === path)) walk.findings.push({ name, path });
}

/** A container at `depth` puts its entries at `depth + 1`, which may not pass `maxDepth`. */
export function checkDepth(walk: Walk, path: string, depth: number): void {
  if (depth + 1 > walk.limits.maxDepth) {
    throw new ScanStop(
      "limit-exceeded",
      `archives nested deeper than the depth limit of ${walk.limits.maxDepth} at ${where(path)}`,
    );
  }
}

export function countEntry(walk: Walk): void {
  if (++walk.entries > walk.limits.maxEntries) {
    throw new ScanStop("limit-exceeded", `more than ${walk.limits.maxEntries} archive entries`);
  }
}

/** Inflated bytes of every stream in one container, against the container's compressed bytes read so far. */
export interface ContainerMeter {
  path: string;
  expanded: number;
  compressed(): number;
}

/** Called with each inflated chunk's length and the compressed bytes consumed so far by that stream. */
export type Expansion = (bytes: number, compressed: number) => void;

function checkRatio(walk: Walk, path: string, expanded: number, compressed: number): void {
  if (expanded > RATIO_GRACE_BYTES && expanded > walk.limits.maxRatio * Math.max(compressed, 1)) {
    record(walk, "Airlock.Archive.Bomb", path);
    throw new ScanStop("limit-exceeded", `expansion ratio above ${walk.limits.maxRatio} at ${where(path)}`);
  }
}

export function expansion(walk: Walk, path: string, container?: ContainerMeter): Expansion {
  let expanded = 0;
  return (bytes, compressed) => {
    expanded += bytes;
    walk.expanded += bytes;
    if (walk.expanded > walk.limits.maxExpandedBytes) {
      throw new ScanStop(
        "limit-exceeded",
        `archive contents exceed the ${walk.limits.maxExpandedBytes}-byte expansion limit at ${where(path)}`,
      );
    }
    checkRatio(walk, path, expanded, compressed);
    if (container) {
      container.expanded += bytes;
      checkRatio(walk, container.path, container.expanded, container.compressed());
    }
  };
}

/** Bidi controls, zero-width characters and control characters: a name that reads as something else. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for here
const DECEPTIVE = /[\u0000-\u001f\u007f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;
/** An absolute path (`/x`, `\x`, `C:x`, `\\server\share`) or a `..` segment: extraction outside the target. */
const ESCAPING = /^(?:[\\/]|[a-zA-Z]:)|(?:^|[\\/])\.\.(?:[\\/]|$)/;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The ways an extractor may read an entry name's bytes: as the archive says, and as UTF-8 when they are. */
export function nameReadings(bytes: Buffer, declared: "utf8" | "latin1"): string[] {
  const readings = [bytes.toString(declared)];
  try {
    readings.push(utf8.decode(bytes));
  } catch {}
  return readings;
}

/**
 * The file-name policy for archive entries: a name with bidi overrides, zero-width or control characters is
 * `Airlock.Archive.DeceptiveName` (it shows an extension it does not have); an absolute name or one with a `..`
 * segment is `Airlock.Archive.PathTraversal` (an extractor that trusts it writes outside its target).
 */
export function checkEntryName(walk: Walk, names: readonly string[], entryPath: string): void {
  if (names.some((n) => DECEPTIVE.test(n))) record(walk, "Airlock.Archive.DeceptiveName", entryPath);
  if (names.some((n) => ESCAPING.test(n))) record(walk, "Airlock.Archive.PathTraversal", entryPath);
}
