/**
 * A deadline for a test that polls the local stack, counted in the time the stack had to make progress. A poll
 * that comes back long after the previous one means the machine (or the stack's thread) stood still in between,
 * as a loaded CI host does now and then; that pause is added to the deadline instead of being charged to the
 * pipeline. A pipeline that is stuck still runs out of time: its polls come back at their normal pace.
 */
export const STALL_MS = 2_000;

export function pollDeadline(timeoutMs: number, now: () => number = Date.now) {
  let deadline = now() + timeoutMs;
  let last = now();
  let stalledMs = 0;
  return {
    /** True once the deadline has passed; call it once per poll. */
    passed(): boolean {
      const at = now();
      const gap = at - last;
      last = at;
      if (gap > STALL_MS) {
        deadline += gap;
        stalledMs += gap;
      }
      return at > deadline;
    },
    /** How long the polls stood still in all, for the error message. */
    get stalledMs() {
      return stalledMs;
    },
  };
}
