import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Backoff, backoffDelay, DEFAULT_BACKOFF } from "../../../web/src/backoff.ts";

const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };

describe("Function: backoffDelay", () => {
  it("grows geometrically from the initial delay up to the ceiling", () => {
    const delays = [0, 1, 2, 3].map((n) =>
      backoffDelay(n, { initialMs: 100, factor: 2, maxMs: 500, jitter: 0 }),
    );
    expect(delays).toEqual([100, 200, 400, 500]);
  });

  it("stays within the jitter band and never above the ceiling", () => {
    fc.assert(
      fc.property(fc.nat(60), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const plain = backoffDelay(attempt, noJitter);
        const jittered = backoffDelay(attempt, DEFAULT_BACKOFF, () => r);
        expect(jittered).toBeGreaterThanOrEqual(Math.floor(plain * (1 - DEFAULT_BACKOFF.jitter)));
        expect(jittered).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxMs);
      }),
    );
  });
});

describe("Class: Backoff", () => {
  it("slows down with each poll and restarts quickly after a change", () => {
    const backoff = new Backoff(noJitter);
    const first = [backoff.next(), backoff.next(), backoff.next()];
    expect(first[0]).toBe(DEFAULT_BACKOFF.initialMs);
    expect(first[1]).toBeGreaterThan(first[0] ?? 0);
    expect(first[2]).toBeGreaterThan(first[1] ?? 0);
    backoff.reset();
    expect(backoff.next()).toBe(DEFAULT_BACKOFF.initialMs);
  });
});
