import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoRecordStore } from "../../../core/adapters/dynamo-records.ts";
import { parseStageMessage } from "../../../core/domain/events.ts";
import { describeKey, padSequencer } from "../../../core/domain/keys.ts";
import type { ObjectVersion } from "../../../core/domain/types.ts";
import type { Notifier, ObjectStore, OutgoingNotification } from "../../../core/ports/index.ts";
import { sweep } from "../../../core/usecases/pipeline/sweep.ts";
import { startDynamo } from "../../support/dynamo.ts";

let dynamo: Awaited<ReturnType<typeof startDynamo>>;
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(() => dynamo.stop());

/** Port fakes: the sweep's decisions are what is under test, not S3 or SNS. */
function fakes() {
  const tagged: string[] = [];
  const sent: OutgoingNotification[] = [];
  const objects: ObjectStore = {
    readHead: async () => ({ bytes: new Uint8Array(), size: 0, metadata: {} }),
    stream: async () => (async function* () {})(),
    promote: async (v) => ({ key: v.key }),
    withdraw: async () => undefined,
    remove: async () => undefined,
    tag: async (v, tags) => {
      tagged.push(`${v.key}=${tags["airlock-status"]}`);
    },
  };
  const notifier: Notifier = {
    publish: async (m) => {
      sent.push(m);
      return `m${sent.length}`;
    },
  };
  return { objects, notifier, tagged, sent };
}

describe("Function: sweep", () => {
  it("re-drives a stuck file once past the threshold, then fails it past twice the threshold", async () => {
    const registeredAt = new Date("2026-11-22T10:00:00Z");
    const store = new DynamoRecordStore(dynamo.client, dynamo.table, () => registeredAt);
    const key = "drops/erp/stuck file+1.csv";
    const version: ObjectVersion = {
      bucket: "ingest",
      key,
      eTag: "e",
      sequencer: padSequencer("1F"),
      size: 10,
    };
    const { fileId } = describeKey("ingest", key);
    await store.register(version, { fileId, source: "drop", owner: "system:erp" });
    await store.putStageResult(fileId, version, {
      stage: "validate",
      status: "passed",
      reasons: [],
      size: 10,
      at: "t",
    });

    const { objects, notifier, tagged, sent } = fakes();
    const redriven: string[] = [];
    const deps = {
      records: store,
      objects,
      notifier,
      cleanBucket: "clean",
      redrive: async (e: string) => void redriven.push(e),
    };

    const early = await sweep(deps, 300, new Date("2026-11-22T10:04:00Z"));
    expect(early).toEqual({ redriven: [], failed: [], rescanned: [], renotified: [], unsettled: [] });

    const first = await sweep(deps, 300, new Date("2026-11-22T10:06:00Z"));
    expect(first.redriven).toEqual([fileId]);
    const [replayed] = parseStageMessage(redriven[0] ?? "");
    expect(replayed?.version).toMatchObject({ key, sequencer: version.sequencer, eTag: "e" });

    const late = await sweep(deps, 300, new Date("2026-11-22T10:11:00Z"));
    expect(late.failed).toEqual([fileId]);
    const record = await store.get(fileId);
    expect(record?.status).toBe("FAILED");
    expect(record?.reasons).toEqual([
      "scan stage failed: no result within 600 s",
      "metadata stage failed: no result within 600 s",
    ]);
    expect(tagged).toEqual([`${key}=FAILED`]);
    expect(sent.map((m) => m.attributes.status)).toEqual(["FAILED"]);
  });
});
