/**
 * Built-in engine throughput: a 1 GiB in-memory stream (the random and text data of the clamd bench, and HTML)
 * through the built-in engine alone, the SHA-256 blocklist alone, and both on one teed read as the scan stage
 * runs them; with the process's peak RSS, which must not grow with the stream.
 */
import { randomBytes } from "node:crypto";
import { DEFAULT_POLICY } from "../shared/config/env.ts";
import type { EngineResult } from "../shared/domain/types.ts";
import { createBlocklistEngine, parseBlocklist } from "../shared/scan/blocklist.ts";
import { createBuiltinEngine, type ScanEngine } from "../shared/scan/index.ts";
import { tee } from "../shared/scan/tee.ts";
import { repeat, textBlock } from "./clamd.ts";
import { writeResult } from "./stats.ts";

const GIB = 1024 * 1024 * 1024;

async function run(engines: ScanEngine[], block: Buffer, bytes: number): Promise<EngineResult[]> {
  const { branches } = tee(repeat(block, bytes), engines.length);
  return Promise.all(
    engines.map(async (engine, i) => {
      const branch = branches[i];
      if (!branch) throw new Error("missing branch");
      try {
        return await engine.scan(branch.stream, { key: "bench", size: bytes });
      } finally {
        branch.detach();
      }
    }),
  );
}

export async function benchScan(options: { bytes: number }) {
  const builtin = createBuiltinEngine({ ...DEFAULT_POLICY.scan, maxExpandedBytes: 2 * options.bytes });
  const blocklist = createBlocklistEngine(parseBlocklist("0".repeat(64)));
  const blocks = [
    ["random", randomBytes(64 * 1024 * 1024)],
    ["text", Buffer.concat(Array.from({ length: 64 }, () => textBlock(1024 * 1024)))],
    // Markup takes the regex path (script, handlers, entities) on every chunk, not only the native EICAR search.
    [
      "html",
      Buffer.from(
        `<!doctype html><html><body>${'<p class="row">An ordinary paragraph of a long report, with <b>bold</b> words and a <a href="https://example.com/">link</a>.</p>\n'.repeat(500_000)}`.slice(
          0,
          64 * 1024 * 1024,
        ),
        "latin1",
      ),
    ],
  ] as const;
  const setups: [string, ScanEngine[]][] = [
    ["builtin", [builtin]],
    ["sha256 blocklist", [blocklist]],
    ["builtin + sha256 blocklist (one teed read)", [builtin, blocklist]],
  ];
  const rssBefore = process.memoryUsage.rss();
  let peakRss = rssBefore;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 50);
  const throughput: Record<string, Record<string, { seconds: number; mbPerSecond: number }>> = {};
  try {
    for (const [setup, engines] of setups) {
      throughput[setup] = {};
      for (const [data, block] of blocks) {
        const started = performance.now();
        const results = await run(engines, block, options.bytes);
        const seconds = (performance.now() - started) / 1000;
        if (results.some((r) => r.status !== "clean"))
          throw new Error(`${setup} on ${data}: ${JSON.stringify(results)}`);
        (throughput[setup] as Record<string, { seconds: number; mbPerSecond: number }>)[data] = {
          seconds: Math.round(seconds * 100) / 100,
          mbPerSecond: Math.round(options.bytes / 1e6 / seconds),
        };
      }
    }
  } finally {
    clearInterval(sampler);
  }
  const result = {
    bytes: options.bytes,
    chunkBytes: 64 * 1024,
    throughput,
    rssMb: { before: Math.round(rssBefore / 1024 / 1024), peak: Math.round(peakRss / 1024 / 1024) },
  };
  await writeResult("scan", result);
  return result;
}

export const SCAN_BENCH = { bytes: GIB };
