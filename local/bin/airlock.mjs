#!/usr/bin/env node
// Launcher of the `airlock` command. Runs the prebuilt bundle (dist/cli/, see build-cli.mjs), building it first when
// it is missing or older than any of its sources (a fresh clone, a `git pull`, an edit), and re-runs itself with the
// project's own Node 24 when started by an older Node (a PATH install through `npm link`).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), "..", "..");

if (Number(process.versions.node.split(".")[0]) < 24) {
  const node = join(root, "node_modules", "node", "bin", "node");
  if (!existsSync(node)) {
    process.stderr.write(
      `airlock: needs Node 24 or later (this is Node ${process.versions.node}); run \`npm ci\` in ${root} to get it.\n`,
    );
    process.exit(1);
  }
  const child = spawnSync(node, [self, ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(child.status ?? 1);
}

/** The current build's entry, or undefined when there is none or a source file changed since. */
function currentBundle() {
  try {
    const { dir, entry, built, inputs } = JSON.parse(
      readFileSync(join(root, "dist", "cli", "current.json"), "utf8"),
    );
    const file = join(root, "dist", "cli", dir, entry);
    if (!existsSync(file)) return undefined;
    return inputs.some((input) => statSync(join(root, input)).mtimeMs > built) ? undefined : file;
  } catch {
    return undefined;
  }
}

let bundle = currentBundle();
if (!bundle) {
  try {
    const { buildCli } = await import("./build-cli.mjs");
    const { dir } = await buildCli();
    bundle = join(dir, "airlock.mjs");
  } catch (error) {
    process.stderr.write(
      `airlock: could not build the CLI (${error instanceof Error ? error.message.split("\n")[0] : error}); running it from source.\n`,
    );
  }
}
if (bundle) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../cli/entry.ts");
}
