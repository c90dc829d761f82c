/**
 * `npm run bench`: runs the benchmarks and writes each result to `bench/results/<name>.json`.
 * `npm run bench -- pipeline` runs one of them.
 */
import { benchApi } from "./api.ts";
import { benchChaos } from "./chaos.ts";
import { benchClamd, CLAMD_BENCH } from "./clamd.ts";
import { benchCost } from "./cost.ts";
import { benchMetadata } from "./metadata.ts";
import { benchPipeline } from "./pipeline.ts";
import { benchPush } from "./push.ts";
import { benchScan, benchScanYara, SCAN_BENCH } from "./scan.ts";
import { benchScanRss, SCAN_RSS_BENCH } from "./scan-rss.ts";

const BENCHES: Record<string, () => Promise<object>> = {
  // PIPELINE_THREADS=on runs each stage function on a thread of its own (on 2 cores: more CPU per file, no faster).
  pipeline: () =>
    benchPipeline({
      sequential: 200,
      burst: 500,
      concurrency: 16,
      paced: { perSecond: Number(process.env.PIPELINE_RATE ?? 50), files: 500 },
      functionThreads: process.env.PIPELINE_THREADS === "on",
    }),
  api: () => benchApi({ requests: 3000, concurrency: 8 }),
  chaos: () => benchChaos(),
  clamd: () => benchClamd(CLAMD_BENCH),
  // COST_SCALE=<n> multiplies the files of each phase (default 1: 216 files).
  cost: () => benchCost({ scale: Number(process.env.COST_SCALE ?? 1) }),
  scan: async () => ({ builtin: await benchScan(SCAN_BENCH), yara: await benchScanYara() }),
  "scan-rss": () => benchScanRss(SCAN_RSS_BENCH),
  metadata: () => benchMetadata({ largeMiB: 1024, pdfPages: 2000 }),
  // PUSH_SMALL=<files> and PUSH_LARGE=<files>x<MiB> scale it down on a small machine (default 10000, 5x1024).
  push: () => {
    const [files, mib] = (process.env.PUSH_LARGE ?? "5x1024").split("x").map(Number);
    return benchPush({
      smallFiles: Number(process.env.PUSH_SMALL ?? 10_000),
      largeFiles: files ?? 5,
      largeMiB: mib ?? 1024,
    });
  },
};

const selected = process.argv.slice(2).filter((a) => !a.startsWith("-"));
for (const name of selected.length > 0 ? selected : Object.keys(BENCHES)) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`Unknown benchmark: ${name} (known: ${Object.keys(BENCHES).join(", ")})`);
    process.exit(1);
  }
  console.log(`# ${name}`);
  console.log(JSON.stringify(await bench(), null, 2));
}
process.exit(0);
