/**
 * Builds each Lambda handler into its own bundle with esbuild (bundled, minified, source maps, ESM for Node 24).
 * `pulumi up` calls it before creating the functions; `npm run build` runs it alone.
 */
import { cpSync, existsSync } from "node:fs";
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

/** The YARA-X binding: its loader and the binary for Lambda's x86_64 Linux. */
const YARA_PACKAGES = ["@litko/yara-x", "@litko/yara-x-linux-x64-gnu"];

/** Handlers whose entry file exists in this checkout. */
export function availableHandlers(): HandlerKey[] {
  return (Object.keys(HANDLERS) as HandlerKey[]).filter((key) => existsSync(resolve(ROOT, HANDLERS[key])));
}

export async function buildHandlers(outDir = resolve(ROOT, "dist/handlers"), only = availableHandlers()) {
  const built: Record<string, string> = {};
  await Promise.all(
    only.map(async (key) => {
      const dir = resolve(outDir, key);
      await build({
        entryPoints: [resolve(ROOT, HANDLERS[key])],
        outfile: resolve(dir, "index.mjs"),
        bundle: true,
        minify: true,
        sourcemap: true,
        platform: "node",
        target: "node24",
        format: "esm",
        logLevel: "warning",
        // Some dependencies are CommonJS and call require(); give the ESM bundle one.
        banner: {
          js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        },
      });
      // The scan function loads the YARA-X binding (a native module esbuild cannot bundle) only when rules are
      // configured; its JavaScript loader and linux-x64 binary ride along in the bundle's node_modules.
      if (key === "scan") {
        for (const pkg of YARA_PACKAGES) {
          const from = resolve(ROOT, "node_modules", pkg);
          if (existsSync(from)) cpSync(from, resolve(dir, "node_modules", pkg), { recursive: true });
        }
      }
      built[key] = dir;
    }),
  );
  return built;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildHandlers();
  for (const [key, dir] of Object.entries(built)) console.log(`${key.padEnd(10)} ${dir}/index.mjs`);
}
