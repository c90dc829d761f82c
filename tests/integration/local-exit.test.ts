/**
 * `npm start` whose emulators die: the process says so on stderr and exits non-zero, instead of staying up
 * and answering 500s. Runs the real entry point as a separate process.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";

it("exits with a non-zero status and a message when the emulators die", async () => {
  const stateDir = await mkdtemp(join(tmpdir(), "airlock-exit-"));
  const base = 20_000 + Math.floor(Math.random() * 8_000) * 5;
  try {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--import", "./tests/support/kill-emulators.ts", "local/start.ts"],
      {
        env: { ...process.env, AIRLOCK_STATE_DIR: stateDir, AIRLOCK_PORT_BASE: String(base) },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.on("exit", (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(stdout).toMatch(/Airlock local stack ready/);
    expect(stderr).toMatch(/the emulators stopped/);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}, 90_000);
