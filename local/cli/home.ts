/**
 * Where the CLI finds the local stack: `AIRLOCK_HOME` (the folder holding `local.json`), else the nearest
 * `.airlock/local.json` from the working directory upwards, else the checkout the CLI itself lives in. So the
 * CLI works from any folder of the checkout, and from anywhere once it is on the PATH.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { LocalState } from "../stack.ts";
import { CliError } from "./errors.ts";

/** The checkout this module belongs to (the same two levels up from `local/cli/` and from `dist/cli/`). */
export const CHECKOUT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface Home {
  /** The state folder: `local.json`, the outbox and the push journal live here. */
  dir: string;
  /** How it was found, for messages. */
  via: "AIRLOCK_HOME" | "AIRLOCK_STATE_DIR" | "upwards" | "checkout";
}

/** The state folder to use (it may not exist yet, e.g. when no stack has ever run). */
export function findHome(
  cwd: string = process.cwd(),
  env: Record<string, string | undefined> = process.env,
  checkout: string = CHECKOUT,
): Home {
  if (env.AIRLOCK_HOME) return { dir: resolve(cwd, env.AIRLOCK_HOME), via: "AIRLOCK_HOME" };
  // The name `npm start` has always read; kept so existing scripts keep working.
  if (env.AIRLOCK_STATE_DIR) return { dir: resolve(cwd, env.AIRLOCK_STATE_DIR), via: "AIRLOCK_STATE_DIR" };
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".airlock", "local.json")))
      return { dir: join(dir, ".airlock"), via: "upwards" };
    if (dirname(dir) === dir) break;
  }
  return { dir: join(checkout, ".airlock"), via: "checkout" };
}

export function notRunning(home: Home): string {
  const where =
    home.via === "AIRLOCK_HOME" || home.via === "AIRLOCK_STATE_DIR"
      ? `${home.dir} (from ${home.via})`
      : `.airlock/local.json from this folder upwards, nor in ${home.dir}`;
  return `No local Airlock stack is running (no local.json in ${where}). Start one with \`npm start\` in the checkout, or set AIRLOCK_HOME to its .airlock folder.`;
}

function isState(value: unknown): value is LocalState {
  const v = value as Partial<LocalState> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.ingestBucket === "string" &&
    typeof v.tableName === "string" &&
    typeof v.endpoints?.s3 === "string" &&
    typeof v.endpoints?.dynamodb === "string" &&
    typeof v.api?.url === "string"
  );
}

export async function loadState(home: Home = findHome()): Promise<LocalState> {
  const file = join(home.dir, "local.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new CliError(notRunning(home));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isState(parsed))
    throw new CliError(`${file} is not a local stack state file; stop and restart \`npm start\`.`);
  return parsed;
}
