/**
 * Drop → verdict latency and throughput of the whole pipeline on the local stack. "Final" is the moment the
 * verdict notification reaches the outbox: validated, scanned, described, promoted and notified.
 *
 * Three phases: files one after another (latency), a burst with a fixed number in flight (the throughput the
 * stack reaches), and drops paced at a fixed rate whatever happens (the latency at that rate, measured from each
 * drop's scheduled moment, so that a stack that falls behind shows it). `PIPELINE_THREADS=on` runs each stage
 * function on a thread of its own, as each Lambda function has its own instances; on a 2-core machine that costs
 * more CPU per file (a JIT and a heap per thread) than the parallelism gains, so by default they share one.
 */
import { loadavg } from "node:os";
import { describeKey } from "../core/domain/keys.ts";
import { type LocalNotification, startLocalStack } from "../local/stack.ts";
import { clientsFor } from "../tests/support/local.ts";
import { summarize, writeResult } from "./stats.ts";

export interface PipelineBenchOptions {
  sequential: number;
  burst: number;
  concurrency: number;
  paced: { perSecond: number; files: number };
  functionThreads: boolean;
}

/** CPU of the whole process (every thread: emulators, functions, load generator) since `from`, in seconds. */
const cpuSince = (from: NodeJS.CpuUsage) => {
  const cpu = process.cpuUsage(from);
  return (cpu.user + cpu.system) / 1e6;
};
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const load = () => loadavg().map((l) => round(l, 2));

export async function benchPipeline(options: PipelineBenchOptions) {
  const waiting = new Map<string, (at: number) => void>();
  const stack = await startLocalStack({
    sweepIntervalMs: 3_600_000,
    functionThreads: options.functionThreads,
    onNotification: (n: LocalNotification) => waiting.get(n.attributes.fileId ?? "")?.(performance.now()),
  });
  const io = clientsFor(stack);
  const body = (i: number) => `Quarterly report line ${i}\nrevenue,cost\n${i},${i * 2}\n`;
  const verdictOf = (fileId: string) => new Promise<number>((resolve) => waiting.set(fileId, resolve));

  /** Drops one file; resolves with the milliseconds from `from` (default: the drop) to its verdict. */
  const one = async (prefix: string, i: number, from?: number) => {
    const key = `drops/bench/${prefix}-${i}.txt`;
    const done = verdictOf(describeKey(stack.state.ingestBucket, key).fileId);
    const start = from ?? performance.now();
    await io.drop(key, body(i), "text/plain");
    return (await done) - start;
  };

  try {
    for (let i = 0; i < 20; i++) await one("warmup", i);
    const latencies: number[] = [];
    for (let i = 0; i < options.sequential; i++) latencies.push(await one("seq", i));

    const burstLatencies: number[] = [];
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < options.burst) burstLatencies.push(await one("burst", next++));
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const burstCpu = cpuSince(cpuBefore);
    const burstLoad = load();
    await stack.idle(60_000);

    // Paced: drop i is due at start + i / rate, and its latency counts from then.
    const { perSecond, files } = options.paced;
    const pacedLatencies: Promise<number>[] = [];
    const pacedStart = performance.now();
    const pacedCpu = process.cpuUsage();
    for (let i = 0; i < files; i++) {
      const due = pacedStart + (i * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pacedLatencies.push(one("paced", i, due));
    }
    const dropSeconds = (performance.now() - pacedStart) / 1000;
    const paced = await Promise.all(pacedLatencies);
    const pacedSeconds = (performance.now() - pacedStart) / 1000;

    const result = {
      functionThreads: options.functionThreads,
      sequential: { files: options.sequential, latencyMs: summarize(latencies) },
      burst: {
        files: options.burst,
        concurrency: options.concurrency,
        seconds: round(seconds, 2),
        filesPerSecond: round(options.burst / seconds),
        latencyMs: summarize(burstLatencies),
        cpuMsPerFile: round((burstCpu / options.burst) * 1000),
        coresBusy: round(burstCpu / seconds, 2),
        loadAverage: burstLoad,
      },
      paced: {
        files,
        targetPerSecond: perSecond,
        droppedPerSecond: round(files / dropSeconds),
        /** Files over the time from the first drop's due moment to the last verdict. */
        completedPerSecond: round(files / pacedSeconds),
        latencyMs: summarize(paced),
        cpuMsPerFile: round((cpuSince(pacedCpu) / files) * 1000),
        loadAverage: load(),
      },
    };
    await writeResult("pipeline", result);
    return result;
  } finally {
    await stack.stop();
  }
}
