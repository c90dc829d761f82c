/** sweep on in-memory ports: stuck files are re-driven, then failed; engine failures are rescanned on a schedule. */
import { describe, expect, it } from "vitest";
import { parseStageMessage } from "../../../core/domain/events.ts";
import { settle } from "../../../core/usecases/pipeline/settle.ts";
import { sweep } from "../../../core/usecases/pipeline/sweep.ts";
import { ManualClock, memoryPipeline } from "../../support/memory.ts";
import { described, drop, engineDown, fileIdOf, infected, passed, verified } from "./results.ts";

const STUCK = 300;

describe("Function: sweep (on in-memory ports)", () => {
  it("re-drives a stuck file past the threshold, then fails its silent stages past twice the threshold", async () => {
    const clock = new ManualClock(Date.parse("2026-11-22T10:00:00Z"));
    const w = memoryPipeline({ now: clock.now });
    const fileId = fileIdOf(drop(1));
    await w.records.register(drop(1), { fileId, source: "drop", owner: "system:billing" });
    await w.records.putStageResult(fileId, drop(1), passed);

    clock.advance(240);
    expect(await sweep(w.deps, STUCK, clock.date)).toEqual({
      redriven: [],
      failed: [],
      rescanned: [],
      renotified: [],
      unsettled: [],
    });

    clock.advance(120);
    expect((await sweep(w.deps, STUCK, clock.date)).redriven).toEqual([fileId]);
    expect(parseStageMessage(w.redriven[0] ?? "").map((e) => e.version)).toEqual([drop(1)]);

    clock.advance(300);
    const late = await sweep(w.deps, STUCK, clock.date);
    expect(late.failed).toEqual([fileId]);
    const record = await w.records.get(fileId);
    expect(record?.status).toBe("FAILED");
    expect(record?.reasons).toEqual([
      `scan stage failed: no result within ${2 * STUCK} s`,
      `metadata stage failed: no result within ${2 * STUCK} s`,
    ]);
    expect(w.notifier.sent.map((m) => m.attributes.status)).toEqual(["FAILED"]);
  });

  it("leaves decided files and files within the threshold alone", async () => {
    const clock = new ManualClock(Date.parse("2026-11-22T10:00:00Z"));
    const w = memoryPipeline({ now: clock.now });
    const done = drop(1, "drops/billing/done.pdf");
    const fresh = drop(1, "drops/billing/fresh.pdf");
    await w.records.register(done, { fileId: fileIdOf(done), source: "drop" });
    for (const result of verified) await w.records.putStageResult(fileIdOf(done), done, result);
    const record = await w.records.get(fileIdOf(done));
    if (!record) throw new TypeError("not registered");
    await settle(record, w.deps);
    clock.advance(10 * STUCK);
    await w.records.register(fresh, { fileId: fileIdOf(fresh), source: "drop" });
    clock.advance(STUCK / 2);
    expect(await sweep(w.deps, STUCK, clock.date)).toEqual({
      redriven: [],
      failed: [],
      rescanned: [],
      renotified: [],
      unsettled: [],
    });
  });

  it("rescans a file that FAILED because an engine could not answer, up to the attempts allowed", async () => {
    const clock = new ManualClock(Date.parse("2026-11-22T10:00:00Z"));
    const w = memoryPipeline({ now: clock.now });
    const down = drop(1, "drops/billing/engine-down.pdf");
    const found = drop(1, "drops/billing/infected.pdf");
    for (const [version, scan] of [
      [down, engineDown],
      [found, infected],
    ] as const) {
      const fileId = fileIdOf(version);
      await w.records.register(version, { fileId, source: "drop" });
      await w.records.putStageResult(fileId, version, passed);
      await w.records.putStageResult(fileId, version, described);
      const { record } = await w.records.putStageResult(fileId, version, scan);
      await settle(record, w.deps);
    }
    const policy = { afterSeconds: 600, maxAttempts: 1 };
    clock.advance(60);
    expect((await sweep(w.deps, STUCK, clock.date, policy)).rescanned).toEqual([]);

    clock.advance(600);
    const report = await sweep(w.deps, STUCK, clock.date, policy);
    expect(report.rescanned).toEqual([fileIdOf(down)]);
    const reopened = await w.records.get(fileIdOf(down));
    expect(reopened).toMatchObject({ status: "PENDING", rescans: 1 });
    expect(reopened?.stages.scan).toBeUndefined();
    expect((await w.records.get(fileIdOf(found)))?.status).toBe("INFECTED");

    // It fails again the same way: one attempt was allowed, so it stays FAILED.
    const { record } = await w.records.putStageResult(fileIdOf(down), down, engineDown);
    await settle(record, w.deps);
    clock.advance(1200);
    expect((await sweep(w.deps, STUCK, clock.date, policy)).rescanned).toEqual([]);
  });
});
