/**
 * A small deterministic chaos run through the local stack: a seeded mixed corpus with AWS calls failing and
 * handler invocations crashing between side effects, then the invariant checker. The kill -9 and restart part
 * lives in `npm run bench -- chaos` only when persistence is on (see the README).
 */
import { describe, expect, it } from "vitest";
import { runChaos } from "../../local/chaos.ts";

describe("Chaos: faults through the local stack", () => {
  it("ends every file with one final status, notified, and the clean bucket holding judged bytes only", async () => {
    const result = await runChaos({
      files: 100,
      seed: 42,
      faults: { aws: 0.05, crash: 0.01 },
      quiesceTimeoutMs: 100_000,
    });
    console.log(JSON.stringify({ ...result, violations: result.violations.slice(0, 20) }));
    expect(result.violations).toEqual([]);
    expect(result.final).toBe(100);
    expect(result.injected.crashes).toBeGreaterThan(0);
    expect(result.injected.throttles + result.injected.errors + result.injected.timeouts).toBeGreaterThan(0);
    // Clean files that no fault made a stage give up on are promoted.
    expect(result.verified).toBeGreaterThan(0);
  }, 150_000);
});
