/**
 * Builds the console into static files: one esbuild bundle (`app.js`) plus the page and its stylesheet.
 * `npm run build:web` writes `dist/web`; `npm start` and the Pulumi console component build it themselves.
 */
import { copyFile, mkdir, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = resolve(here, "..", "dist", "web");

export async function buildWeb(outDir: string = WEB_DIST): Promise<string> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(here, "src", "main.ts")],
    outfile: join(outDir, "app.js"),
    bundle: true,
    format: "esm",
    target: ["es2022"],
    minify: true,
    sourcemap: true,
    legalComments: "none",
    logLevel: "warning",
  });
  await Promise.all(["index.html", "styles.css"].map((f) => copyFile(join(here, f), join(outDir, f))));
  return outDir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(`console built in ${await buildWeb()}`);
}
