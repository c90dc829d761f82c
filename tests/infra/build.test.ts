import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
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
      expect(await readdir(built[key] ?? "")).toEqual(["index.mjs"]);
      expect(code).not.toMatch(/sourceMappingURL/);
      const map = JSON.parse(await readFile(join(`${out}-sourcemaps`, key, "index.mjs.map"), "utf8")) as {
        sources: string[];
      };
      expect(map.sources.some((s) => s.includes(`handlers/`))).toBe(true);
    }
  }, 60_000);
});
