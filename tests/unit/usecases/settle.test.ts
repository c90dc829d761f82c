/** settle on in-memory ports: one decision, one promotion of exactly the judged version, one notification. */
import { describe, expect, it } from "vitest";
import type { CleanCopy, FileRecord, ObjectVersion, StageResult } from "../../../core/domain/types.ts";
import type { JudgedBytes } from "../../../core/ports/index.ts";
import { ObjectVersionGoneError } from "../../../core/ports/index.ts";
import { NOT_PROMOTED_REASON, settle } from "../../../core/usecases/pipeline/settle.ts";
import { MemoryNotifier, MemoryObjects, memoryPipeline } from "../../support/memory.ts";
import { described, drop, fileIdOf, infected, passed, SHA, verified } from "./results.ts";

/** A file registered at `version` with these results recorded, as the stages leave it. */
async function judged(
  world: ReturnType<typeof memoryPipeline>,
  version: ObjectVersion,
  results: StageResult[],
) {
  const fileId = fileIdOf(version);
  await world.records.register(version, { fileId, source: "drop", owner: "system:billing" });
  let record: FileRecord | undefined;
  for (const result of results) record = (await world.records.putStageResult(fileId, version, result)).record;
  if (!record) throw new TypeError("no results given");
  return record;
}

describe("Function: settle (on in-memory ports)", () => {
  it("promotes exactly the judged version with its SHA-256, removes it from quarantine and notifies once", async () => {
    const w = memoryPipeline();
    const record = await judged(w, drop(1), verified);
    expect(await settle(record, w.deps)).toBe("decided");
    const after = await w.records.get(record.fileId);
    expect(after).toMatchObject({
      status: "VERIFIED",
      cleanKey: drop(1).key,
      promotedAt: expect.any(String),
    });
    expect(after?.cleanCopy?.sequencer).toBe(drop(1).sequencer);
    expect(w.objects.judged).toEqual([
      { sha256: SHA, contentType: "application/pdf", fileId: record.fileId },
    ]);
    expect(w.objects.removed).toEqual([drop(1).key]);
    expect(w.notifier.sent).toHaveLength(1);
    expect(after?.notificationId).toBe("m-1");
  });

  it("decides once when duplicate stage results settle at the same time", async () => {
    const w = memoryPipeline();
    const record = await judged(w, drop(1), verified);
    // A redelivered stage message writes its result again (a no-op) and settles again, concurrently.
    const again = await w.records.putStageResult(record.fileId, drop(1), passed);
    const outcomes = await Promise.all([
      settle(record, w.deps),
      settle(again.record, w.deps),
      settle(record, w.deps),
    ]);
    expect(outcomes.filter((o) => o === "decided")).toHaveLength(1);
    expect(w.notifier.sent).toHaveLength(1);
    expect(w.records.audits.filter((a) => a.entry.action === "verdict").length).toBeGreaterThanOrEqual(1);
    expect((await w.records.get(record.fileId))?.status).toBe("VERIFIED");
  });

  it("refuses a stale version: a newer drop of the key owns the record, nothing is promoted or sent", async () => {
    const w = memoryPipeline();
    const older = await judged(w, drop(1), verified);
    await w.records.register(drop(2), { fileId: older.fileId, source: "drop" });
    expect(await settle(older, w.deps)).toBe("stale");
    expect((await w.records.get(older.fileId))?.status).toBe("PENDING");
    expect(w.objects.promoted).toEqual([]);
    expect(w.notifier.sent).toEqual([]);
  });

  it("holds an infected file where it lies, tagged, and discards its staged text", async () => {
    const w = memoryPipeline();
    const record = await judged(w, drop(1), [passed, infected, described]);
    await w.texts.stage(record.fileId, drop(1), "extracted");
    expect(await settle(record, w.deps)).toBe("decided");
    expect((await w.records.get(record.fileId))?.status).toBe("INFECTED");
    expect(w.objects.promoted).toEqual([]);
    expect(w.objects.tags[drop(1).key]).toEqual({ "airlock-status": "INFECTED" });
    expect(w.texts.staged.has(record.fileId)).toBe(false);
    expect(w.notifier.sent).toHaveLength(1);
  });

  it("waits while a stage has not reported", async () => {
    const w = memoryPipeline();
    const record = await judged(w, drop(1), [passed, described]);
    expect(await settle(record, w.deps)).toBe("waiting");
    expect((await w.records.get(record.fileId))?.status).toBe("PENDING");
  });

  it("ends FAILED, promoting nothing, when the judged version is gone before the copy", async () => {
    class GoneObjects extends MemoryObjects {
      override async promote(): Promise<CleanCopy> {
        throw new ObjectVersionGoneError("replaced");
      }
    }
    const w = memoryPipeline();
    const deps = { ...w.deps, objects: new GoneObjects(new Map()) };
    const record = await judged(w, drop(1), verified);
    await settle(record, deps);
    expect(await w.records.get(record.fileId)).toMatchObject({
      status: "FAILED",
      reasons: [NOT_PROMOTED_REASON],
    });
    expect(deps.objects.removed).toEqual([]);
    // The owner hears once that it failed.
    expect(w.notifier.sent.map((m) => m.attributes.status)).toEqual(["FAILED"]);
  });

  it("withdraws its copy when the file was deleted while it copied", async () => {
    const w = memoryPipeline();
    class DeletedMeanwhile extends MemoryObjects {
      override async promote(version: ObjectVersion, bucket: string, bytes: JudgedBytes) {
        await w.records.markDeleted(bytes.fileId, version);
        return super.promote(version, bucket, bytes);
      }
    }
    const objects = new DeletedMeanwhile(new Map());
    const record = await judged(w, drop(1), verified);
    await settle(record, { ...w.deps, objects });
    expect(objects.withdrawn).toEqual([drop(1).key]);
    expect(await w.records.get(record.fileId)).toMatchObject({ status: "DELETED" });
    expect((await w.records.get(record.fileId))?.cleanKey).toBeUndefined();
  });

  it("gives the notification claim back when publishing fails, so a retry sends it once", async () => {
    let fail = true;
    class Flaky extends MemoryNotifier {
      override async publish(message: Parameters<MemoryNotifier["publish"]>[0]) {
        if (fail) throw new TypeError("SNS is down");
        return super.publish(message);
      }
    }
    const w = memoryPipeline();
    const notifier = new Flaky();
    const record = await judged(w, drop(1), verified);
    await expect(settle(record, { ...w.deps, notifier })).rejects.toThrow("SNS is down");
    expect((await w.records.get(record.fileId))?.notifiedAt).toBeUndefined();
    fail = false;
    const decided = await w.records.get(record.fileId);
    if (!decided) throw new TypeError("record gone");
    expect(await settle(decided, { ...w.deps, notifier })).toBe("done");
    expect(await settle(decided, { ...w.deps, notifier })).toBe("done");
    expect(notifier.sent).toHaveLength(1);
  });
});
