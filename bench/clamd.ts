/**
 * clamd INSTREAM throughput through the ClamAV engine: a 1 GiB in-memory stream (random bytes, then text) sent
 * to a real clamd started with its own config (StreamMaxLength and MaxFileSize raised to fit) and the test
 * signature database, plus the latency of scanning small files one after another. The database holds two
 * signatures: a full official database adds matching cost, so these figures are an upper bound for clamd.
 */
import { randomBytes } from "node:crypto";
import { createClamavEngine } from "../core/adapters/clamav.ts";
import { startClamd } from "../tests/support/clamd.ts";
import { summarize, writeResult } from "./stats.ts";

const GIB = 1024 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** `total` bytes as CHUNK-sized views over one repeated block, so the stream itself costs nothing. */
export async function* repeat(block: Buffer, total: number): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < total; ) {
    for (let offset = 0; offset < block.length && sent < total; offset += CHUNK) {
      const piece = block.subarray(offset, Math.min(offset + CHUNK, offset + total - sent));
      sent += piece.length;
      yield piece;
    }
  }
}

export function textBlock(bytes: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const line = `2026-11-22,invoice ${i},customer ${i % 977},${(i * 37) % 10000}.00,EUR,paid\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join("").slice(0, bytes), "latin1");
}

export async function benchClamd(options: { bytes: number; smallFiles: number }) {
  const clamd = await startClamd({ streamMaxLength: options.bytes + 1024 * 1024 });
  const engine = createClamavEngine({
    endpoint: clamd.tcp,
    streamMaxBytes: clamd.streamMaxLength,
    timeoutMs: 30 * 60_000,
    idleTimeoutMs: 10 * 60_000,
  });
  const blocks = [
    ["random", randomBytes(64 * 1024 * 1024)],
    ["text", Buffer.concat(Array.from({ length: 64 }, () => textBlock(1024 * 1024)))],
  ] as const;
  // The client must not buffer the stream: RSS while streaming stays near what it was before.
  (globalThis as { gc?: () => void }).gc?.();
  const rssBefore = process.memoryUsage.rss();
  let peakRss = rssBefore;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 50);
  try {
    const version = await engine.version();
    const throughput: Record<
      string,
      { bytes: number; seconds: number; mbPerSecond: number; status: string }
    > = {};
    for (const [name, block] of blocks) {
      const started = performance.now();
      const result = await engine.scan(repeat(block, options.bytes), { key: name, size: options.bytes });
      const seconds = (performance.now() - started) / 1000;
      if (result.status !== "clean")
        throw new Error(`clamd did not finish the ${name} stream: ${JSON.stringify(result)}`);
      throughput[name] = {
        bytes: options.bytes,
        seconds: Math.round(seconds * 100) / 100,
        mbPerSecond: Math.round(options.bytes / 1e6 / seconds),
        status: result.status,
      };
    }
    const small = textBlock(4096);
    const latencies: number[] = [];
    for (let i = 0; i < options.smallFiles; i++) {
      const started = performance.now();
      const result = await engine.scan(repeat(small, small.length), { key: "small", size: small.length });
      if (result.status !== "clean") throw new Error(`small file not clean: ${JSON.stringify(result)}`);
      latencies.push(performance.now() - started);
    }
    const result = {
      clamd: version,
      signatures: 2,
      chunkBytes: CHUNK,
      throughput,
      smallFile4KiB: { latencyMs: summarize(latencies) },
      rssMb: {
        beforeStreaming: Math.round(rssBefore / 1024 / 1024),
        peak: Math.round(peakRss / 1024 / 1024),
      },
    };
    await writeResult("clamd", result);
    return result;
  } finally {
    clearInterval(sampler);
    await clamd.stop();
  }
}

export const CLAMD_BENCH = { bytes: GIB, smallFiles: 200 };
