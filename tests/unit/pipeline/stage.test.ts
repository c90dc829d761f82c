/**
 * The stage's rules around a judgement, on in-memory ports: an event that pins nothing is never read, an object
 * that is not its upload session's one object never touches the record, a drop superseded by a newer object has
 * its clean copies withdrawn before the newer one is judged, and an object larger than its limit is not read.
 */
import { describe, expect, it } from "vitest";
import type { ScanEngine } from "../../../core/domain/scan/index.ts";
import type { FileRecord, ObjectVersion, StageResult, UploadSession } from "../../../core/domain/types.ts";
import { ObjectVersionGoneError } from "../../../core/ports/index.ts";
import { scanJudge, sizeLimit } from "../../../core/usecases/pipeline/judges.ts";
import { metadataJudge } from "../../../core/usecases/pipeline/metadata.ts";
import { type Judge, runStage, UPLOAD_GONE_REASON } from "../../../core/usecases/pipeline/stage.ts";
import { MemoryNotifier, MemoryObjects, MemoryRecords } from "../../support/memory.ts";

const id = "06h3691z9rnj8021wjsnprcy4a";
const uploadKey = `uploads/${id}/a.txt`;
const seq = (n: number) => n.toString(16).padStart(64, "0");
const at = "2026-11-30T10:00:00.000Z";

function world(session?: Partial<UploadSession>) {
  const records = new MemoryRecords();
  const sessions = records.sessions;
  if (session)
    sessions.set(id, {
      fileId: id,
      owner: "alice",
      key: uploadKey,
      filename: "a.txt",
      contentType: "text/plain",
      size: 5,
      expiresAt: Date.parse(at) / 1000 + 300,
      createdAt: at,
      ...session,
    });
  const objects = new MemoryObjects(new Map());
  const deps = {
    records,
    objects,
    notifier: new MemoryNotifier(),
    cleanBucket: "clean",
  };
  return { records, objects, deps, sessions };
}

const event = (version: ObjectVersion) => ({ eventName: "ObjectCreated:Put", version });
const upload = (n: number, extra: Partial<ObjectVersion> = {}): ObjectVersion => ({
  bucket: "ingest",
  key: uploadKey,
  eTag: `e${n}`,
  sequencer: seq(n),
  size: 5,
  ...extra,
});

/** A judge that must never be called, and one that passes whatever it sees. */
const untouchable: Judge = async () => {
  throw new Error("judged something it must not read");
};
const passing: Judge = async (version) =>
  ({ stage: "validate", status: "passed", reasons: [], size: version.size, at }) as StageResult;

