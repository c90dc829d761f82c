import { describe, expect, it } from "vitest";
import { FULL_VCPU_MB, modeledMs, RUNTIME_BASELINE_MB, recommendSize } from "../../../bench/memory-size.ts";

const prices = { usdPerGbSecond: 0.0000133334, usdPerRequest: 0.2 / 1_000_000 };

describe("Memory-size model", () => {
  it("slows the CPU part in proportion below one vCPU and leaves the waiting as it is", () => {
    const sample = { wallMs: 100, cpuMs: 40 };
    expect(modeledMs(sample, FULL_VCPU_MB)).toBeCloseTo(100);
    expect(modeledMs(sample, FULL_VCPU_MB / 2)).toBeCloseTo(60 + 80);
    expect(modeledMs(sample, 128)).toBeCloseTo(60 + (40 * FULL_VCPU_MB) / 128);
    // A second vCPU does not make one JavaScript thread faster.
    expect(modeledMs(sample, 3008)).toBeCloseTo(100);
    // CPU time above the wall-clock time (overlapping invocations) counts as all CPU, no more.
    expect(modeledMs({ wallMs: 10, cpuMs: 25 }, FULL_VCPU_MB / 2)).toBeCloseTo(20);
  });

  it("recommends the cheapest size whose modeled p99 is within the share, above the memory floor", () => {
    // 90 ms of CPU and 10 ms of waiting each: 1769 / size × 90 + 10 ≤ 500 from size ≥ 325 MB.
    const samples = Array.from({ length: 100 }, () => ({ wallMs: 100, cpuMs: 90, heapMb: 30 }));
    const r = recommendSize(samples, { p99ShareMs: 500, ...prices });
    expect(r.recommendedMb).toBe(384);
    expect(r.atRecommended?.p99Ms).toBeLessThanOrEqual(500);
    expect(r.sizes.find((s) => s.memoryMb === 256)?.p99Ms).toBeGreaterThan(500);
    expect(r.measured.cpuShare).toBeCloseTo(0.9);
    expect(r.floorMb).toBe(30 + RUNTIME_BASELINE_MB);
    // GB-s per million at 384 MB: 0.375 GB × (10 + 90 × 1769 / 384 ms, rounded up) per invocation.
    const ms = Math.ceil(10 + (90 * FULL_VCPU_MB) / 384);
    expect(r.atRecommended?.gbSecondsPerMillion).toBe(Math.round(0.375 * (ms / 1000) * 1_000_000));
  });

  it("keeps the smallest size for a function that mostly waits, unless its heap needs more", () => {
    const waiting = Array.from({ length: 50 }, () => ({ wallMs: 50, cpuMs: 2, heapMb: 40 }));
    expect(recommendSize(waiting, { p99ShareMs: 500, ...prices }).recommendedMb).toBe(128);
    const big = waiting.map((s) => ({ ...s, heapMb: 300 }));
    expect(recommendSize(big, { p99ShareMs: 500, ...prices }).recommendedMb).toBe(384);
    // Memory of a path the samples did not take (a large PDF held for pdf.js) raises the floor too.
    const withPath = recommendSize(waiting, { p99ShareMs: 500, ...prices, extraPeakMb: 121 });
    expect(withPath.floorMb).toBe(40 + RUNTIME_BASELINE_MB + 121);
    expect(withPath.recommendedMb).toBe(256);
  });

  it("takes the p99 from the slow tail, and recommends nothing when no size fits", () => {
    const samples = [
      ...Array.from({ length: 98 }, () => ({ wallMs: 20, cpuMs: 10, heapMb: 20 })),
      { wallMs: 900, cpuMs: 100, heapMb: 20 },
      { wallMs: 900, cpuMs: 100, heapMb: 20 },
    ];
    const r = recommendSize(samples, { p99ShareMs: 500, ...prices });
    expect(r.measured.p99Ms).toBe(900);
    expect(r.recommendedMb).toBeUndefined();
    expect(r.atRecommended).toBeUndefined();
  });
});
