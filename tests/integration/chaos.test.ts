/**
 * Small deterministic chaos runs through the local stack: a seeded mixed corpus with AWS calls failing and
 * handler invocations crashing between side effects, then the invariant checker. The first keeps the stack in
 * this process; the second runs `npm start` on a data directory as a child process and SIGKILLs it twice (once
 * while dropping, once while the pipeline catches up), starting it again on the same directory each time.
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

  it("loses nothing when the whole stack is killed with SIGKILL twice and started again", async () => {
    const result = await runChaos({
      files: 300,
      seed: 7,
      faults: { aws: 0.05, crash: 0.01 },
      kills: 2,
      quiesceTimeoutMs: 120_000,
    });
    console.log(JSON.stringify({ ...result, violations: result.violations.slice(0, 20) }));
    expect(result.kills).toBe(2);
    expect(result.violations).toEqual([]);
    expect(result.files).toBe(300);
    expect(result.final).toBe(300);
    expect(result.notified).toBe(300);
    expect(result.injected.crashes).toBeGreaterThan(0);
    expect(result.verified).toBeGreaterThan(0);
  }, 240_000);
});
