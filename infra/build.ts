/**
 * Builds each Lambda handler into its own bundle with esbuild (bundled, minified, ESM for Node 24).
 * `pulumi up` calls it before creating the functions; `npm run build` runs it alone. Each bundle's directory is
 * what is uploaded, and holds the bundle only: its source map (megabytes, and loading it with
 * --enable-source-maps slows every cold start) is written beside it, in `<outDir>-sourcemaps/<name>/`, to
 * decode a stack trace locally.
 */
import { existsSync } from "node:fs";
import { mkdir, rename } from "node:fs/promises";
import { dirname, resolve } from "node:path";
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

/** Handlers whose entry file exists in this checkout. */
export function availableHandlers(): HandlerKey[] {
  return (Object.keys(HANDLERS) as HandlerKey[]).filter((key) => existsSync(resolve(ROOT, HANDLERS[key])));
}

export async function buildHandlers(outDir = resolve(ROOT, "dist/handlers"), only = availableHandlers()) {
  const built: Record<string, string> = {};
  await Promise.all(
    only.map(async (key) => {
      const dir = resolve(outDir, key);
      const maps = resolve(`${outDir}-sourcemaps`, key);
      await build({
        entryPoints: [resolve(ROOT, HANDLERS[key])],
        outfile: resolve(dir, "index.mjs"),
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
      await mkdir(maps, { recursive: true });
      await rename(resolve(dir, "index.mjs.map"), resolve(maps, "index.mjs.map"));
      built[key] = dir;
    }),
  );
  return built;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildHandlers();
  for (const [key, dir] of Object.entries(built)) console.log(`${key.padEnd(10)} ${dir}/index.mjs`);
}
