/** rescan on in-memory ports: only a held, unpromoted file in the status the operator saw is re-opened. */
import { describe, expect, it } from "vitest";
import { parseStageMessage } from "../../../core/domain/events.ts";
import type { ObjectVersion, StageResult } from "../../../core/domain/types.ts";
import { RescanRefusedError, rescan } from "../../../core/usecases/pipeline/rescan.ts";
import { settle } from "../../../core/usecases/pipeline/settle.ts";
import { runStage } from "../../../core/usecases/pipeline/stage.ts";
import { MemoryRecords, memoryPipeline } from "../../support/memory.ts";
import { clean, described, drop, fileIdOf, infected, judging, passed, verified } from "./results.ts";

async function decided(w: ReturnType<typeof memoryPipeline>, version: ObjectVersion, results: StageResult[]) {
  const fileId = fileIdOf(version);
  await w.records.register(version, { fileId, source: "drop", owner: "system:billing" });
  let last = (await w.records.putStageResult(fileId, version, results[0] ?? passed)).record;
  for (const result of results.slice(1))
    last = (await w.records.putStageResult(fileId, version, result)).record;
  await settle(last, w.deps);
  return fileId;
}

describe("Function: rescan (on in-memory ports)", () => {
  it("re-opens a held file, audits who asked, re-drives exactly its version, and settles it once more", async () => {
    const w = memoryPipeline();
    const fileId = await decided(w, drop(1), [passed, infected, described]);
    const reopened = await rescan(fileId, "operator:olga", w.deps);
    expect(reopened).toMatchObject({ status: "PENDING", rescans: 1 });
    expect(reopened.stages.scan).toBeUndefined();
    expect(reopened.notifiedAt).toBeUndefined();
    expect(w.records.audits.at(-1)?.entry).toMatchObject({
      action: "rescan",
      actor: "operator:olga",
      detail: { previousStatus: "INFECTED" },
    });
    const [redriven] = parseStageMessage(w.redriven[0] ?? "");
    expect(redriven?.version).toEqual(drop(1));
    // The signatures were wrong: the scan stage judges again, and the file is promoted and notified again.
    if (!redriven) throw new TypeError("nothing re-driven");
    const outcome = await runStage("scan", redriven, judging(clean), w.deps);
    expect(outcome.outcome).toBe("decided");
    expect((await w.records.get(fileId))?.status).toBe("VERIFIED");
    expect(w.notifier.sent.map((m) => m.attributes.status)).toEqual(["INFECTED", "VERIFIED"]);
  });

  it("refuses a VERIFIED file: it is promoted, nothing is held", async () => {
    const w = memoryPipeline();
    const fileId = await decided(w, drop(1), verified);
    await expect(rescan(fileId, "operator:olga", w.deps)).rejects.toThrow(RescanRefusedError);
    await expect(rescan(fileId, "operator:olga", w.deps)).rejects.toThrow(/VERIFIED/);
    expect(w.redriven).toEqual([]);
    expect((await w.records.get(fileId))?.status).toBe("VERIFIED");
  });

  it("refuses a file that does not exist, and one still being judged", async () => {
    const w = memoryPipeline();
    await expect(rescan("nosuchfile", "operator:olga", w.deps)).rejects.toThrow(/No file with id/);
    const fileId = fileIdOf(drop(1));
    await w.records.register(drop(1), { fileId, source: "drop" });
    await expect(rescan(fileId, "operator:olga", w.deps)).rejects.toThrow(/PENDING/);
    expect(w.redriven).toEqual([]);
  });

  it("refuses when the file changed between reading it and re-opening it (a concurrent rescan)", async () => {
    class Racing extends MemoryRecords {
      override async get(fileId: string) {
        const seen = await super.get(fileId);
        // Another operator's rescan lands right after this one read the record.
        if (seen) await super.reopenForRescan(fileId, seen.version, seen.status);
        return seen;
      }
    }
    const w = memoryPipeline();
    const fileId = await decided(w, drop(1), [passed, infected, described]);
    const racing = new Racing();
    const record = w.records.records.get(fileId);
    if (!record) throw new TypeError("not registered");
    racing.records.set(fileId, structuredClone(record));
    await expect(rescan(fileId, "operator:olga", { ...w.deps, records: racing })).rejects.toThrow(/changed/);
    expect(racing.records.get(fileId)?.rescans).toBe(1);
    expect(w.redriven).toEqual([]);
  });
});
