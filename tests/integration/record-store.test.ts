import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoRecordStore } from "../../shared/adapters/dynamo-records.ts";
import { padSequencer } from "../../shared/domain/keys.ts";
import type { ObjectVersion, ValidateResult } from "../../shared/domain/types.ts";
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
    const claims = await Promise.all(Array.from({ length: 5 }, () => store.claimNotification(id, v)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    await store.releaseNotification(id, v);
    expect(await store.claimNotification(id, v)).toBe(true);
    await store.confirmNotification(id, v, "msg-1");
    await store.releaseNotification(id, v);
    expect(await store.claimNotification(id, v)).toBe(false);
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
