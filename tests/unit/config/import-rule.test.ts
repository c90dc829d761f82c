/**
 * The import rule in biome.json: the AWS SDK (`@aws-sdk/*`, `@smithy/*`) stays out of the core except its
 * adapters and composition root, and out of the handlers. Biome runs on probe files laid out as in the
 * repository, in a scratch directory with the repository's configuration.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");
const BIOME = join(ROOT, "node_modules/@biomejs/biome/bin/biome");
const PROBE =
  'import { S3Client } from "@aws-sdk/client-s3";\nimport type { HttpRequest } from "@smithy/types";\n\nexport type Probe = [S3Client, HttpRequest];\n';

const FORBIDDEN = [
  "core/domain/probe.ts",
  "core/domain/scan/probe.ts",
  "core/usecases/pipeline/probe.ts",
  "core/ports/probe.ts",
  "core/http/probe.ts",
  "handlers/probe.ts",
];
const ALLOWED = [
  "core/adapters/probe.ts",
  "core/runtime/probe.ts",
  "local/cli/probe.ts",
  "infra/probe.ts",
  "tests/probe.ts",
  "bench/probe.ts",
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "import-rule-"));
  const config = JSON.parse(readFileSync(join(ROOT, "biome.json"), "utf8"));
  delete config.$schema;
  config.vcs = { enabled: false };
  writeFileSync(join(dir, "biome.json"), JSON.stringify(config));
  for (const path of [...FORBIDDEN, ...ALLOWED]) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), PROBE);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The files Biome reports `noRestrictedImports` in, with how many imports each. */
function restricted(): Map<string, number> {
  let out = "";
  try {
    out = execFileSync(process.execPath, [BIOME, "lint", "--reporter=json", "--max-diagnostics=none", "."], {
      cwd: dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    out = (error as { stdout: string }).stdout;
  }
  const report = JSON.parse(out) as {
    diagnostics: { category: string; location: { path: { file: string } | string } }[];
  };
  const found = new Map<string, number>();
  for (const d of report.diagnostics) {
    if (d.category !== "lint/style/noRestrictedImports") continue;
    const file = typeof d.location.path === "string" ? d.location.path : d.location.path.file;
    found.set(file, (found.get(file) ?? 0) + 1);
  }
  return found;
}

describe("Lint rule: no AWS SDK in the core", () => {
  let found: Map<string, number>;
  beforeAll(() => {
    found = restricted();
  });

  it.each(FORBIDDEN)("refuses @aws-sdk and @smithy imports in %s", (path) => {
    expect(found.get(path)).toBe(2);
  });

  it.each(ALLOWED)("allows them in %s", (path) => {
    expect(found.get(path)).toBeUndefined();
  });
});
