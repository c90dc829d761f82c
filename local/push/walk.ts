/**
 * Walks a directory tree for a push: regular files only, in name order, symbolic links reported and never
 * followed (neither to files nor into directories), with include and exclude globs. A pattern without a `/`
 * matches the name at any depth (`*.pdf`, `node_modules`); one with a `/` matches the path from the root
 * (`reports/2026/**`); as in .gitignore, wildcards match names starting with a dot. An excluded directory is not
 * entered at all.
 */
import type { Dirent, Stats } from "node:fs";
import { lstat, opendir } from "node:fs/promises";
import { join, matchesGlob } from "node:path";

export interface WalkedFile {
  kind: "file";
  /** Absolute path. */
  path: string;
  /** Path from the root, with `/` separators: what keys and the journal use. */
  rel: string;
}

export interface SkippedEntry {
  kind: "skipped";
  rel: string;
  reason: string;
}

export interface WalkOptions {
  include?: readonly string[];
  exclude?: readonly string[];
}

/**
 * As in .gitignore, `*` also matches names that start with a dot (`*.pdf` matches `.draft.pdf`): each leading dot
 * is also tried as a character that only wildcards match.
 */
const undot = (path: string) => path.replace(/(^|\/)\./g, "$1\uE000");
const glob = (path: string, pattern: string) =>
  matchesGlob(path, pattern) || matchesGlob(undot(path), pattern);

function matches(rel: string, pattern: string): boolean {
  if (!pattern.includes("/")) return glob(rel.slice(rel.lastIndexOf("/") + 1), pattern);
  return glob(rel, pattern.replace(/^\.\//, ""));
}

const excludedBy = (rel: string, patterns: readonly string[]) =>
  patterns.some((p) => matches(rel, p) || (p.endsWith("/**") && matches(rel, p.slice(0, -3))));

const knownType = (d: Dirent) =>
  d.isFile() ||
  d.isDirectory() ||
  d.isSymbolicLink() ||
  d.isFIFO() ||
  d.isSocket() ||
  d.isBlockDevice() ||
  d.isCharacterDevice();

export async function* walk(
  root: string,
  options: WalkOptions = {},
): AsyncGenerator<WalkedFile | SkippedEntry> {
  const include = options.include ?? [];
  const exclude = options.exclude ?? [];
  async function* visit(dir: string, prefix: string): AsyncGenerator<WalkedFile | SkippedEntry> {
    const entries = [];
    for await (const entry of await opendir(dir)) entries.push(entry);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const dirent of entries) {
      const rel = prefix ? `${prefix}/${dirent.name}` : dirent.name;
      if (excludedBy(rel, exclude)) continue;
      // Some file systems do not report entry types; ask lstat (never stat: links stay links).
      const entry: Dirent | Stats = knownType(dirent) ? dirent : await lstat(join(dir, dirent.name));
      if (entry.isSymbolicLink()) {
        yield { kind: "skipped", rel, reason: "symbolic link, not followed" };
      } else if (entry.isDirectory()) {
        yield* visit(join(dir, dirent.name), rel);
      } else if (entry.isFile()) {
        if (include.length === 0 || include.some((p) => matches(rel, p)))
          yield { kind: "file", path: join(dir, dirent.name), rel };
      } else {
        yield { kind: "skipped", rel, reason: "not a regular file" };
      }
    }
  }
  yield* visit(root, "");
}
