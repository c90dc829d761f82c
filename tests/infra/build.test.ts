import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { availableHandlers, buildHandlers } from "../../infra/build.ts";

const out = await mkdtemp(join(tmpdir(), "airlock-build-"));
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
  await rm(`${out}-sourcemaps`, { recursive: true, force: true });
});

describe("Function: buildHandlers", () => {
  it("bundles every handler into one minified ESM file, its source map kept out of the uploaded directory", async () => {
    const handlers = availableHandlers();
    expect(handlers).toEqual(
      expect.arrayContaining(["validate", "scan", "metadata", "deadLetter", "sweeper"]),
    );
    const built = await buildHandlers(out, handlers);
    for (const key of handlers) {
      const code = await readFile(join(built[key] ?? "", "index.mjs"), "utf8");
      expect(code).toMatch(/export\s*\{[^}]*handler/);
      expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
      // Minified: long lines (the few newlines left are inside template literals of bundled libraries).
      expect(code.length / code.split("\n").length).toBeGreaterThan(2000);
      // The scan function also carries the YARA-X native binding (loaded only when rules are configured).
      const expected = key === "scan" ? ["index.mjs", "node_modules"] : ["index.mjs"];
      expect((await readdir(built[key] ?? "")).sort()).toEqual(expected);
      expect(code).not.toMatch(/sourceMappingURL/);
      const map = JSON.parse(await readFile(join(`${out}-sourcemaps`, key, "index.mjs.map"), "utf8")) as {
        sources: string[];
      };
      expect(map.sources.some((s) => s.includes(`handlers/`))).toBe(true);
    }
  }, 180_000);

  it("builds a bundle again only when one of its inputs changed", async () => {
    const [key] = availableHandlers();
    if (!key) throw new Error("no handler");
    const file = join(out, key, "index.mjs");
    const before = (await stat(file)).mtimeMs;
    await buildHandlers(out, [key]);
    expect((await stat(file)).mtimeMs).toBe(before);
    const stampFile = join(`${out}-sourcemaps`, key, "inputs.json");
    const stamp = JSON.parse(await readFile(stampFile, "utf8")) as Record<string, string>;
    expect(Object.keys(stamp)).toContain(`handlers/${key === "deadLetter" ? "dead-letter" : key}.ts`);
    // An input that changed since (here: its recorded stamp no longer matches) makes it build again.
    const [first] = Object.keys(stamp);
    await writeFile(stampFile, JSON.stringify({ ...stamp, [first ?? ""]: "0:0" }));
    await buildHandlers(out, [key]);
    expect((await stat(file)).mtimeMs).toBeGreaterThan(before);
  }, 120_000);
});
