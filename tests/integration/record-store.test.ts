import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoRecordStore } from "../../core/adapters/dynamo-records.ts";
import { padSequencer } from "../../core/domain/keys.ts";
import type { ObjectVersion, ValidateResult } from "../../core/domain/types.ts";
import { startDynamo } from "../support/dynamo.ts";

let dynamo: Awaited<ReturnType<typeof startDynamo>>;
let store: DynamoRecordStore;

beforeAll(async () => {
  dynamo = await startDynamo();
  store = new DynamoRecordStore(dynamo.client, dynamo.table);
});
afterAll(() => dynamo.stop());

let n = 0;
function version(seq: number, key = `drops/s/file-${++n}.txt`): ObjectVersion {
  return { bucket: "ingest", key, eTag: `etag-${seq}`, sequencer: padSequencer(seq.toString(16)), size: 5 };
}
const passed: ValidateResult = { stage: "validate", status: "passed", reasons: [], size: 5, at: "t" };

describe("Class: DynamoRecordStore (against a DynamoDB emulator)", () => {
  it("creates a PENDING record once and reports redeliveries as current", async () => {
    const v = version(10);
    const first = await store.register(v, {
      fileId: "f1aaaaaaaaaaaaaaaaaaaaaaaa",
      source: "drop",
      owner: "system:s",
    });
    const again = await store.register(v, {
      fileId: "f1aaaaaaaaaaaaaaaaaaaaaaaa",
      source: "drop",
      owner: "system:s",
    });
    expect(first.kind).toBe("current");
    expect(again.kind).toBe("current");
    expect(again.record.status).toBe("PENDING");
    expect(again.record.createdAt).toBe(first.record.createdAt);
  });

  it("treats an older version as stale and lets a newer one reset the stages", async () => {
    const key = "drops/s/versions.txt";
    const id = "f2aaaaaaaaaaaaaaaaaaaaaaaa";
    await store.register(version(20, key), { fileId: id, source: "drop" });
    await store.putStageResult(id, version(20, key), passed);
    expect((await store.register(version(19, key), { fileId: id, source: "drop" })).kind).toBe("stale");
    const newer = await store.register(version(21, key), { fileId: id, source: "drop" });
    expect(newer.kind).toBe("current");
    expect(newer.record.stages).toEqual({});
    expect((await store.putStageResult(id, version(20, key), passed)).kind).toBe("stale");
  });

  it("writes a stage result once per version", async () => {
    const v = version(30);
    const id = "f3aaaaaaaaaaaaaaaaaaaaaaaa";
    await store.register(v, { fileId: id, source: "drop" });
    await store.putStageResult(id, v, passed);
    const second = await store.putStageResult(id, v, { ...passed, status: "rejected", reasons: ["late"] });
    expect(second.kind).toBe("current");
    expect(second.record.stages.validate?.status).toBe("passed");
  });

  it("lets exactly one of many concurrent deciders win", async () => {
    const v = version(40);
    const id = "f4aaaaaaaaaaaaaaaaaaaaaaaa";
    await store.register(v, { fileId: id, source: "drop" });
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => store.decide(id, v, { status: "VERIFIED", reasons: [] })),
    );
    expect(outcomes.filter((o) => o.won)).toHaveLength(1);
    expect(outcomes.every((o) => o.record.status === "VERIFIED")).toBe(true);
  });

  it("grants the notification claim once, again after a release, never after a confirmation", async () => {
    const v = version(50);
    const id = "f5aaaaaaaaaaaaaaaaaaaaaaaa";
    await store.register(v, { fileId: id, source: "drop" });
    const claims = await Promise.all(Array.from({ length: 5 }, () => store.claimNotification(id, v, 900)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    await store.releaseNotification(id, v);
    expect(await store.claimNotification(id, v, 900)).toBe(true);
    await store.confirmNotification(id, v, "msg-1");
    await store.releaseNotification(id, v);
    expect(await store.claimNotification(id, v, 900)).toBe(false);
  });

  it("keeps the last stage failure for the dead-letter reason", async () => {
    const v = version(60);
    const id = "f6aaaaaaaaaaaaaaaaaaaaaaaa";
    await store.register(v, { fileId: id, source: "drop" });
    await store.noteStageFailure(id, v, "scan", "S3ServiceException: boom");
    expect((await store.get(id))?.stageFailures).toEqual({ scan: "S3ServiceException: boom" });
  });

  it("lists by owner newest first and by status with a registration cutoff", async () => {
    const owner = "system:lister";
    for (let i = 0; i < 3; i++) {
      await store.register(version(70 + i), {
        fileId: `f7${i}aaaaaaaaaaaaaaaaaaaaaaa`,
        source: "drop",
        owner,
      });
      await new Promise((r) => setTimeout(r, 5));
    }
    const page = await store.list({ owner, limit: 2 });
    expect(page.records.map((r) => r.fileId)).toEqual([
      "f72aaaaaaaaaaaaaaaaaaaaaaa",
      "f71aaaaaaaaaaaaaaaaaaaaaaa",
    ]);
    expect(page.last).toBeDefined();
    const rest = await store.list({ owner, limit: 2, after: page.last });
    expect(rest.records.map((r) => r.fileId)).toEqual(["f70aaaaaaaaaaaaaaaaaaaaaaa"]);
    const none = await store.list({ status: "PENDING", limit: 100, registeredBefore: "2000-01-01" });
    expect(none.records).toEqual([]);
  });
});

