/**
 * Drop → verdict latency and throughput of the whole pipeline on the local stack. "Final" is the moment the
 * verdict notification reaches the outbox: validated, scanned, described, promoted and notified.
 */
import { loadavg } from "node:os";
import { describeKey } from "../core/domain/keys.ts";
import { type LocalNotification, startLocalStack } from "../local/stack.ts";
import { clientsFor } from "../tests/support/local.ts";
import { summarize, writeResult } from "./stats.ts";

export async function benchPipeline(options: { sequential: number; burst: number; concurrency: number }) {
  const waiting = new Map<string, (at: number) => void>();
  const stack = await startLocalStack({
    sweepIntervalMs: 3_600_000,
    onNotification: (n: LocalNotification) => waiting.get(n.attributes.fileId ?? "")?.(performance.now()),
  });
  const io = clientsFor(stack);
  const body = (i: number) => `Quarterly report line ${i}\nrevenue,cost\n${i},${i * 2}\n`;
  const verdictOf = (fileId: string) => new Promise<number>((resolve) => waiting.set(fileId, resolve));

  const one = async (prefix: string, i: number) => {
    const key = `drops/bench/${prefix}-${i}.txt`;
    const done = verdictOf(describeKey(stack.state.ingestBucket, key).fileId);
    const start = performance.now();
    await io.drop(key, body(i), "text/plain");
    return (await done) - start;
  };

  try {
    for (let i = 0; i < 10; i++) await one("warmup", i);
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
    // CPU of the whole process (every thread: emulators, stages, load generator), a figure less noisy than
    // throughput on a shared machine.
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const result = {
      sequential: { files: options.sequential, latencyMs: summarize(latencies) },
      burst: {
        files: options.burst,
        concurrency: options.concurrency,
        seconds: Math.round(seconds * 100) / 100,
        filesPerSecond: Math.round((options.burst / seconds) * 10) / 10,
        latencyMs: summarize(burstLatencies),
        cpuMsPerFile: Math.round((cpuSeconds / options.burst) * 10_000) / 10,
        coresBusy: Math.round((cpuSeconds / seconds) * 100) / 100,
        loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
      },
    };
    await writeResult("pipeline", result);
    return result;
  } finally {
    await stack.stop();
  }
}
