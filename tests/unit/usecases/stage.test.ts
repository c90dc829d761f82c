/** runStage and failStage on in-memory ports: registration, one result per stage, convergence on one verdict. */
import { describe, expect, it } from "vitest";
import type { ObjectCreated } from "../../../core/domain/events.ts";
import type { StageName, StageResult } from "../../../core/domain/types.ts";
import { failStage, runStage } from "../../../core/usecases/pipeline/stage.ts";
import { memoryPipeline } from "../../support/memory.ts";
import { clean, described, drop, fileIdOf, judging, passed, refused } from "./results.ts";

const event = (version: ReturnType<typeof drop>): ObjectCreated => ({
  eventName: "ObjectCreated:Put",
  version,
});
const judges: [StageName, StageResult][] = [
  ["validate", passed],
  ["scan", clean],
  ["metadata", described],
];

describe("Function: runStage (on in-memory ports)", () => {
  it("converges on one verdict and one notification whatever the order and however often events come", async () => {
    const w = memoryPipeline();
    const runs = [...judges, ...[...judges].reverse()].map(([stage, result]) =>
      runStage(stage, event(drop(1)), judging(result), w.deps),
    );
    const outcomes = (await Promise.all(runs)).map((r) => r.outcome);
    expect(outcomes.filter((o) => o === "decided")).toHaveLength(1);
    const record = await w.records.get(fileIdOf(drop(1)));
    expect(record?.status).toBe("VERIFIED");
    expect(w.notifier.sent).toHaveLength(1);
    expect(w.records.audits.filter((a) => a.entry.action === "drop")).toHaveLength(1);
    // A redelivery after the verdict judges nothing again and sends nothing.
    let judged = 0;
    const again = await runStage(
      "scan",
      event(drop(1)),
      async () => {
        judged++;
        return clean;
      },
      w.deps,
    );
    expect(again.outcome).toBe("done");
    expect(judged).toBe(0);
    expect(w.notifier.sent).toHaveLength(1);
  });

  it("rejects what validation refuses: held, tagged REJECTED, never promoted", async () => {
    const w = memoryPipeline();
    await runStage("validate", event(drop(1)), judging(refused), w.deps);
    await runStage("scan", event(drop(1)), judging(clean), w.deps);
    const last = await runStage("metadata", event(drop(1)), judging(described), w.deps);
    expect(last.outcome).toBe("decided");
    expect((await w.records.get(last.fileId))?.status).toBe("REJECTED");
    expect(w.objects.promoted).toEqual([]);
    expect(w.objects.tags[drop(1).key]).toEqual({ "airlock-status": "REJECTED" });
  });

  it("refuses an older drop's late event: the newer object keeps the record", async () => {
    const w = memoryPipeline();
    await runStage("validate", event(drop(2)), judging(passed), w.deps);
    const late = await runStage("validate", event(drop(1)), judging(refused), w.deps);
    expect(late.outcome).toBe("stale");
    const record = await w.records.get(late.fileId);
    expect(record?.version.sequencer).toBe(drop(2).sequencer);
    expect(record?.stages.validate?.status).toBe("passed");
  });

  it("remembers why a stage crashed, rethrows, and says so when the stage is failed for good", async () => {
    const w = memoryPipeline();
    const crash = async (): Promise<StageResult> => {
      throw new RangeError("clamd went away");
    };
    await expect(runStage("scan", event(drop(1)), crash, w.deps)).rejects.toThrow("clamd went away");
    const fileId = fileIdOf(drop(1));
    expect((await w.records.get(fileId))?.stageFailures?.scan).toBe("RangeError: clamd went away");
    await failStage("scan", drop(1), "its message was dead-lettered", w.deps);
    const reason = (await w.records.get(fileId))?.stages.scan?.reasons[0];
    expect(reason).toBe(
      "scan stage failed: its message was dead-lettered (last error: RangeError: clamd went away)",
    );
  });
});
