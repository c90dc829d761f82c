/**
 * One contract for every record port, run against the DynamoDB store (on a DynamoDB emulator) and against the
 * in-memory store the use-case tests run on: the fake must keep the same conditional rules as the real thing,
 * or the use-case tests would prove nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoRecordStore } from "../../core/adapters/dynamo-records.ts";
import { padSequencer } from "../../core/domain/keys.ts";
import type { ObjectVersion, UploadSession } from "../../core/domain/types.ts";
import { type RecordStore, UploadSessionExistsError } from "../../core/ports/index.ts";
import { startDynamo } from "../support/dynamo.ts";
import { MemoryRecords } from "../support/memory.ts";
import { clean, described, passed } from "../unit/usecases/results.ts";

let dynamo: Awaited<ReturnType<typeof startDynamo>>;
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(() => dynamo.stop());

const stores: [string, () => RecordStore][] = [
  ["DynamoRecordStore", () => new DynamoRecordStore(dynamo.client, dynamo.table)],
  ["MemoryRecords", () => new MemoryRecords()],
];

let n = 0;
function fresh() {
  n++;
  const id = `c${n.toString().padStart(25, "0")}`;
  const key = `drops/contract/file-${n}.pdf`;
  const at = (seq: number): ObjectVersion => ({
    bucket: "ingest",
    key,
    versionId: `v${seq}`,
    eTag: `e${seq}`,
    sequencer: padSequencer(seq.toString(16)),
    size: 5,
  });
  return { id, at };
}

describe.each(stores)("Record ports contract: %s", (_name, make) => {
  it("registers once, reports a redelivery as current and not won, an older drop as stale", async () => {
    const store = make();
    const f = fresh();
    expect(await store.register(f.at(2), { fileId: f.id, source: "drop" })).toMatchObject({
      kind: "current",
      won: true,
    });
    expect(await store.register(f.at(2), { fileId: f.id, source: "drop" })).toMatchObject({
      kind: "current",
      won: false,
    });
    expect(await store.register(f.at(1), { fileId: f.id, source: "drop" })).toMatchObject({
      kind: "stale",
      won: false,
    });
    const newer = await store.register(f.at(3), { fileId: f.id, source: "drop" });
    expect(newer).toMatchObject({ kind: "current", won: true, record: { status: "PENDING", stages: {} } });
  });

  it("never lets another object take an upload's record over", async () => {
    const store = make();
    const f = fresh();
    await store.register(f.at(1), { fileId: f.id, source: "api", owner: "alice" });
    expect(await store.register(f.at(2), { fileId: f.id, source: "api", owner: "alice" })).toMatchObject({
      kind: "stale",
      won: false,
    });
  });

  it("writes a stage result once per version and decides once", async () => {
    const store = make();
    const f = fresh();
    await store.register(f.at(1), { fileId: f.id, source: "drop" });
    await store.putStageResult(f.id, f.at(1), passed);
    const again = await store.putStageResult(f.id, f.at(1), { ...passed, status: "rejected" });
    expect(again.record.stages.validate?.status).toBe("passed");
    expect(again.record.detectedType?.id).toBe("pdf");
    await store.putStageResult(f.id, f.at(1), clean);
    const last = await store.putStageResult(f.id, f.at(1), described);
    expect(last.record.sha256).toBe(described.facts?.sha256);
    const verdict = { status: "VERIFIED" as const, reasons: [] };
    expect((await store.decide(f.id, f.at(1), verdict)).won).toBe(true);
    const second = await store.decide(f.id, f.at(1), { status: "FAILED", reasons: ["x"] });
    expect(second).toMatchObject({ kind: "current", won: false, record: { status: "VERIFIED" } });
    expect((await store.decide(f.id, f.at(0), verdict)).kind).toBe("stale");
  });

  const LEASE = 900;
  it("takes no confirmation for a claim that is gone (a rescan reopened the file before the send was confirmed)", async () => {
    const store = make();
    const f = fresh();
    await store.register(f.at(1), { fileId: f.id, source: "drop" });
    expect(await store.claimNotification(f.id, f.at(1), 900)).toBe(true);
    await store.releaseNotification(f.id, f.at(1)); // the claim is gone, as a reopen removes it
    await store.confirmNotification(f.id, f.at(1), "m-of-the-earlier-verdict");
    expect((await store.get(f.id))?.notificationId).toBeUndefined();
  });

  it("claims a notification once, for the current version only, and a released claim can be claimed again", async () => {
    const store = make();
    const f = fresh();
    await store.register(f.at(2), { fileId: f.id, source: "drop" });
    expect(await store.claimNotification(f.id, f.at(1), LEASE)).toBe(false);
    expect(await store.claimNotification(f.id, f.at(2), LEASE)).toBe(true);
    expect(await store.claimNotification(f.id, f.at(2), LEASE)).toBe(false);
    await store.releaseNotification(f.id, f.at(2));
    expect(await store.claimNotification(f.id, f.at(2), LEASE)).toBe(true);
    await store.confirmNotification(f.id, f.at(2), "m-1");
    await store.releaseNotification(f.id, f.at(2)); // sent: the claim stays
    expect(await store.claimNotification(f.id, f.at(2), LEASE)).toBe(false);
  });

  it("promotes and holds only the VERIFIED version, and re-opens only a held one in the status seen", async () => {
    const store = make();
    const f = fresh();
    await store.register(f.at(1), { fileId: f.id, source: "drop" });
    const copy = { key: "drops/contract/x.pdf", versionId: "c1" };
    expect(await store.markPromoted(f.id, f.at(1), copy)).toBe(false);
    await store.decide(f.id, f.at(1), { status: "INFECTED", reasons: ["Airlock.Eicar"] });
    expect((await store.holdUnpromoted(f.id, f.at(1), "gone")).won).toBe(false);
    expect((await store.reopenForRescan(f.id, f.at(1), "FAILED")).won).toBe(false);
    const reopened = await store.reopenForRescan(f.id, f.at(1), "INFECTED");
    expect(reopened).toMatchObject({ won: true, record: { status: "PENDING", rescans: 1 } });
    await store.decide(f.id, f.at(1), { status: "VERIFIED", reasons: [] });
    expect(await store.markPromoted(f.id, f.at(1), copy)).toBe(true);
    expect((await store.holdUnpromoted(f.id, f.at(1), "gone")).won).toBe(false);
    expect((await store.reopenForRescan(f.id, f.at(1), "VERIFIED")).won).toBe(false);
  });

  it("deletes exactly the version asked for", async () => {
    const store = make();
    const f = fresh();
    await store.register(f.at(2), { fileId: f.id, source: "drop" });
    expect(await store.markDeleted(f.id, f.at(1))).toBe(false);
    expect(await store.markDeleted("c-no-such-file-0000000000", f.at(1))).toBe(false);
    expect(await store.markDeleted(f.id, f.at(2))).toBe(true);
    expect((await store.get(f.id))?.status).toBe("DELETED");
  });

  it("lists whole records by status and by owner, though the indexes hold keys only", async () => {
    const store = make();
    const owner = `owner-${n}`;
    const f = fresh();
    const g = fresh();
    for (const x of [f, g]) {
      await store.register(x.at(1), { fileId: x.id, source: "api", owner });
      await store.putStageResult(x.id, x.at(1), passed);
      await store.putStageResult(x.id, x.at(1), clean);
      await store.putStageResult(x.id, x.at(1), described);
    }
    await store.decide(f.id, f.at(1), { status: "VERIFIED", reasons: [] });
    const verified = (await store.list({ status: "VERIFIED", limit: 1000 })).records.find(
      (r) => r.fileId === f.id,
    );
    expect(verified).toMatchObject({ owner, sha256: described.facts?.sha256, detectedType: { id: "pdf" } });
    expect(verified?.stages.scan).toEqual(clean);
    expect(verified).not.toHaveProperty("gsi2pk");
    const pending = await store.list({ status: "PENDING", limit: 1000 });
    expect(pending.records.map((r) => r.fileId)).toContain(g.id);
    expect(pending.records.map((r) => r.fileId)).not.toContain(f.id);
    const owned = await store.list({ owner, limit: 10 });
    expect(owned.records.map((r) => r.fileId).sort()).toEqual([f.id, g.id].sort());
    expect(owned.records.every((r) => r.stages.metadata !== undefined)).toBe(true);
    const ownedVerified = await store.list({ owner, status: "VERIFIED", type: "pdf", limit: 10 });
    expect(ownedVerified.records.map((r) => r.fileId)).toEqual([f.id]);
    expect((await store.list({ owner, type: "png", limit: 10 })).records).toEqual([]);
  });

  it("lists only the decided records whose notification was never confirmed, within the window", async () => {
    const store = make();
    const [f, g, h] = [fresh(), fresh(), fresh()];
    const since = new Date(Date.now() - 60_000).toISOString();
    for (const x of [f, g, h]) {
      await store.register(x.at(1), { fileId: x.id, source: "drop" });
      await store.decide(x.id, x.at(1), { status: "REJECTED", reasons: ["r"] });
    }
    await store.claimNotification(g.id, g.at(1), LEASE);
    await store.confirmNotification(g.id, g.at(1), "m-g");
    await store.claimNotification(h.id, h.at(1), LEASE); // claimed, never confirmed
    const before = new Date(Date.now() + 60_000).toISOString();
    const ids = async (query: { registeredAfter: string; registeredBefore: string }) =>
      (await store.list({ status: "REJECTED", limit: 1000, unnotified: true, ...query })).records.map(
        (r) => r.fileId,
      );
    const open = await ids({ registeredAfter: since, registeredBefore: before });
    expect(open).toEqual(expect.arrayContaining([f.id, h.id]));
    expect(open).not.toContain(g.id);
    expect(await ids({ registeredAfter: before, registeredBefore: `${before}~` })).toEqual([]);
  });

  it("appends an audit entry with the write it describes, only when that write wins, and keeps the trail", async () => {
    const store = make();
    const f = fresh();
    const drop = { action: "drop", actor: "system:contract", detail: { key: "k" } };
    expect((await store.register(f.at(1), { fileId: f.id, source: "drop" }, drop)).won).toBe(true);
    expect((await store.register(f.at(1), { fileId: f.id, source: "drop" }, drop)).won).toBe(false);
    const stage = { action: "stage:validate", actor: "pipeline", detail: { status: "passed" } };
    expect((await store.putStageResult(f.id, f.at(1), passed, stage)).won).toBe(true);
    expect((await store.putStageResult(f.id, f.at(1), passed, stage)).won).toBe(false);
    await store.audit(f.id, { action: "verdict", actor: "pipeline" });
    expect((await store.get(f.id)) ?? {}).not.toHaveProperty("auditTrail");
    expect((await store.trail(f.id)).map((e) => e.action)).toEqual(["drop", "stage:validate", "verdict"]);
    // A newer drop takes the record over: the trail goes on; a delete leaves it too.
    await store.register(f.at(2), { fileId: f.id, source: "drop" }, drop);
    expect(await store.markDeleted(f.id, f.at(2))).toBe(true);
    const trail = await store.trail(f.id);
    expect(trail.map((e) => e.action)).toEqual(["drop", "stage:validate", "verdict", "drop"]);
    expect(trail[0]).toMatchObject({
      actor: "system:contract",
      detail: { key: "k" },
      at: expect.any(String),
    });
    expect(await store.trail("c-no-such-file-0000000000")).toEqual([]);
  });

  it("keeps the whole trail of a drop key taken over by a thousand newer objects", async () => {
    // A system that drops the same key every hour: each object's arrival and stage results are audited. The
    // record must stay writable (an item holds at most 400 KB) and the trail must lose nothing.
    const store = make();
    const f = fresh();
    const detail = { key: "drops/contract/every-hour.csv", system: "contract", reasons: ["x".repeat(200)] };
    for (let seq = 1; seq <= 1000; seq++) {
      const drop = { action: "drop", actor: "system:contract", detail: { ...detail, seq } };
      expect((await store.register(f.at(seq), { fileId: f.id, source: "drop" }, drop)).won).toBe(true);
      const stage = { action: "stage:validate", actor: "pipeline", detail: { status: "passed", seq } };
      await store.putStageResult(f.id, f.at(seq), passed, stage);
    }
    const trail = await store.trail(f.id);
    expect(trail).toHaveLength(2000);
    expect(trail.map((e) => e.detail?.seq)).toEqual(
      Array.from({ length: 1000 }, (_, i) => [i + 1, i + 1]).flat(),
    );
    expect((await store.get(f.id))?.version.sequencer).toBe(f.at(1000).sequencer);
  }, 120_000);

  it("opens an upload session once and closes it once", async () => {
    const store = make();
    const f = fresh();
    const session: UploadSession = {
      fileId: f.id,
      owner: "alice",
      key: `uploads/${f.id}/a.pdf`,
      filename: "a.pdf",
      contentType: "application/pdf",
      size: 5,
      expiresAt: 2_000_000_000,
      createdAt: "2026-11-22T00:00:00.000Z",
    };
    await store.putUploadSession(session);
    await expect(store.putUploadSession(session)).rejects.toThrow(UploadSessionExistsError);
    expect(await store.getUploadSession(f.id)).toMatchObject({ owner: "alice", size: 5 });
    expect(await store.closeUploadSession(f.id, "completed", 2_000_000_000)).toEqual({
      won: true,
      how: "completed",
    });
    expect(await store.closeUploadSession(f.id, "aborted", 2_000_000_000)).toEqual({
      won: false,
      how: "completed",
    });
    await store.reopenUploadSession(f.id, "aborted"); // not how it was closed: stays closed
    expect((await store.closeUploadSession(f.id, "aborted", 2_000_000_000)).won).toBe(false);
    await store.reopenUploadSession(f.id, "completed");
    expect((await store.closeUploadSession(f.id, "aborted", 2_000_000_000)).won).toBe(true);
  });
});

describe("DynamoRecordStore: the audit trail with a clock that stands still", () => {
  it("keeps entries that are alike and of one millisecond, each once, across the move off the record", async () => {
    const store = new DynamoRecordStore(
      dynamo.client,
      dynamo.table,
      () => new Date("2026-12-01T00:00:00.000Z"),
    );
    const f = fresh();
    // Two versions of a drop key whose entries say the same things at the same instant are still two entries.
    const drop = { action: "drop", actor: "system:contract", detail: { key: "k" } };
    for (let seq = 1; seq <= 40; seq++)
      expect((await store.register(f.at(seq), { fileId: f.id, source: "drop" }, drop)).won).toBe(true);
    await store.audit(f.id, { action: "download", actor: "user:x" });
    await store.audit(f.id, { action: "download", actor: "user:x" });
    const trail = await store.trail(f.id);
    expect(trail.filter((e) => e.action === "drop")).toHaveLength(40);
    expect(trail.filter((e) => e.action === "download")).toHaveLength(2);
  });
});
