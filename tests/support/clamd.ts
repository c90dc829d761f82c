/**
 * Runs a real clamd (Debian's `clamav-daemon`) for tests: its own config in a temporary directory, TCP on a free
 * loopback port and a Unix socket, and a signature database written here (no freshclam, no internet): an `.ndb`
 * with the EICAR test string and an `.hdb` with the md5 of a generated sample that nothing else would flag.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClamavEngine } from "../../core/adapters/clamav.ts";
import { EICAR } from "../fixtures/malicious.ts";

const CANDIDATES = ["/usr/sbin/clamd", "/usr/bin/clamd", "/usr/local/sbin/clamd"];

/** The clamd binary (`CLAMD_BINARY` if set), or a loud error saying how to install it: no silent skips. */
export function clamdBinary(explicit = process.env.CLAMD_BINARY): string {
  const candidates = explicit ? [explicit] : CANDIDATES;
  const found = candidates.find((path) => existsSync(path));
  if (found) return found;
  throw new Error(
    [
      "",
      "=".repeat(78),
      `ClamAV's clamd is NOT INSTALLED (looked for ${candidates.join(", ")}):`,
      "the ClamAV engine tests need a real daemon. Install it (Debian/Ubuntu):",
      "    DEBIAN_FRONTEND=noninteractive apt-get install -y clamav-daemon",
      "or set CLAMD_BINARY to its path. .ci/run installs it before npm test.",
      "=".repeat(78),
    ].join("\n"),
  );
}

/** A plain-text sample (clean for the built-in engine) that only the `.hdb` below identifies. */
export function hdbSample(bytes = 200 * 1024): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const line = `ledger row ${i},${(i * 7919) % 10007},settled\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join("").slice(0, bytes), "latin1");
}

export const SIGNATURES = {
  eicar: "Test.Airlock.Eicar",
  sample: "Test.Airlock.HashedSample",
};

/** How clamd names a signature from a database it cannot verify (ours are unsigned). */
export const reported = (signature: string) => `${signature}.UNOFFICIAL`;

export interface ClamdOptions {
  /** clamd's StreamMaxLength, in bytes. */
  streamMaxLength?: number;
  /** clamd's MaxFileSize and MaxScanSize, in bytes (AlertExceedsMax is on). */
  maxFileSize?: number;
}

export interface TestClamd {
  tcp: string;
  socket: string;
  streamMaxLength: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startClamd(options: ClamdOptions = {}): Promise<TestClamd> {
  const binary = clamdBinary();
  const dir = await mkdtemp(join(tmpdir(), "airlock-clamd-"));
  const db = join(dir, "db");
  await mkdir(db);
  const sample = hdbSample();
  await writeFile(
    join(db, "airlock-test.ndb"),
    `${SIGNATURES.eicar}:0:*:${Buffer.from(EICAR).toString("hex")}\n`,
  );
  await writeFile(
    join(db, "airlock-test.hdb"),
    `${createHash("md5").update(sample).digest("hex")}:${sample.length}:${SIGNATURES.sample}\n`,
  );
  const streamMaxLength = options.streamMaxLength ?? 4 * 1024 * 1024;
  const maxFileSize = options.maxFileSize ?? streamMaxLength;
  const port = await freePort();
  const socket = join(dir, "clamd.sock");
  const config = join(dir, "clamd.conf");
  await writeFile(
    config,
    [
      "Foreground yes",
      `LogFile ${join(dir, "clamd.log")}`,
      `PidFile ${join(dir, "clamd.pid")}`,
      `DatabaseDirectory ${db}`,
      `TemporaryDirectory ${dir}`,
      `LocalSocket ${socket}`,
      "TCPAddr 127.0.0.1",
      `TCPSocket ${port}`,
      `StreamMaxLength ${streamMaxLength}`,
      `MaxFileSize ${maxFileSize}`,
      `MaxScanSize ${maxFileSize}`,
      "AlertExceedsMax yes",
      "SelfCheck 3600",
      "",
    ].join("\n"),
  );

  const child: ChildProcess = spawn(binary, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", (code) => {
      exited = code;
      resolve();
    }),
  );

  const stop = async () => {
    if (exited === undefined) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exit;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  // Ready when it answers zPING; loading a custom database takes milliseconds, a busy machine longer.
  const probe = createClamavEngine({ endpoint: `tcp://127.0.0.1:${port}`, streamMaxBytes: streamMaxLength });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await probe.ping();
      break;
    } catch (error) {
      if (exited !== undefined || Date.now() > deadline) {
        const log = await readFile(join(dir, "clamd.log"), "utf8").catch(() => "");
        await stop();
        throw new Error(`clamd did not become ready (${String(error)}):\n${stderr}\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { tcp: `tcp://127.0.0.1:${port}`, socket, streamMaxLength, stop };
}
