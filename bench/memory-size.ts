/**
 * A memory size per Lambda function, from measured invocations: the cheapest size whose modeled p99 duration
 * stays within the function's share of the drop → verdict target.
 *
 * The model. Lambda gives a function CPU in proportion to its memory: 1,769 MB is one full vCPU, and below it a
 * function gets that fraction of a vCPU, so its CPU-bound part takes 1,769 / size times as long. Time spent
 * waiting for AWS (I/O) does not depend on the size. Above 1,769 MB a second vCPU arrives, which a single
 * JavaScript thread does not use: no faster. So, per invocation,
 *
 *     duration(size) = wait + cpu × 1,769 / min(size, 1,769)
 *
 * with `cpu` the CPU time of the function's thread during the invocation and `wait` the rest of its wall-clock
 * time, both measured on the local stack (each function on its own thread, so its CPU time is its own).
 * Assumptions, stated plainly: a core of the measuring machine is as fast as a Lambda vCPU; the waits are the
 * local emulators' over loopback (AWS's own latencies, a few ms for DynamoDB and tens for S3, are longer: they add
 * the same at every size, so they move the cost, not the size at which the CPU part fits); the measuring machine
 * was otherwise idle enough that `wait` is waiting rather than queueing for a core (on a busy machine it is an
 * upper bound). Billed duration is rounded up to the millisecond, as Lambda bills it.
 */

import { percentile } from "./stats.ts";

export const FULL_VCPU_MB = 1769;

/** The sizes compared (Lambda allows any size from 128 MB to 10,240 MB in 1 MB steps). */
export const CANDIDATE_SIZES_MB = [128, 256, 384, 512, 640, 768, 1024, 1280, 1536, 1769, 2048, 3008] as const;

/** Node's runtime and the Lambda runtime client besides the V8 heap, added to the heap measured (RSS floor). */
export const RUNTIME_BASELINE_MB = 64;

/**
 * Of the 1 s p99 drop → verdict target, what one invocation of each function may take at p99. The three stages
 * run side by side on the fan-out (the last to finish settles the verdict inside its invocation), so each may
 * take the target less the delivery: S3's event to SNS, SNS to SQS, the event source mapping's poll, and the
 * verdict's notification; 500 ms are kept for those. The dead-letter function is not on that path.
 */
export const TARGET_P99_MS = 1000;
export const DELIVERY_RESERVE_MS = 500;
export const P99_SHARE_MS: Record<string, number> = {
  "airlock-validate": TARGET_P99_MS - DELIVERY_RESERVE_MS,
  "airlock-scan": TARGET_P99_MS - DELIVERY_RESERVE_MS,
  "airlock-metadata": TARGET_P99_MS - DELIVERY_RESERVE_MS,
};

/**
 * Memory a function's paths need that the small-file mix does not exercise, added to its floor. The metadata
 * stage reads a PDF up to `textPdfMaxBytes` (50 MiB) into one buffer for pdf.js, whose parse of a 10 MiB,
 * 2,000-page PDF took +71 MiB (`npm run bench -- metadata`). The scan stage with its default engines streams;
 * with YARA rules it holds them (+104 MB) and objects up to `yaraMaxBytes`: size it by the README's YARA section.
 */
export const EXTRA_PEAK_MB: Record<string, { mb: number; why: string }> = {
  "airlock-metadata": {
    mb: 50 + 71,
    why: "a PDF of textPdfMaxBytes (50 MiB) in one buffer + pdf.js (+71 MiB)",
  },
};

export interface InvocationSample {
  wallMs: number;
  cpuMs: number;
  heapMb: number;
}

export interface SizeFigures {
  memoryMb: number;
  p50Ms: number;
  p99Ms: number;
  /** GB-seconds per million invocations (billed: each duration rounded up to the ms). */
  gbSecondsPerMillion: number;
  usdPerMillion: number;
}

export interface SizeRecommendation {
  invocations: number;
  measured: { p50Ms: number; p99Ms: number; cpuShare: number; peakHeapMb: number };
  p99ShareMs: number;
  /** The smallest size that holds the measured heap, the runtime and the function's other paths. */
  floorMb: number;
  /** The cheapest size within the share, or undefined when none of the candidates is. */
  recommendedMb?: number;
  atRecommended?: SizeFigures;
  sizes: SizeFigures[];
}

export function modeledMs(sample: Pick<InvocationSample, "wallMs" | "cpuMs">, memoryMb: number): number {
  const cpu = Math.min(Math.max(sample.cpuMs, 0), sample.wallMs);
  return sample.wallMs - cpu + (cpu * FULL_VCPU_MB) / Math.min(memoryMb, FULL_VCPU_MB);
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export function recommendSize(
  samples: InvocationSample[],
  options: {
    p99ShareMs: number;
    usdPerGbSecond: number;
    usdPerRequest: number;
    sizes?: readonly number[];
    /** Memory the function's other paths need besides what the samples showed (EXTRA_PEAK_MB). */
    extraPeakMb?: number;
  },
): SizeRecommendation {
  const sizes = options.sizes ?? CANDIDATE_SIZES_MB;
  const walls = samples.map((s) => s.wallMs).sort((a, b) => a - b);
  const cpu = samples.reduce((a, s) => a + Math.min(s.cpuMs, s.wallMs), 0);
  const wall = samples.reduce((a, s) => a + s.wallMs, 0);
  const peakHeapMb = samples.reduce((a, s) => Math.max(a, s.heapMb), 0);
  const floorMb = peakHeapMb + RUNTIME_BASELINE_MB + (options.extraPeakMb ?? 0);
  const figures = sizes.map((memoryMb): SizeFigures => {
    const modeled = samples.map((s) => modeledMs(s, memoryMb)).sort((a, b) => a - b);
    const billedSeconds = modeled.reduce((a, ms) => a + Math.ceil(ms), 0) / 1000;
    const gbSecondsPerMillion = ((memoryMb / 1024) * billedSeconds * 1_000_000) / Math.max(1, samples.length);
    return {
      memoryMb,
      p50Ms: round(percentile(modeled, 50)),
      p99Ms: round(percentile(modeled, 99)),
      gbSecondsPerMillion: Math.round(gbSecondsPerMillion),
      usdPerMillion: round(
        gbSecondsPerMillion * options.usdPerGbSecond + 1_000_000 * options.usdPerRequest,
        2,
      ),
    };
  });
  const fitting = figures.filter((f) => f.memoryMb >= floorMb && f.p99Ms <= options.p99ShareMs);
  const cheapest = fitting.reduce<SizeFigures | undefined>(
    (best, f) => (best === undefined || f.usdPerMillion < best.usdPerMillion ? f : best),
    undefined,
  );
  return {
    invocations: samples.length,
    measured: {
      p50Ms: round(percentile(walls, 50)),
      p99Ms: round(percentile(walls, 99)),
      cpuShare: wall > 0 ? round(cpu / wall, 3) : 0,
      peakHeapMb: round(peakHeapMb),
    },
    p99ShareMs: options.p99ShareMs,
    floorMb: Math.ceil(floorMb),
    ...(cheapest ? { recommendedMb: cheapest.memoryMb, atRecommended: cheapest } : {}),
    sizes: figures,
  };
}
