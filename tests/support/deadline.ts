/**
 * A deadline for a test that polls the local stack, counted in the time the test process could run. The wait
 * between two polls is measured: when it comes back more than STALL_MS late, the process stood still (a loaded
 * CI host does that now and then), and that lateness is added to the deadline instead of being charged to the
 * pipeline. The polls themselves are not measured, so a stack that is merely slow to answer still runs out of
 * time, and the extensions together are capped at the timeout itself.
 */
export const STALL_MS = 2_000;

export function pollDeadline(
  timeoutMs: number,
  now: () => number = Date.now,
  wait: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
) {
  let deadline = now() + timeoutMs;
  let stalledMs = 0;
  return {
    /** True once the deadline has passed. */
    passed(): boolean {
      return now() > deadline;
    },
    /** Waits between two polls; a wait that came back late moves the deadline by its lateness. */
    async sleep(ms: number): Promise<void> {
      const start = now();
      await wait(ms);
      const late = now() - start - ms;
      if (late > STALL_MS) {
        const added = Math.min(late, timeoutMs - stalledMs);
        deadline += added;
        stalledMs += added;
      }
    },
    /** How long the process stood still in all (as far as it was added), for the error message. */
    get stalledMs() {
      return stalledMs;
    },
  };
}
