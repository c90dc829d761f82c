/**
 * Builds each Lambda handler into its own bundle with esbuild (bundled, minified, ESM for Node 24).
 * `pulumi up` calls it before creating the functions; `npm run build` runs it alone. Each bundle's directory is
 * what is uploaded, and holds the bundle only: its source map (megabytes, and loading it with
 * --enable-source-maps slows every cold start) is written beside it, in `<outDir>-sourcemaps/<name>/`, to
 * decode a stack trace locally.
 */
import { cpSync, existsSync } from "node:fs";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Lambda name → handler entry file. */
export const HANDLERS = {
  validate: "handlers/validate.ts",
  scan: "handlers/scan.ts",
  metadata: "handlers/metadata.ts",
  deadLetter: "handlers/dead-letter.ts",
  sweeper: "handlers/sweeper.ts",
  ocr: "handlers/ocr.ts",
  guardduty: "handlers/guardduty.ts",
  api: "handlers/api.ts",
} as const;

export type HandlerKey = keyof typeof HANDLERS;

/** The YARA-X binding: its loader and the binary for Lambda's x86_64 Linux. */
const YARA_PACKAGES = ["@litko/yara-x-linux-x64-gnu"];

/** Handlers whose entry file exists in this checkout. */
export function availableHandlers(): HandlerKey[] {
  return (Object.keys(HANDLERS) as HandlerKey[]).filter((key) => existsSync(resolve(ROOT, HANDLERS[key])));
}

/** Every input file of a bundle with its size and modification time, as esbuild's metafile lists them. */
async function inputStamp(inputs: string[]): Promise<Record<string, string>> {
  const stamp: Record<string, string> = {};
  for (const input of inputs) {
    const info = await stat(resolve(ROOT, input)).catch(() => undefined);
    stamp[input] = info ? `${info.size}:${info.mtimeMs}` : "missing";
  }
  return stamp;
}

/**
 * Whether the bundle in `dir` was built from exactly these inputs (a preview, then an up, build once). The
 * stamp is kept beside the source maps, outside the directory that is uploaded.
 */
async function upToDate(dir: string, stampFile: string): Promise<boolean> {
  try {
    const previous = JSON.parse(await readFile(stampFile, "utf8")) as Record<string, string>;
    await stat(resolve(dir, "index.mjs"));
    const now = await inputStamp(Object.keys(previous));
    return Object.keys(previous).length > 0 && Object.entries(previous).every(([k, v]) => now[k] === v);
  } catch {
    return false;
  }
}

export async function buildHandlers(outDir = resolve(ROOT, "dist/handlers"), only = availableHandlers()) {
  const built: Record<string, string> = {};
  const where = (key: string) => ({
    dir: resolve(outDir, key),
    maps: resolve(`${outDir}-sourcemaps`, key),
    stamp: resolve(`${outDir}-sourcemaps`, key, "inputs.json"),
  });
  const stale: HandlerKey[] = [];
  for (const key of only) {
    if (await upToDate(where(key).dir, where(key).stamp)) built[key] = where(key).dir;
    else stale.push(key);
  }
  if (stale.length === 0) return built;
  // One build for every stale handler: the dependencies they share (the AWS SDK, Middy, Powertools) are parsed
  // once. Without code splitting, each output is still a self-contained bundle.
  const result = await build({
    metafile: true,
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(stale.map((key) => [key, resolve(ROOT, HANDLERS[key])])),
    outdir: outDir,
    entryNames: "[name]/index",
    outExtension: { ".js": ".mjs" },
    bundle: true,
    minify: true,
    sourcemap: "external",
    platform: "node",
    target: "node24",
    format: "esm",
    logLevel: "warning",
    // Some dependencies are CommonJS and call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
  for (const key of stale) {
    const { dir, maps, stamp } = where(key);
    await mkdir(maps, { recursive: true });
    await rename(resolve(dir, "index.mjs.map"), resolve(maps, "index.mjs.map"));
    const output = Object.entries(result.metafile.outputs).find(
      ([path]) => resolve(ROOT, path) === resolve(dir, "index.mjs"),
    )?.[1];
    if (!output) throw new Error(`esbuild did not report the ${key} bundle`);
    const inputs = Object.keys(output.inputs).map((i) => relative(ROOT, resolve(ROOT, i)));
    await writeFile(stamp, JSON.stringify(await inputStamp(inputs)));
    // The scan function loads the YARA-X binding (a native module esbuild cannot bundle) only when rules are
    // configured; its JavaScript loader and linux-x64 binary ride along in the bundle's node_modules.
    if (key === "scan") {
      for (const pkg of YARA_PACKAGES) {
        const from = resolve(ROOT, "node_modules", pkg);
        if (existsSync(from)) cpSync(from, resolve(dir, "node_modules", pkg), { recursive: true });
      }
    }
    built[key] = dir;
  }
  return built;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildHandlers();
  for (const [key, dir] of Object.entries(built)) console.log(`${key.padEnd(10)} ${dir}/index.mjs`);
}