describe("Class: DynamoRecordStore: one object per upload session, clean copies tracked", () => {
  const upload = (seq: number, id: string) => ({
    bucket: "ingest",
    key: `uploads/${id}/a.txt`,
    eTag: `etag-${seq}`,
    sequencer: padSequencer(seq.toString(16)),
    size: 5,
  });
  const verdict = { status: "VERIFIED" as const, reasons: [] };

  it("never lets a second object take over an API upload's record, newer or older", async () => {
    const id = "u1aaaaaaaaaaaaaaaaaaaaaaaa";
    const file = { fileId: id, source: "api" as const, owner: "alice" };
    await store.register(upload(100, id), file);
    await store.decide(id, upload(100, id), verdict);
    const newer = await store.register(upload(101, id), file);
    const older = await store.register(upload(99, id), file);
    expect([newer.kind, older.kind]).toEqual(["stale", "stale"]);
    expect(newer.record.status).toBe("VERIFIED");
    expect((await store.get(id))?.version.sequencer).toBe(upload(100, id).sequencer);
  });

  it("does not revive a DELETED upload when its form is posted again", async () => {
    const id = "u2aaaaaaaaaaaaaaaaaaaaaaaa";
    const file = { fileId: id, source: "api" as const, owner: "alice" };
    await store.register(upload(110, id), file);
    await store.markDeleted(id, upload(110, id));
    const again = await store.register(upload(111, id), file);
    expect(again.kind).toBe("stale");
    expect((await store.get(id))?.status).toBe("DELETED");
  });

  it("records a promotion only for the VERIFIED version it copied", async () => {
    const id = "u3aaaaaaaaaaaaaaaaaaaaaaaa";
    const v = upload(120, id);
    await store.register(v, { fileId: id, source: "api", owner: "alice" });
    const copy = { key: v.key, versionId: "c1" };
    expect(await store.markPromoted(id, v, copy)).toBe(false); // still PENDING
    await store.decide(id, v, verdict);
    expect(await store.markPromoted(id, v, copy)).toBe(true);
    const record = await store.get(id);
    expect(record?.cleanKey).toBe(v.key);
    expect(record?.cleanCopy).toEqual({ ...copy, sequencer: v.sequencer });

    const gone = "u4aaaaaaaaaaaaaaaaaaaaaaaa";
    const w = upload(130, gone);
    await store.register(w, { fileId: gone, source: "api", owner: "alice" });
    await store.decide(gone, w, verdict);
    await store.markDeleted(gone, w);
    expect(await store.markPromoted(gone, w, { key: w.key })).toBe(false);
  });

  it("keeps a superseded drop's clean copy on the record until it is withdrawn", async () => {
    const key = "drops/s/superseded.txt";
    const id = "f8aaaaaaaaaaaaaaaaaaaaaaaa";
    await store.register(version(140, key), { fileId: id, source: "drop" });
    await store.decide(id, version(140, key), verdict);
    await store.markPromoted(id, version(140, key), { key, eTag: "c-140" });
    const newer = await store.register(version(141, key), { fileId: id, source: "drop" });
    expect(newer.kind).toBe("current");
    expect(newer.record.cleanKey).toBeUndefined();
    expect(newer.record.cleanCopy).toEqual({ key, eTag: "c-140", sequencer: version(140, key).sequencer });
    // Only the copy it names is forgotten: a clear for another copy changes nothing.
    await store.forgetCleanCopy(id, version(139, key).sequencer);
    expect((await store.get(id))?.cleanCopy).toBeDefined();
    await store.forgetCleanCopy(id, version(140, key).sequencer);
    expect((await store.get(id))?.cleanCopy).toBeUndefined();
  });

  it("turns a VERIFIED version that could not be promoted into FAILED, once, with the reason", async () => {
    const id = "u5aaaaaaaaaaaaaaaaaaaaaaaa";
    const v = upload(150, id);
    await store.register(v, { fileId: id, source: "api", owner: "alice" });
    await store.decide(id, v, verdict);
    const held = await store.holdUnpromoted(id, v, "changed after it was judged");
    expect(held.won).toBe(true);
    expect(held.record).toMatchObject({ status: "FAILED", reasons: ["changed after it was judged"] });
    expect((await store.holdUnpromoted(id, v, "again")).won).toBe(false);
  });
});
