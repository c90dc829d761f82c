/**
 * Built-in engine throughput: a 1 GiB in-memory stream (the random and text data of the clamd bench, and HTML)
 * through the built-in engine alone, the SHA-256 blocklist alone, and both on one teed read as the scan stage
 * runs them; with the process's peak RSS, which must not grow with the stream.
 *
 * YARA next to it: the yara engine holds each object whole, so it is measured on objects of YARA_OBJECT_BYTES
 * (the built-in engine and YARA on one teed read), with the rule set from `BENCH_YARA_RULES` (a .yar/.yara file
 * or a directory of them, e.g. a checkout of ReversingLabs' MIT-licensed rules) or, without it, a generated set
 * of the same shape (strings, hex patterns with jumps, regular expressions, `pe` module conditions).
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createBlocklistEngine, parseBlocklist } from "../core/domain/scan/blocklist.ts";
import { createBuiltinEngine, type ScanEngine } from "../core/domain/scan/index.ts";
import { tee } from "../core/domain/scan/tee.ts";
import { compileYaraRules, createYaraEngine } from "../core/domain/scan/yara.ts";
import type { EngineResult } from "../core/domain/types.ts";
import { DEFAULT_POLICY } from "../core/runtime/env.ts";
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

/** The size of each object the YARA run scans (its engine holds an object whole). */
const YARA_OBJECT_BYTES = 64 * 1024 * 1024;

function yaraSources(path: string): string[] {
  if (!statSync(path).isDirectory()) return [readFileSync(path, "utf8")];
  return readdirSync(path).flatMap((name) => {
    const child = join(path, name);
    if (statSync(child).isDirectory()) return yaraSources(child);
    return /\.ya?ra?$/.test(name) ? [readFileSync(child, "utf8")] : [];
  });
}

/** A generated rule set shaped like public ones: mostly string and hex rules, some regex and `pe` rules. */
function generatedRules(count: number): string {
  const hex = (i: number) =>
    Array.from({ length: 12 }, (_, k) => ((i * 131 + k * 29) % 256).toString(16).padStart(2, "0")).join(" ");
  return Array.from({ length: count }, (_, i) => {
    const kind = i % 4;
    if (kind === 0)
      return `rule Gen_Strings_${i} { strings: $a = "dropper-${i}-payload" ascii wide nocase $b = "C:\\\\Users\\\\Public\\\\svc${i}.exe" condition: any of them }`;
    if (kind === 1)
      return `rule Gen_Hex_${i} { strings: $h = { ${hex(i).slice(0, 17)} [2-6] ${hex(i).slice(18)} } condition: $h }`;
    if (kind === 2)
      return `rule Gen_Regex_${i} { strings: $r = /https?://[a-z0-9]{8}.gen${i}.invalid/[a-z]{4}/ condition: $r }`;
    return `import "pe"\nrule Gen_Pe_${i} { strings: $s = "gen-${i}-mutex" condition: uint16(0) == 0x5A4D and pe.number_of_sections > 2 and $s }`;
  }).join("\n");
}

export async function benchScanYara() {
  const fromFiles = process.env.BENCH_YARA_RULES;
  const source = fromFiles ? yaraSources(fromFiles).join("\n") : generatedRules(400);
  const rssBefore = process.memoryUsage.rss();
  const started = performance.now();
  const rules = compileYaraRules(source);
  const compileSeconds = Math.round((performance.now() - started) / 10) / 100;
  const rssAfterCompile = process.memoryUsage.rss();
  const yara = createYaraEngine(rules, { maxBytes: YARA_OBJECT_BYTES, timeoutMs: 600_000 });
  const builtin = createBuiltinEngine({ ...DEFAULT_POLICY.scan });
  const blocks = [
    ["random", randomBytes(YARA_OBJECT_BYTES)],
    [
      "text",
      Buffer.concat(Array.from({ length: YARA_OBJECT_BYTES / (1024 * 1024) }, () => textBlock(1024 * 1024))),
    ],
  ] as const;
  const throughput: Record<string, Record<string, { seconds: number; mbPerSecond: number }>> = {};
  for (const [setup, engines] of [
    ["yara", [yara]],
    ["builtin + yara (one teed read)", [builtin, yara]],
  ] as const) {
    throughput[setup] = {};
    for (const [data, block] of blocks) {
      const t = performance.now();
      const results = await run([...engines], block, YARA_OBJECT_BYTES);
      const seconds = (performance.now() - t) / 1000;
      if (results.some((r) => r.status !== "clean"))
        throw new Error(`${setup} on ${data}: ${JSON.stringify(results)}`);
      (throughput[setup] as Record<string, { seconds: number; mbPerSecond: number }>)[data] = {
        seconds: Math.round(seconds * 100) / 100,
        mbPerSecond: Math.round(YARA_OBJECT_BYTES / 1e6 / seconds),
      };
    }
  }
  const result = {
    objectBytes: YARA_OBJECT_BYTES,
    rules: { from: fromFiles ? "BENCH_YARA_RULES" : "generated", version: rules.version, compileSeconds },
    throughput,
    rssMb: {
      before: Math.round(rssBefore / 1024 / 1024),
      compiledRules: Math.round((rssAfterCompile - rssBefore) / 1024 / 1024),
      after: Math.round(process.memoryUsage.rss() / 1024 / 1024),
    },
  };
  await writeResult("scan-yara", result);
  return result;
}
