/**
 * `npm start` as a separate process: its health endpoint answers without a token, and a second stack on the
 * same ports says which port is taken and how to move instead of failing with a stack trace.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const base = 20_000 + Math.floor(Math.random() * 8_000) * 5;
let first: ChildProcess;
let stateDir: string;

function start(dir: string) {
  const child = spawn(process.execPath, ["--import", "tsx", "local/start.ts"], {
    env: { ...process.env, AIRLOCK_STATE_DIR: dir, AIRLOCK_PORT_BASE: String(base) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = { stdout: "", stderr: "" };
  child.stdout?.on("data", (c: Buffer) => {
    out.stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    out.stderr += c.toString();
  });
  return { child, out };
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "airlock-start-"));
  const started = start(stateDir);
  first = started.child;
  const deadline = Date.now() + 60_000;
  while (!/local stack ready/.test(started.out.stdout)) {
    if (Date.now() > deadline || first.exitCode !== null) throw new Error(`not ready: ${started.out.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 90_000);

afterAll(async () => {
  first?.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 500));
  await rm(stateDir, { recursive: true, force: true });
});

describe("npm start", () => {
  it("answers its health endpoint without a token", async () => {
    const res = await fetch(`http://127.0.0.1:${base + 3}/_airlock/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; services: Record<string, string> };
    expect(body.status).toBe("running");
    expect(Object.keys(body.services).sort()).toEqual(
      ["console", "dynamodb", "pipeline", "s3", "sns", "sqs"].sort(),
    );
  });

  it("says which port is taken and how to move when a second stack starts on the same ports", async () => {
    const dir = await mkdtemp(join(tmpdir(), "airlock-start-2-"));
    try {
      const second = start(dir);
      const code = await new Promise<number | null>((resolve) => second.child.on("exit", resolve));
      expect(code).toBe(1);
      expect(second.out.stderr).toContain(`${base + 1} (s3)`);
      expect(second.out.stderr).toMatch(/AIRLOCK_PORT_BASE=\d+ npm start/);
      expect(second.out.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