describe("Function: runStage, around the judgement", () => {
  it("fails an event that names neither a version id nor an ETag without reading anything", async () => {
    const w = world({});
    const unpinned = { ...upload(1), eTag: undefined };
    await runStage("validate", event(unpinned), untouchable, w.deps);
    const record = w.records.records.get(id);
    expect(record?.stages.validate).toMatchObject({
      status: "error",
      reasons: [expect.stringMatching(/neither a version id nor an ETag/)],
    });
  });

  it("judges the version the record registered, which is the one promotion copies", async () => {
    const w = world({});
    await runStage("validate", event(upload(1)), passing, w.deps);
    const seen: ObjectVersion[] = [];
    const recording: Judge = async (version, record) => {
      seen.push(version);
      return passing(version, record);
    };
    // A (forged or garbled) copy of the event: same S3 write by its sequencer, another ETag.
    await runStage("scan", event({ ...upload(1), eTag: "someone-else" }), recording, w.deps);
    expect(seen.map((v) => v.eTag)).toEqual(["e1"]);
  });

  it("rejects a second object for a used session and leaves the VERIFIED record and its clean copy alone", async () => {
    const w = world({});
    await runStage("validate", event(upload(1)), passing, w.deps);
    const record = w.records.records.get(id) as FileRecord;
    Object.assign(record, {
      status: "VERIFIED",
      promotedAt: at,
      cleanKey: uploadKey,
      cleanCopy: { key: uploadKey, versionId: "c1", sequencer: seq(1) },
      notifiedAt: at,
    });
    const before = structuredClone(record);

    const outcome = await runStage("validate", event(upload(2)), untouchable, w.deps);
    expect(outcome.outcome).toBe("rejected-extra");
    expect(w.records.records.get(id)).toEqual(before);
    expect(w.objects.tags[uploadKey]).toEqual({ "airlock-status": "REJECTED" });
    expect(w.objects.withdrawn).toEqual([]);
    expect(w.records.audits.map((a) => a.entry.action)).toContain("reject-extra-object");
    // The other stages do not judge it either, and do not tag or audit it again.
    w.objects.tags[uploadKey] = {};
    await runStage("scan", event(upload(2)), untouchable, w.deps);
    expect(w.objects.tags[uploadKey]).toEqual({});
  });

  it("does not revive a DELETED upload when the form is posted again", async () => {
    const w = world({});
    await runStage("validate", event(upload(1)), passing, w.deps);
    await w.records.markDeleted(id, upload(1));
    await runStage("validate", event(upload(5)), untouchable, w.deps);
    expect(w.records.records.get(id)?.status).toBe("DELETED");
    const audit = w.records.audits.find((a) => a.entry.action === "reject-extra-object");
    expect(audit?.entry.detail?.reason).toMatch(/deleted/);
  });

  it("ends an upload FAILED when its object is gone before it is judged: no other object can take over", async () => {
    const w = world({});
    const gone: Judge = async () => {
      throw new ObjectVersionGoneError("gone");
    };
    await runStage("scan", event(upload(1)), gone, w.deps);
    expect(w.records.records.get(id)?.stages.scan).toMatchObject({
      status: "error",
      reasons: [UPLOAD_GONE_REASON],
    });
  });

  it("withdraws a superseded drop's clean copies before the newer object is judged", async () => {
    const w = world();
    const key = "drops/billing/r.txt";
    const drop = (n: number): ObjectVersion => ({
      bucket: "ingest",
      key,
      eTag: `e${n}`,
      sequencer: seq(n),
      size: 5,
    });
    const first = await runStage("validate", event(drop(1)), passing, w.deps);
    const record = w.records.records.get(first.fileId) as FileRecord;
    Object.assign(record, {
      status: "VERIFIED",
      cleanCopy: { key, versionId: "c1", sequencer: seq(1), text: { key: "text/x.txt", versionId: "t1" } },
    });
    const order: string[] = [];
    const judging: Judge = async (version) => {
      order.push(`judge ${version.eTag} after withdrawing ${w.objects.withdrawn.join(",")}`);
      return passing(version, record);
    };
    await runStage("validate", event(drop(2)), judging, w.deps);
    expect(order).toEqual([`judge e2 after withdrawing ${key},text/x.txt`]);
    expect(w.records.records.get(first.fileId)?.cleanCopy).toBeUndefined();
  });
});

describe("Size limits: scan and metadata do not read an object larger than it may be", () => {
  const big = new Uint8Array(3 * 1024 * 1024).fill(65);
  const reader: ScanEngine = {
    name: "reader",
    async scan(source) {
      for await (const _ of source) {
      }
      return { engine: "reader", status: "clean" };
    },
  };
  const apiRecord = { fileId: id, source: "api" } as FileRecord;
  const sessions = async () => ({ size: 100 }) as UploadSession;

  it.each([
    ["the event says it is larger", big.length],
    ["only the read shows it (the event understated the size)", 100],
  ])("refuses at once when %s than the upload declared", async (_what, eventSize) => {
    const objects = new MemoryObjects(new Map([[uploadKey, big]]));
    const limit = sizeLimit(1024 ** 3, sessions);
    const version = { ...upload(1), size: eventSize };
    const scan = await scanJudge(objects, [reader], { sizeLimit: limit })(version, apiRecord);
    const metadata = await metadataJudge(objects, {
      textMaxChars: 1000,
      pdfMaxBytes: 1000,
      ocr: "off",
      sizeLimit: limit,
    })(version, apiRecord);
    expect(objects.streamed).toBe(0);
    expect(scan).toMatchObject({
      status: "error",
      engines: [{ engine: "reader", status: "error", reason: "limit-exceeded" }],
    });
    expect(scan?.reasons.join()).toMatch(
      /not read: the object is 3.0 MiB, above the 100 bytes declared for its upload/,
    );
    expect(metadata).toMatchObject({ status: "error", reasons: [expect.stringMatching(/^not read: /)] });
  });

  it("holds drops to the policy's maximum, and reads what fits", async () => {
    const objects = new MemoryObjects(new Map([["drops/a/b.txt", big]]));
    const drop = { fileId: "d", source: "drop" } as FileRecord;
    const version = {
      bucket: "ingest",
      key: "drops/a/b.txt",
      eTag: "e",
      sequencer: seq(1),
      size: big.length,
    };
    const refused = await scanJudge(objects, [reader], { sizeLimit: sizeLimit(1024 * 1024) })(version, drop);
    expect(refused?.reasons.join()).toMatch(/above the 1.0 MiB limit/);
    expect(objects.streamed).toBe(0);
    const read = await scanJudge(objects, [reader], { sizeLimit: sizeLimit(4 * 1024 * 1024) })(version, drop);
    expect(read?.status).toBe("clean");
    expect(objects.streamed).toBe(big.length);
  });
});
