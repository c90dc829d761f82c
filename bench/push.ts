/**
 * `npm run bench -- push`: `airlock push` as a separate process into the local stack — a tree of many small
 * files, a few large ones, and a run killed at 50 % of its uploads then resumed. Files per second, MB/s
 * (10^6 bytes) and the CLI's peak RSS; for the resume, how many objects were sent again (counted by a proxy in
 * front of the S3 emulator) against how many were missing.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { PushSummary } from "../local/push/run.ts";
import { startLocalStack } from "../local/stack.ts";
import { startFaultProxy } from "../tests/support/fault-proxy.ts";
import { writeResult } from "./stats.ts";

const BIN = resolve("local/bin/airlock.mjs");

export interface PushBenchOptions {
  smallFiles: number;
  largeFiles: number;
  largeMiB: number;
}

interface Timed {
  summary: PushSummary;
  seconds: number;
  peakRssMiB: number;
}

/** Peak resident memory of a process so far (VmHWM), in MiB; 0 once it has exited. */
async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

function runCli(args: string[], home: string, onStart?: (pid: number, kill: () => void) => void) {
  return new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
    seconds: number;
    peakRssMiB: number;
  }>((done) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, AIRLOCK_HOME: home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let peak = 0;
    child.stdout.on("data", (d) => {
      stdout += String(d);
    });
    child.stderr.on("data", (d) => {
      stderr += String(d);
    });
    const sampler = setInterval(async () => {
      if (child.pid) peak = Math.max(peak, await peakRss(child.pid));
    }, 50);
    onStart?.(child.pid as number, () => child.kill("SIGKILL"));
    child.on("exit", (code) => {
      clearInterval(sampler);
      done({ code, stdout, stderr, seconds: (performance.now() - started) / 1000, peakRssMiB: peak });
    });
  });
}

async function push(args: string[], home: string): Promise<Timed> {
  const out = await runCli(["push", ...args, "--json"], home);
  if (out.code !== 0) throw new Error(`airlock push exited ${out.code}: ${out.stderr}`);
  return { summary: JSON.parse(out.stdout) as PushSummary, seconds: out.seconds, peakRssMiB: out.peakRssMiB };
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
function figures(t: Timed) {
  return {
    files: t.summary.files,
    uploaded: t.summary.uploaded,
    bytes: t.summary.bytesUploaded,
    seconds: round(t.seconds, 2),
    filesPerSecond: round(t.summary.files / t.seconds),
    MBps: round(t.summary.bytesUploaded / 1e6 / t.seconds),
    peakRssMiB: t.peakRssMiB,
  };
}

/** Small text files of 1–8 KiB, each different, 100 to a folder. */
async function smallTree(root: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const folder = join(root, `d${String(Math.floor(i / 100)).padStart(3, "0")}`);
    if (i % 100 === 0) await mkdir(folder, { recursive: true });
    const line = `record ${i} ${randomBytes(8).toString("hex")}\n`;
    await writeFile(join(folder, `f${i}.txt`), line.repeat(Math.ceil((1024 + (i % 8) * 1024) / line.length)));
  }
}

/** Large files written from one random block (fast to make), each starting with its own bytes. */
async function largeTree(root: string, count: number, mib: number): Promise<void> {
  await mkdir(root, { recursive: true });
  const block = randomBytes(4 * 1024 * 1024);
  for (let i = 0; i < count; i++) {
    const handle = await open(join(root, `large-${i}.bin`), "w");
    await handle.write(randomBytes(4096));
    for (let written = 4096; written < mib * 1024 * 1024; written += block.length) {
      await handle.write(block, 0, Math.min(block.length, mib * 1024 * 1024 - written));
    }
    await handle.close();
  }
}

function uploadedInJournal(file: string): number {
  try {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      return Number(
        (db.prepare("SELECT COUNT(*) AS n FROM files WHERE outcome = 'uploaded'").get() as { n: number }).n,
      );
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

export async function benchPush(options: PushBenchOptions) {
  const dir = await mkdtemp(join(tmpdir(), "airlock-bench-push-"));
  const home = join(dir, "home");
  const stack = await startLocalStack({ stateFile: join(home, "local.json"), sweepIntervalMs: 3_600_000 });
  try {
    const small = join(dir, "small");
    await smallTree(small, options.smallFiles);
    const smallRun = figures(await push([small, "--system", "bench-small"], home));
    console.error(`small files: ${JSON.stringify(smallRun)}`);

    // The same tree for another system (so nothing is a duplicate), killed at 50 % of its uploads.
    const proxy = await startFaultProxy(stack.state.endpoints.s3);
    const resumeHome = join(dir, "resume-home");
    await mkdir(resumeHome, { recursive: true });
    await writeFile(
      join(resumeHome, "local.json"),
      JSON.stringify({ ...stack.state, endpoints: { ...stack.state.endpoints, s3: proxy.url } }),
    );
    const journal = join(resumeHome, "push.sqlite");
    const half = Math.floor(options.smallFiles / 2);
    const killed = await runCli(
      ["push", small, "--system", "bench-resume", "--json"],
      resumeHome,
      (_pid, kill) => {
        const poll = setInterval(() => {
          if (uploadedInJournal(journal) >= half) {
            clearInterval(poll);
            kill();
          }
        }, 10);
      },
    );
    const landedAtKill = uploadedInJournal(journal);
    const putsBefore = proxy.requests.filter((r) => r.method === "PUT").length;
    const resumed = await push(["--resume", "latest"], resumeHome);
    const putsAfter = proxy.requests.filter((r) => r.method === "PUT").length - putsBefore;
    await proxy.stop();
    const resume = {
      killedAfterSeconds: round(killed.seconds, 2),
      landedAtKill,
      missing: options.smallFiles - landedAtKill,
      resumedUploaded: resumed.summary.uploaded,
      resumedRecovered: resumed.summary.recovered,
      resumedEarlier: resumed.summary.earlier,
      putsSentOnResume: putsAfter,
      resumeSeconds: round(resumed.seconds, 2),
    };
    console.error(`resume: ${JSON.stringify(resume)}`);

    const large = join(dir, "large");
    await largeTree(large, options.largeFiles, options.largeMiB);
    const largeRun = figures(await push([large, "--system", "bench-large"], home));
    console.error(`large files: ${JSON.stringify(largeRun)}`);

    const result = {
      command: "npm run bench -- push",
      small: { ...smallRun, fileBytes: "1–8 KiB" },
      large: { ...largeRun, fileMiB: options.largeMiB },
      resume,
    };
    await writeResult("push", result);
    return result;
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
