import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoRecordStore } from "../../../core/adapters/dynamo-records.ts";
import { describeKey, padSequencer } from "../../../core/domain/keys.ts";
import type { ObjectVersion } from "../../../core/domain/types.ts";
import type { Notifier, ObjectStore, OutgoingNotification, RecordStore } from "../../../core/ports/index.ts";
import { NOTIFICATION_LEASE_SECONDS, settle } from "../../../core/usecases/pipeline/settle.ts";
import { sweep } from "../../../core/usecases/pipeline/sweep.ts";
import { startDynamo } from "../../support/dynamo.ts";

let dynamo: Awaited<ReturnType<typeof startDynamo>>;
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(() => dynamo.stop());

class Crash extends Error {}

function fakes() {
  const sent: OutgoingNotification[] = [];
  const objects: ObjectStore = {
    readHead: async () => ({ bytes: new Uint8Array(), size: 0, metadata: {} }),
    stream: async () => (async function* () {})(),
    promote: async (v) => ({ key: v.key }),
    withdraw: async () => undefined,
    remove: async () => undefined,
    tag: async () => undefined,
  };
  const notifier: Notifier = {
    publish: async (m) => {
      sent.push(m);
      return `m${sent.length}`;
    },
  };
  return { objects, notifier, sent };
}

/** A record store whose process dies right after the notification claim is written. */
function crashingAfterClaim(store: RecordStore): RecordStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "claimNotification")
        return async (...args: Parameters<RecordStore["claimNotification"]>) => {
          await target.claimNotification(...args);
          throw new Crash("the invocation died after claiming the notification");
        };
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function decidedFile(store: DynamoRecordStore, key: string) {
  const version: ObjectVersion = { bucket: "ingest", key, eTag: "e", sequencer: padSequencer("2A"), size: 0 };
  const { fileId } = describeKey("ingest", key);
  await store.register(version, { fileId, source: "drop", owner: "system:erp" });
  // Rejected by validation (an empty file); the other stages ran.
  await store.putStageResult(fileId, version, {
    stage: "validate",
    status: "rejected",
    reasons: ["empty file"],
    size: 0,
    at: "t",
  });
  await store.putStageResult(fileId, version, {
    stage: "scan",
    status: "clean",
    engines: [],
    reasons: [],
    at: "t",
  });
  await store.putStageResult(fileId, version, { stage: "metadata", status: "ok", reasons: [], at: "t" });
  const record = await store.get(fileId);
  if (!record) throw new Error("no record");
  return record;
}

describe("Notification lease: a crash between the claim and the publish", () => {
  it("is notified by a redelivery once the lease has lapsed, not before", async () => {
    let now = new Date("2026-12-01T10:00:00Z");
    const store = new DynamoRecordStore(dynamo.client, dynamo.table, () => now);
    const record = await decidedFile(store, "drops/erp/lease-redelivery.csv");
    const { objects, notifier, sent } = fakes();
    const clock = () => now;

    await expect(
      settle(record, {
        records: crashingAfterClaim(store),
        objects,
        notifier,
        cleanBucket: "clean",
        now: clock,
      }),
    ).rejects.toThrow(Crash);
    expect(sent).toHaveLength(0);

    // A redelivery while the claim may still be held by a live invocation sends nothing.
    const deps = { records: store, objects, notifier, cleanBucket: "clean", now: clock };
    now = new Date(now.getTime() + 60_000);
    await settle((await store.get(record.fileId)) ?? record, deps);
    expect(sent).toHaveLength(0);

    // Once the lease has lapsed, the holder is dead: the redelivery claims it again and notifies, once.
    now = new Date(now.getTime() + NOTIFICATION_LEASE_SECONDS * 1000);
    await settle((await store.get(record.fileId)) ?? record, deps);
    await settle((await store.get(record.fileId)) ?? record, deps);
    const decided = await store.get(record.fileId);
    expect(decided?.status).not.toBe("PENDING");
    expect(sent.map((m) => m.attributes.status)).toEqual([decided?.status]);
    expect(decided?.notificationId).toBe("m1");
  });

  it("is notified by the sweeper when no redelivery comes (the message was already dropped)", async () => {
    let now = new Date("2026-12-01T11:00:00Z");
    const store = new DynamoRecordStore(dynamo.client, dynamo.table, () => now);
    const record = await decidedFile(store, "drops/erp/lease-sweeper.csv");
    const { objects, notifier, sent } = fakes();
    const clock = () => now;
    await expect(
      settle(record, {
        records: crashingAfterClaim(store),
        objects,
        notifier,
        cleanBucket: "clean",
        now: clock,
      }),
    ).rejects.toThrow(Crash);

    const deps = {
      records: store,
      objects,
      notifier,
      cleanBucket: "clean",
      now: clock,
      redrive: async () => {},
    };
    now = new Date(now.getTime() + 30_000);
    expect((await sweep(deps, 300, now)).renotified).toEqual([]);
    expect(sent).toHaveLength(0);

    now = new Date(now.getTime() + NOTIFICATION_LEASE_SECONDS * 1000);
    expect((await sweep(deps, 300, now)).renotified).toEqual([record.fileId]);
    const decided = await store.get(record.fileId);
    expect(sent.map((m) => m.attributes.status)).toEqual([decided?.status]);
    expect(decided?.notificationId).toBe("m1");
    // Notified and confirmed: later sweeps leave it alone.
    now = new Date(now.getTime() + NOTIFICATION_LEASE_SECONDS * 1000);
    expect((await sweep(deps, 300, now)).renotified).toEqual([]);
    expect(sent).toHaveLength(1);
  });
});
