/**
 * Promotion under races, through the whole local stack (real emulators over HTTP, the Lambda handler modules):
 * hundreds of keys, random delays, clean files overwritten with EICAR a few milliseconds later, upload forms
 * posted twice, files deleted while they are being promoted. Afterwards the clean bucket must hold judged bytes
 * only: every object in it hashes to the `sha256` of a VERIFIED record of that key, and none is EICAR.
 *
 * The plan is drawn from a fixed seed (`AIRLOCK_RACE_SEED` overrides it), so a failing run can be replayed.
 */
import { createHash } from "node:crypto";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3ObjectStore } from "../../core/adapters/s3-objects.ts";
import { describeKey, padSequencer } from "../../core/domain/keys.ts";
import type { FileRecord, ObjectVersion } from "../../core/domain/types.ts";
import { settle } from "../../core/usecases/pipeline/settle.ts";
import { mintToken } from "../../local/gateway.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { EICAR } from "../fixtures/malicious.ts";
import { clientsFor } from "../support/local.ts";

const SEED = Number(process.env.AIRLOCK_RACE_SEED ?? 20261201);
const KEYS = 240;

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;
let alice: string;

beforeAll(async () => {
  stack = await startLocalStack({
    sweepIntervalMs: 3_600_000,
    visibilityTimeoutSeconds: 2,
    maxReceiveCount: 4,
  });
  io = clientsFor(stack);
  alice = await mintToken(stack.state.api, { sub: "alice" });
});

afterAll(() => stack?.stop());

