import { describe, expect, it } from "vitest";
import { pollDeadline, STALL_MS } from "../support/deadline.ts";

describe("pollDeadline", () => {
  it("passes after the timeout when polls come at their normal pace", () => {
    let t = 0;
    const d = pollDeadline(1_000, () => t);
    let polls = 0;
    while (!d.passed()) {
      t += 50;
      polls++;
    }
    expect(t).toBe(1_050);
    expect(polls).toBe(21);
    expect(d.stalledMs).toBe(0);
  });

  it("adds a pause between two polls to the deadline, and says so", () => {
    let t = 0;
    const d = pollDeadline(1_000, () => t);
    t = 500;
    expect(d.passed()).toBe(false);
    t += STALL_MS + 10_000; // the machine stood still
    expect(d.passed()).toBe(false);
    expect(d.stalledMs).toBe(STALL_MS + 10_000);
    t += 600;
    expect(d.passed()).toBe(true);
  });
});
