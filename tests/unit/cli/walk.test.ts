import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { walk } from "../../../local/push/walk.ts";

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "airlock-walk-"));
  for (const dir of ["b", "a/deep", "node_modules/pkg", "reports/2026", "reports/2025"])
    await mkdir(join(root, dir), { recursive: true });
  for (const file of [
    "z.pdf",
    "b/one.txt",
    "a/deep/two.pdf",
    "node_modules/pkg/index.js",
    "reports/2026/q1.pdf",
    "reports/2025/q4.pdf",
    ".hidden.pdf",
  ])
    await writeFile(join(root, file), file);
  await symlink(join(root, "z.pdf"), join(root, "link.pdf"));
  // A link back up the tree: following it would never end.
  await symlink(root, join(root, "a", "loop"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function paths(options: Parameters<typeof walk>[1] = {}) {
  const out: string[] = [];
  for await (const entry of walk(root, options))
    out.push(entry.kind === "file" ? entry.rel : `skipped:${entry.rel}`);
  return out;
}

describe("Function: walk", () => {
  it("yields regular files in name order and reports symbolic links without following them", async () => {
    expect(await paths()).toEqual([
      ".hidden.pdf",
      "a/deep/two.pdf",
      "skipped:a/loop",
      "b/one.txt",
      "skipped:link.pdf",
      "node_modules/pkg/index.js",
      "reports/2025/q4.pdf",
      "reports/2026/q1.pdf",
      "z.pdf",
    ]);
  });

  it("matches a pattern without a slash against names at any depth, and one with a slash against the path", async () => {
    expect(
      await paths({ include: ["*.pdf"], exclude: ["node_modules", "reports/2025/**", "link.pdf", "loop"] }),
    ).toEqual([".hidden.pdf", "a/deep/two.pdf", "reports/2026/q1.pdf", "z.pdf"]);
  });

  it("does not enter an excluded directory", async () => {
    const found = await paths({ exclude: ["a", "reports"] });
    expect(found.some((p) => p.includes("a/") || p.startsWith("reports"))).toBe(false);
    expect(found).toContain("b/one.txt");
  });
});

describe("Function: walk (dot names)", () => {
  it("lets wildcards match names starting with a dot, but not literal letters", async () => {
    const found = await paths({ include: ["*.pdf", "h*"] });
    expect(found).toContain(".hidden.pdf");
    expect(found.filter((p) => p.startsWith("h") || p.startsWith(".h"))).toEqual([".hidden.pdf"]);
  });
});
