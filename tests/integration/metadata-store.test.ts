import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoRecordStore } from "../../core/adapters/dynamo-records.ts";
import { DynamoOcrJobStore } from "../../core/adapters/dynamo-staging.ts";
import { padSequencer } from "../../core/domain/keys.ts";
import type { Facts, ObjectVersion } from "../../core/domain/types.ts";
import { startDynamo } from "../support/dynamo.ts";

let dynamo: Awaited<ReturnType<typeof startDynamo>>;
let records: DynamoRecordStore;
let jobs: DynamoOcrJobStore;

beforeAll(async () => {
  dynamo = await startDynamo();
  records = new DynamoRecordStore(dynamo.client, dynamo.table);
  jobs = new DynamoOcrJobStore(dynamo.client, dynamo.table);
});
afterAll(() => dynamo.stop());

const fileId = "f9aaaaaaaaaaaaaaaaaaaaaaaa";
const version = (seq: number): ObjectVersion => ({
  bucket: "ingest",
  key: "drops/s/scan.pdf",
  eTag: `e${seq}`,
  sequencer: padSequencer(seq.toString(16)),
  size: 5,
});
const facts = (status: "pending" | "done"): Facts => ({
  sha256: "00",
  size: 5,
  ocr: { engine: "textract", mode: "best-effort", status, jobId: "job-1", at: "t" },
});

describe("Method: DynamoRecordStore.list by detected type (against a DynamoDB emulator)", () => {
  it("returns only the owner's files of that type, page by page", async () => {
    const ids = ["t1", "t2", "t3", "t4"].map((p) => `${p}${"a".repeat(24)}`);
    for (const [i, id] of ids.entries()) {
      const v = { ...version(100 + i), key: `uploads/${id}/f` };
      await records.register(v, { fileId: id, source: "api", owner: "olga" });
      await records.putStageResult(id, v, {
        stage: "validate",
        status: "passed",
        reasons: [],
        size: 5,
        detectedType:
          i % 2
            ? { id: "png", mime: "image/png", ext: "png" }
            : { id: "pdf", mime: "application/pdf", ext: "pdf" },
        at: "t",
      });
    }
    const seen: string[] = [];
    let after: Record<string, string> | undefined;
    do {
      const page = await records.list({ owner: "olga", type: "pdf", limit: 1, after });
      seen.push(...page.records.map((r) => r.fileId));
      expect(page.records.every((r) => r.detectedType?.id === "pdf")).toBe(true);
      after = page.last;
    } while (after);
    expect(seen.sort()).toEqual([ids[0], ids[2]].sort());
    const both = await records.list({ owner: "olga", type: "png", status: "PENDING", limit: 10 });
    expect(both.records.map((r) => r.fileId).sort()).toEqual([ids[1], ids[3]].sort());
  });
});

describe("Class: DynamoOcrJobStore (against a DynamoDB emulator)", () => {
  it("keeps a job next to the record, completes the facts of its own version only, and forgets it", async () => {
    const v1 = version(1);
    await records.register(v1, { fileId, source: "drop" });
    await records.putStageResult(fileId, v1, {
      stage: "metadata",
      status: "ok",
      facts: facts("pending"),
      reasons: [],
      at: "t",
    });
    await jobs.put({
      fileId,
      version: v1,
      jobId: "job-1",
      mode: "best-effort",
      facts: facts("pending"),
      startedAt: "t",
    });
    expect((await jobs.get(fileId))?.jobId).toBe("job-1");

    expect(await jobs.completeFacts(fileId, v1, "job-other", facts("done"))).toBe(false);
    expect(await jobs.completeFacts(fileId, version(2), "job-1", facts("done"))).toBe(false);
    expect(await jobs.completeFacts(fileId, v1, "job-1", facts("done"))).toBe(true);
    expect((await records.get(fileId))?.stages.metadata?.facts?.ocr?.status).toBe("done");

    await jobs.remove(fileId);
    expect(await jobs.get(fileId)).toBeUndefined();
  });
});
