// Builds the `airlock` CLI with esbuild, as the Lambdas are built: bundled, minified, split into chunks so that
// `--help` and usage errors load only the small entry chunk and each command loads its own code on first use.
// Each build goes to its own folder under dist/cli/ and `current.json` (renamed into place) points at it, with the
// source files it was built from so the launcher can tell when it is out of date. Plain JavaScript, so that the
// launcher can run it before anything is compiled. `npm run build:cli` runs it alone.
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const OUT = join(ROOT, "dist", "cli");
export const CURRENT = join(OUT, "current.json");
/** Files that change what the bundle contains besides its own sources. */
const ALWAYS = ["package-lock.json", "local/bin/build-cli.mjs"];
/** Builds kept besides the newest, so that a command still running from one can load its chunks. */
const KEEP = 2;

export async function buildCli() {
  const { build } = await import("esbuild");
  // Taken before esbuild reads the sources: an edit made during the build makes the next run rebuild.
  const built = Date.now();
  const name = `build-${Date.now()}-${randomBytes(3).toString("hex")}`;
  const dir = join(OUT, name);
  mkdirSync(dir, { recursive: true });
  const result = await build({
    // Paths in the metafile are then relative to the checkout, wherever the command was started from.
    absWorkingDir: ROOT,
    entryPoints: { airlock: "local/cli/entry.ts" },
    outdir: dir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    minify: true,
    platform: "node",
    target: "node24",
    format: "esm",
    metafile: true,
    logLevel: "error",
    legalComments: "none",
    // Some dependencies are CommonJS and call require(); give the ESM chunks one.
    banner: {
      js: "import { createRequire as __airlockRequire } from 'node:module'; const require = __airlockRequire(import.meta.url);",
    },
  });
  const inputs = [
    ...Object.keys(result.metafile.inputs).filter((f) => !f.includes("node_modules/")),
    ...ALWAYS,
  ];
  const tmp = `${CURRENT}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ dir: name, entry: "airlock.mjs", built, inputs }, null, 2)}\n`);
  renameSync(tmp, CURRENT);
  const builds = readdirSync(OUT)
    .filter((d) => d.startsWith("build-") && d !== name)
    .sort()
    .reverse();
  for (const old of builds.slice(KEEP)) rmSync(join(OUT, old), { recursive: true, force: true });
  const bytes = Object.keys(result.metafile.outputs).reduce(
    (sum, f) => sum + statSync(join(ROOT, f)).size,
    0,
  );
  const entryBytes = statSync(join(dir, "airlock.mjs")).size;
  return { dir, bytes, entryBytes, inputs: inputs.length };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const out = await buildCli();
  console.log(
    `${out.dir}: ${(out.bytes / 1024).toFixed(0)} KiB (entry chunk ${(out.entryBytes / 1024).toFixed(0)} KiB) from ${out.inputs} source files in ${Math.round(performance.now() - started)} ms`,
  );
}