/** A clean text exactly as long as EICAR, so that a form presigned for one fits the other. */
function cleanText(i: number): Uint8Array {
  const line = `clean file number ${i} of the race, nothing to see here`;
  return new TextEncoder().encode(`${line.padEnd(EICAR.length - 1, ".")}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Scenario =
  /** Drop a clean file, then EICAR under the same key `gap` ms later (or the other way round). */
  | { kind: "overwrite"; eicarFirst: boolean; gap: number }
  /** Drop a clean file and delete it from quarantine `gap` ms later, racing the stages and the promotion. */
  | { kind: "drop-delete"; gap: number }
  /** Post an upload form with a clean file, then post the same form again with EICAR `gap` ms later. */
  | { kind: "repost"; gap: number }
  /** Post an upload form with a clean file and delete the file through the API `gap` ms later. */
  | { kind: "upload-delete"; gap: number }
  /** Upload, wait for the verdict, delete the file, then post the same form again (clean or EICAR). */
  | { kind: "delete-repost"; eicar: boolean };

/** Mostly a few milliseconds (the second write lands while the first is judged), sometimes past promotion. */
const gap = fc.oneof(fc.nat(40), fc.integer({ min: 40, max: 1500 }));

const scenario: fc.Arbitrary<Scenario> = fc.oneof(
  fc.record({ kind: fc.constant("overwrite"), eicarFirst: fc.boolean(), gap }),
  fc.record({ kind: fc.constant("drop-delete"), gap }),
  fc.record({ kind: fc.constant("repost"), gap }),
  fc.record({ kind: fc.constant("upload-delete"), gap }),
  fc.record({ kind: fc.constant("delete-repost"), eicar: fc.boolean() }),
) as fc.Arbitrary<Scenario>;

/** The fields of the API's answers this test reads. */
interface ApiAnswer {
  fileId: string;
  key: string;
  upload: { url: string; fields: Record<string, string> };
}

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.state.api.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${alice}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as ApiAnswer };
}

interface Form {
  fileId: string;
  url: string;
  fields: Record<string, string>;
}

async function presign(name: string, size: number): Promise<Form> {
  const res = await call("POST", "/uploads", { filename: name, contentType: "text/plain", size });
  if (res.status !== 201) throw new Error(`presign failed: ${res.status} ${JSON.stringify(res.body)}`);
  touched.add(res.body.key);
  return { fileId: res.body.fileId, url: res.body.upload.url, fields: res.body.upload.fields };
}

async function post(form: Form, bytes: Uint8Array): Promise<number> {
  const body = new FormData();
  for (const [k, v] of Object.entries(form.fields)) body.append(k, v);
  body.append("file", new Blob([bytes]));
  return (await fetch(form.url, { method: "POST", body })).status;
}

/** Deletes through the API once the file is known to it (the first tries may come before it landed). */
async function deleteFile(fileId: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const res = await call("DELETE", `/files/${fileId}`);
    if (res.status === 204) return;
    await sleep(20);
  }
}

async function waitDecided(fileId: string): Promise<void> {
  for (let i = 0; i < 800; i++) {
    const record = await io.records.get(fileId);
    if (record && record.status !== "PENDING" && record.notifiedAt) return;
    await sleep(25);
  }
  throw new Error(`${fileId} never reached a verdict`);
}

async function play(i: number, plan: Scenario): Promise<void> {
  const clean = cleanText(i);
  switch (plan.kind) {
    case "overwrite": {
      const key = `drops/race/overwrite-${i}.txt`;
      const [first, second] = plan.eicarFirst ? [EICAR, clean] : [clean, EICAR];
      touched.add(key);
      await io.drop(key, first, "text/plain");
      await sleep(plan.gap);
      await io.drop(key, second, "text/plain");
      return;
    }
    case "drop-delete": {
      const key = `drops/race/deleted-${i}.txt`;
      touched.add(key);
      await io.drop(key, clean, "text/plain");
      await sleep(plan.gap);
      await io.s3.send(new DeleteObjectCommand({ Bucket: stack.state.ingestBucket, Key: key }));
      return;
    }
    case "repost": {
      const form = await presign(`repost-${i}.txt`, clean.length);
      await post(form, clean);
      await sleep(plan.gap);
      await post(form, EICAR);
      return;
    }
    case "upload-delete": {
      const form = await presign(`deleted-${i}.txt`, clean.length);
      await post(form, clean);
      await sleep(plan.gap);
      await deleteFile(form.fileId);
      return;
    }
    case "delete-repost": {
      const form = await presign(`revived-${i}.txt`, clean.length);
      await post(form, clean);
      await waitDecided(form.fileId);
      await deleteFile(form.fileId);
      await post(form, plan.eicar ? EICAR : clean);
      return;
    }
  }
}

/** Every key the test put into quarantine: promotion copies under the same key, text under `text/<id>.txt`. */
const touched = new Set<string>();

async function cleanObject(key: string): Promise<Buffer | undefined> {
  try {
    const got = await io.s3.send(new GetObjectCommand({ Bucket: stack.state.cleanBucket, Key: key }));
    return Buffer.from((await got.Body?.transformToByteArray()) ?? []);
  } catch (error) {
    if ((error as Error).name === "NoSuchKey") return undefined;
    throw error;
  }
}

async function cleanKeys(prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await io.s3.send(
      new ListObjectsCommand({ Bucket: stack.state.cleanBucket, Prefix: prefix, Marker: marker }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ""));
    if (!page.IsTruncated || keys.length === 0) return keys;
    marker = keys[keys.length - 1];
  }
}

/**
 * The clean bucket's objects (all of them, or those of the given keys), with the violations of the invariant
 * they show: every object hashes to the sha256 of a VERIFIED record of its key, and extracted text is only ever
 * that of a VERIFIED file.
 */
async function cleanBucketViolations(keys?: Iterable<string>): Promise<string[]> {
  const violations: string[] = [];
  const eicar = Buffer.from(EICAR);
  const fileKeys = keys ? [...keys] : (await cleanKeys()).filter((k) => !k.startsWith("text/"));
  const textKeys = keys
    ? fileKeys.map((k) => `text/${describeKey(stack.state.ingestBucket, k).fileId}.txt`)
    : await cleanKeys("text/");
  for (const key of textKeys) {
    const fileId = key.slice("text/".length, -".txt".length);
    const record = await io.records.get(fileId);
    if ((await cleanObject(key)) && !(record?.status === "VERIFIED" && record.textKey === key))
      violations.push(`${key}: text of a file that is ${record?.status ?? "unknown"}`);
  }
  for (const key of fileKeys) {
    const { fileId } = describeKey(stack.state.ingestBucket, key);
    const bytes = await cleanObject(key);
    const record: FileRecord | undefined = await io.records.get(fileId);
    if (!bytes) continue;
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (bytes.includes(eicar)) violations.push(`${key}: EICAR in the clean bucket`);
    if (!record) violations.push(`${key}: no record`);
    else if (record.key !== key) violations.push(`${key}: the record is of ${record.key}`);
    else if (record.status !== "VERIFIED") violations.push(`${key}: the record is ${record.status}`);
    else if (record.sha256 !== sha256)
      violations.push(`${key}: bytes ${sha256.slice(0, 12)}… are not the judged ${record.sha256}`);
  }
  return violations;
}

describe("Promotion races on the local stack", () => {
  it(`keeps the clean bucket to judged bytes across ${KEYS} racing keys (seed ${SEED})`, async () => {
    const plans = fc.sample(scenario, { seed: SEED, numRuns: KEYS });
    const started = Date.now();
    await Promise.all(plans.map((plan, i) => sleep(i * 90).then(() => play(i, plan))));
    await stack.idle(90_000);
    const violations = await cleanBucketViolations();
    const counts = plans.reduce<Record<string, number>>((acc, p) => {
      acc[p.kind] = (acc[p.kind] ?? 0) + 1;
      return acc;
    }, {});
    const statuses: Record<string, number> = {};
    const promoted: string[] = [];
    for (const key of touched) {
      const record = await io.records.get(describeKey(stack.state.ingestBucket, key).fileId);
      const status = `${record?.status ?? "none"}${record?.cleanKey ? "+clean" : ""}`;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (record?.status === "VERIFIED" && record.cleanKey) promoted.push(record.cleanKey);
    }
    // The check saw the bucket: every promoted file is there (and was checked above).
    const listed = new Set(await cleanKeys());
    expect(promoted.length).toBeGreaterThan(KEYS / 10);
    expect(promoted.filter((key) => !listed.has(key))).toEqual([]);
    console.info(
      `race: ${KEYS} keys ${JSON.stringify(counts)} in ${Date.now() - started} ms; records ${JSON.stringify(statuses)}; ${violations.length} violations`,
      violations.slice(0, 20),
    );
    expect(violations, `seed ${SEED}`).toEqual([]);
  }, 180_000);

  it("never promotes the newer object of a key put after the judged one", async () => {
    // Control: the plain case the race is built on, so a broken stack shows here before in the race.
    const key = "drops/race/control.txt";
    touched.add(key);
    const fileId = await io.drop(key, cleanText(-1), "text/plain");
    await io.waitFinal(fileId);
    // The newer object judged (and notified), then the stack quiet: its S3 event is published after the write
    // answers, so idle queues alone could be the moment before it.
    await io.drop(key, EICAR, "text/plain");
    expect((await io.waitFinal(fileId, 30_000)).status).toBe("INFECTED");
    await stack.idle(30_000);
    expect(await cleanBucketViolations([key])).toEqual([]);
  });
});

describe("Promotion pinned to the judged bytes (local stack)", () => {
  const bucket = "airlock-window";
  const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

  beforeAll(async () => {
    // A bucket the stack sends no events for: these tests play the stages' part themselves.
    await io.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  async function cleanCopyOf(key: string) {
    return cleanObject(key);
  }

  it("does not promote an object overwritten with EICAR between its judgement and the copy", async () => {
    const key = "drops/window/report.txt";
    const bytes = cleanText(-2);
    const put = await io.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: "text/plain" }),
    );
    const version: ObjectVersion = {
      bucket,
      key,
      ...(put.VersionId ? { versionId: put.VersionId } : {}),
      eTag: put.ETag?.replace(/"/g, "") ?? "",
      sequencer: padSequencer("A1"),
      size: bytes.length,
    };
    const { fileId } = describeKey(bucket, key);
    // Judged clean, as the three stages would record it.
    await io.records.register(version, { fileId, source: "drop", owner: "system:window" });
    const txt = { id: "txt", mime: "text/plain", ext: "txt" };
    const at = new Date().toISOString();
    await io.records.putStageResult(fileId, version, {
      stage: "validate",
      status: "passed",
      reasons: [],
      detectedType: txt,
      size: bytes.length,
      at,
    });
    await io.records.putStageResult(fileId, version, {
      stage: "scan",
      status: "clean",
      engines: [{ engine: "builtin", status: "clean" }],
      reasons: [],
      at,
    });
    const judged = await io.records.putStageResult(fileId, version, {
      stage: "metadata",
      status: "ok",
      facts: { sha256: sha(bytes), size: bytes.length, detectedType: txt },
      reasons: [],
      at,
    });

    // Someone writes EICAR under the key right before the promotion's copy reaches S3.
    const racing = new S3Client({
      region: stack.state.region,
      credentials: stack.state.credentials,
      endpoint: stack.state.endpoints.s3,
      forcePathStyle: true,
    });
    let overwritten = false;
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "CopyObjectCommand" && !overwritten) {
          overwritten = true;
          await io.s3.send(
            new PutObjectCommand({ Bucket: bucket, Key: key, Body: EICAR, ContentType: "text/plain" }),
          );
        }
        return next(args);
      },
      { step: "initialize", name: "overwriteBeforeCopy" },
    );
    const sent: string[] = [];
    await settle(judged.record, {
      records: io.records,
      objects: new S3ObjectStore(racing),
      notifier: {
        publish: async (m) => {
          sent.push(m.attributes.status ?? "");
          return `m${sent.length}`;
        },
      },
      cleanBucket: stack.state.cleanBucket,
    });

    expect(overwritten).toBe(true);
    const copied = await cleanCopyOf(key);
    const record = await io.records.get(fileId);
    if (version.versionId) {
      // Versioned: the judged version is copied, whatever is current now.
      expect(copied && sha(copied)).toBe(sha(bytes));
      expect(record?.status).toBe("VERIFIED");
    } else {
      // Unversioned: the judged ETag no longer holds, so nothing is promoted and the file is held.
      expect(copied).toBeUndefined();
      expect(record?.status).toBe("FAILED");
      expect(record?.reasons.join()).toMatch(/replaced after it was judged/);
      expect(sent).toEqual(["FAILED"]);
    }
  });

  it("never judges an event that names neither a version id nor an ETag", async () => {
    const key = "drops/window/unpinned.txt";
    const bytes = cleanText(-3);
    await io.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: "text/plain" }),
    );
    const sns = new SNSClient({
      region: stack.state.region,
      credentials: stack.state.credentials,
      endpoint: stack.state.endpoints.sns,
    });
    const event = {
      Records: [
        {
          eventName: "ObjectCreated:Put",
          s3: { bucket: { name: bucket }, object: { key, size: bytes.length, sequencer: "0A1B" } },
        },
      ],
    };
    await sns.send(
      new PublishCommand({ TopicArn: stack.state.fanoutTopicArn, Message: JSON.stringify(event) }),
    );
    const record = await io.waitFinal(describeKey(bucket, key).fileId);
    expect(record.status).toBe("FAILED");
    expect(record.reasons.join()).toMatch(/neither a version id nor an ETag/);
    expect(record.promotedAt).toBeUndefined();
    expect(await cleanCopyOf(key)).toBeUndefined();
  });
});
