import { describe, expect, it } from "vitest";
import { formatDuration, progressText, TransferRate } from "../../../web/src/progress.ts";

describe("Class: TransferRate", () => {
  it("gives no estimate before it has seen a second of transfer", () => {
    const rate = new TransferRate(3_000, 1_000);
    expect(rate.secondsLeft(100)).toBeUndefined();
    rate.sample(0, 0);
    rate.sample(10, 500);
    expect(rate.secondsLeft(100)).toBeUndefined();
    rate.sample(20, 1_000);
    expect(rate.secondsLeft(100)).toBeCloseTo(4, 5);
  });

  it("estimates the time left from a steady rate", () => {
    const rate = new TransferRate();
    for (let t = 0; t <= 10_000; t += 250) rate.sample(t * 1_000, t); // 1 MB/s
    expect(rate.bytesPerSecond()).toBeCloseTo(1_000_000, 0);
    expect(rate.secondsLeft(30_000_000)).toBeCloseTo(20, 5);
  });

  it("follows a change of speed without jumping on one fast moment", () => {
    const rate = new TransferRate(3_000, 0);
    let loaded = 0;
    const at = (t: number, more: number) => {
      loaded += more;
      rate.sample(loaded, t);
    };
    for (let t = 0; t <= 10_000; t += 100) at(t, 100); // 1 byte/ms
    at(10_100, 100_000); // one burst
    expect(rate.bytesPerSecond()).toBeLessThan(50_000);
    for (let t = 10_200; t <= 40_000; t += 100) at(t, 200); // 2 bytes/ms
    expect(Math.abs((rate.bytesPerSecond() ?? 0) - 2_000)).toBeLessThan(40);
  });
});

describe("Function: formatDuration", () => {
  it.each([
    [0.2, "a moment"],
    [4.1, "about 5 s"],
    [59, "about 59 s"],
    [61, "about 1 min"],
    [150, "about 3 min"],
    [3_600, "about 1 h"],
    [4_300, "about 1 h 12 min"],
  ])("says %d seconds as %s", (seconds, words) => {
    expect(formatDuration(seconds)).toBe(words);
  });
});

describe("Function: progressText", () => {
  it("shows the percentage, the bytes and the time left", () => {
    expect(progressText(3 * 1024 * 1024, 8 * 1024 * 1024, 5)).toBe(
      "37% · 3.0 MiB of 8.0 MiB · about 5 s left",
    );
    expect(progressText(0, 10)).toBe("0% · 0 bytes of 10 bytes");
    expect(progressText(1, 1)).toBe("100% · 1 byte of 1 byte");
  });
});

describe("Class: TransferRate (stalls)", () => {
  it("lets the estimate grow while nothing moves, instead of promising a moment", () => {
    const rate = new TransferRate(3_000, 0);
    for (let t = 0; t <= 5_000; t += 250) rate.sample(t * 1_000, t); // 1 MB/s, 5 MB sent
    const fresh = rate.secondsLeft(6_000_000, 5_000) ?? 0;
    expect(fresh).toBeCloseTo(1, 5);
    const later = rate.secondsLeft(6_000_000, 11_000) ?? 0;
    expect(later).toBeCloseTo(4, 5); // two half-lives without a byte: a quarter of the speed
    expect(rate.secondsLeft(6_000_000)).toBeCloseTo(1, 5);
  });
});
