/**
 * The README's curl walkthrough, run as written by bash from a temporary folder against a local stack: the
 * commands a newcomer copies must work, in order, with the answers the comments promise.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";

const ROOT = resolve(import.meta.dirname, "../..");

/** The first bash block after the walkthrough's heading sentence. */
function walkthrough(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const from = readme.indexOf("Against `npm start` (the local gateway verifies");
  const block = /```bash\n([\s\S]*?)```/.exec(readme.slice(from));
  if (from < 0 || !block?.[1]) throw new Error("the README's curl walkthrough is missing");
  return block[1];
}

let stack: LocalStack;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-readme-"));
  const home = join(dir, "state");
  await mkdir(home, { recursive: true });
  stack = await startLocalStack({ stateFile: join(home, "local.json"), sweepIntervalMs: 3_600_000 });
  process.env.AIRLOCK_WALKTHROUGH_HOME = home;
});
afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("README: the curl walkthrough", () => {
  it("runs as written from an empty folder and shows a verified file, its bytes, a delete and a 401", async () => {
    const work = join(dir, "work");
    await mkdir(work);
    const { stdout } = await promisify(execFile)("bash", ["-euo", "pipefail", "-c", walkthrough()], {
      cwd: work,
      timeout: 60_000,
      env: {
        ...process.env,
        AIRLOCK: ROOT,
        AIRLOCK_HOME: process.env.AIRLOCK_WALKTHROUGH_HOME,
        API: stack.state.api.url,
      },
    });
    const lines = stdout.trim().split("\n");
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({ status: "running" });
    const verdict = lines.find((l) => l.startsWith('{"status"') && l.includes("sha256"));
    expect(JSON.parse(verdict ?? "{}")).toMatchObject({ status: "VERIFIED", reasons: [] });
    expect(stdout).toContain("hello from curl");
    expect(lines.slice(-2)).toEqual(["204", "401"]);
  }, 90_000);
});
