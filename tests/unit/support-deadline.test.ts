import { describe, expect, it } from "vitest";
import { pollDeadline, STALL_MS } from "../support/deadline.ts";

/** A clock the test moves: a wait takes what it asks for plus whatever `pause` says. */
function clock() {
  const c = { t: 0, pause: 0 };
  const wait = async (ms: number) => {
    c.t += ms + c.pause;
  };
  return { c, now: () => c.t, wait };
}

describe("pollDeadline", () => {
  it("passes after the timeout when the waits come back on time", async () => {
    const { c, now, wait } = clock();
    const d = pollDeadline(1_000, now, wait);
    let polls = 0;
    while (!d.passed()) {
      await d.sleep(50);
      polls++;
    }
    expect(c.t).toBe(1_050);
    expect(polls).toBe(21);
    expect(d.stalledMs).toBe(0);
  });

  it("adds a wait's lateness to the deadline, and says so", async () => {
    const { c, now, wait } = clock();
    const d = pollDeadline(10_000, now, wait);
    c.pause = STALL_MS + 3_000; // the process stood still during this wait
    await d.sleep(50);
    c.pause = 0;
    expect(d.stalledMs).toBe(STALL_MS + 3_000);
    c.t = 10_000 + STALL_MS + 3_000;
    expect(d.passed()).toBe(false);
    c.t += 1;
    expect(d.passed()).toBe(true);
  });

  it("does not count a slow poll (the stack answering slowly), only a late wait", async () => {
    const { c, now, wait } = clock();
    const d = pollDeadline(1_000, now, wait);
    for (let i = 0; i < 5; i++) {
      c.t += 2_500; // a poll that takes 2.5 s
      await d.sleep(25);
    }
    expect(d.stalledMs).toBe(0);
    expect(d.passed()).toBe(true);
  });

  it("adds at most the timeout in all, however often the process stands still", async () => {
    const { c, now, wait } = clock();
    const d = pollDeadline(5_000, now, wait);
    c.pause = 4_000;
    for (let i = 0; i < 10; i++) await d.sleep(25);
    expect(d.stalledMs).toBe(5_000);
    expect(d.passed()).toBe(true);
  });
});
