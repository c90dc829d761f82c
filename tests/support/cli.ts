/** Runs the `airlock` command as a user does: a separate process, its own environment, exit code and output. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { resolve } from "node:path";

export const BIN = process.env.AIRLOCK_TEST_BIN ?? resolve("local/bin/airlock.mjs");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Environment without anything that would point the CLI at another stack. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.AIRLOCK_HOME;
  delete env.AIRLOCK_STATE_DIR;
  delete env.AIRLOCK_DEBUG;
  delete env.AIRLOCK_CLIENT_SECRET;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function airlock(
  args: string[],
  options: { home?: string; cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: options.cwd,
        env: cleanEnv({ AIRLOCK_HOME: options.home, ...options.env }),
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Starts the CLI without waiting for it (to kill it half way). */
export function startAirlock(args: string[], options: { home?: string; env?: Record<string, string> } = {}) {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    env: cleanEnv({ AIRLOCK_HOME: options.home, ...options.env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += String(d);
  });
  child.stderr?.on("data", (d) => {
    stderr += String(d);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on("exit", (code, signal) => r({ code, signal })),
  );
  return { child, exited, output: () => ({ stdout, stderr }) };
}

/** A Node stack trace line, which no input should ever make the CLI print. */
export const STACK_LINE = /^\s+at .+[:(]\d+/m;
