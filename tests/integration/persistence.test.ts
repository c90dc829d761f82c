/**
 * Persistence of the local stack (`AIRLOCK_DATA_DIR`): S3 versions, delete markers, tags and multipart uploads,
 * DynamoDB items and SQS messages survive a hard stop of the emulators; an S3 event committed but not yet
 * forwarded is published after the restart (S3 delivers event notifications at least once); and `npm start`
 * killed with SIGKILL mid-burst starts again on its data directory and finishes every file.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, describe, expect, it } from "vitest";
import { describeKey } from "../../core/domain/keys.ts";
import { FINAL_STATUSES } from "../../core/domain/types.ts";
import { API_SECRETS_FILE } from "../../local/api-secrets.ts";
import { freePortBase } from "../../local/chaos.ts";
import { localRecords, localS3 } from "../../local/cli/clients.ts";
import {
  type EmulatorThread,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startEmulatorThread,
} from "../../local/emulators.ts";
import { mintToken } from "../../local/gateway.ts";
import { type LocalState, startLocalStack } from "../../local/stack.ts";

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(name: string) {
  const dir = await mkdtemp(join(tmpdir(), name));
  dirs.push(dir);
  return dir;
}

const config = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
function clientsOf(emulators: EmulatorThread) {
  return {
    s3: new S3Client({ ...config, endpoint: emulators.s3, forcePathStyle: true }),
    dynamodb: new DynamoDBClient({ ...config, endpoint: emulators.dynamodb }),
    sqs: new SQSClient({ ...config, endpoint: emulators.sqs }),
    sns: new SNSClient({ ...config, endpoint: emulators.sns }),
  };
}

const require = createRequire(import.meta.url);

/** A table as the stack's (a key and a status index), ACTIVE before anything is written to it, as AWS requires. */
async function createRecordsTable(dynamodb: DynamoDBClient, projection: "ALL" | "KEYS_ONLY") {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: "records",
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: ["pk", "status"].map((AttributeName) => ({ AttributeName, AttributeType: "S" })),
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      GlobalSecondaryIndexes: [
        {
          IndexName: "byStatus",
          KeySchema: [{ AttributeName: "status", KeyType: "HASH" }],
          Projection: { ProjectionType: projection },
        },
      ],
    }),
  );
  await waitUntilTableExists({ client: dynamodb, minDelay: 1, maxWaitTime: 30 }, { TableName: "records" });
}

/** dynalite's LevelDB in a stopped stack's data directory, opened as dynalite opens it. */
function dynaliteLevel(dataDir: string) {
  const { Level } = require(require.resolve("level", { paths: [require.resolve("dynalite")] })) as {
    Level: new (
      path: string,
      options: object,
    ) => {
      get(key: string): Promise<unknown>;
      put(key: string, value: unknown): Promise<void>;
      close(): Promise<void>;
    };
  };
  return new Level(join(dataDir, "dynamodb"), { valueEncoding: "json" });
}

/** The same topic → queue wiring, created again as the stack does at each start. */
async function wiring(c: ReturnType<typeof clientsOf>) {
  const topicArn = (await c.sns.send(new CreateTopicCommand({ Name: "events" }))).TopicArn ?? "";
  const url = (await c.sqs.send(new CreateQueueCommand({ QueueName: "events" }))).QueueUrl ?? "";
  const arn =
    (await c.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] })))
      .Attributes?.QueueArn ?? "";
  await c.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: "sqs", Endpoint: arn }));
  return { topicArn, url };
}

async function receiveAll(sqs: SQSClient, url: string, until: (bodies: string[]) => boolean) {
  const bodies: string[] = [];
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && !until(bodies)) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    bodies.push(...(out.Messages ?? []).map((m) => m.Body ?? ""));
  }
  return bodies;
}

const s3Keys = (bodies: string[]) =>
  bodies.map((b) => {
    const event = JSON.parse(JSON.parse(b).Message) as {
      Records: { s3: { object: { key: string; versionId?: string; sequencer: string } } }[];
    };
    return event.Records[0]?.s3.object as { key: string; versionId?: string; sequencer: string };
  });

describe("Local stack persistence", () => {
  it("keeps S3, DynamoDB and SQS state across a hard stop of the emulators, and forwards events still owed", async () => {
    const dataDir = await tempDir("airlock-data-");
    const bucket = "persisted";
    const first = await startEmulatorThread([bucket], {}, {}, { dataDir });
    const a = clientsOf(first);
    const events = await wiring(a);
    first.forwardS3Events(bucket, events.topicArn);
    const put = (Key: string, Body: string) => a.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
    const v1 = await put("doc.txt", "first");
    const v2 = await put("doc.txt", "second");
    const marker = await a.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "doc.txt" }));
    await a.s3.send(
      new PutObjectTaggingCommand({
        Bucket: bucket,
        Key: "doc.txt",
        VersionId: v1.VersionId,
        Tagging: { TagSet: [{ Key: "airlock", Value: "judged" }] },
      }),
    );
    const upload = await a.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "big.bin" }));
    const part = await a.s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: "big.bin",
        UploadId: upload.UploadId,
        PartNumber: 1,
        Body: "part one",
      }),
    );
    await a.dynamodb.send(
      new CreateTableCommand({
        TableName: "records",
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      }),
    );
    await a.dynamodb.send(
      new PutItemCommand({ TableName: "records", Item: { pk: { S: "file-1" }, status: { S: "VERIFIED" } } }),
    );
    const work = (await a.sqs.send(new CreateQueueCommand({ QueueName: "work" }))).QueueUrl ?? "";
    await a.sqs.send(new SendMessageCommand({ QueueUrl: work, MessageBody: "still to do" }));
    // The events of these writes forwarded, then a write whose event is committed but not yet published.
    const forwarded = await put("forwarded.txt", "sent");
    const sent = s3Keys(await receiveAll(a.sqs, events.url, (b) => b.length >= 3));
    expect(sent.map((o) => o.key).sort()).toEqual(["doc.txt", "doc.txt", "forwarded.txt"]);
    // The publish fails (no such topic) and is retried until the kill.
    first.forwardS3Events(bucket, `${events.topicArn}-missing`);
    const owed = await put("owed.txt", "not yet sent");
    await new Promise((r) => setTimeout(r, 300));
    await first.kill();

    const second = await startEmulatorThread([bucket], {}, {}, { dataDir });
    try {
      const b = clientsOf(second);
      const versions = await b.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: "doc.txt" }));
      expect(versions.Versions?.map((v) => v.VersionId).sort()).toEqual([v1.VersionId, v2.VersionId].sort());
      expect(versions.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([
        [marker.VersionId, true],
      ]);
      const old = await b.s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: "doc.txt", VersionId: v1.VersionId }),
      );
      expect(await old.Body?.transformToString()).toBe("first");
      expect(old.ETag).toBe(v1.ETag);
      const tags = await b.s3.send(
        new GetObjectTaggingCommand({ Bucket: bucket, Key: "doc.txt", VersionId: v1.VersionId }),
      );
      expect(tags.TagSet).toEqual([{ Key: "airlock", Value: "judged" }]);
      const parts = await b.s3.send(
        new ListPartsCommand({ Bucket: bucket, Key: "big.bin", UploadId: upload.UploadId }),
      );
      expect(parts.Parts?.map((p) => [p.PartNumber, p.ETag])).toEqual([[1, part.ETag]]);
      const item = await b.dynamodb.send(
        new GetItemCommand({ TableName: "records", Key: { pk: { S: "file-1" } } }),
      );
      expect(item.Item?.status?.S).toBe("VERIFIED");
      const queued = await receiveAll(b.sqs, work, (got) => got.length >= 1);
      expect(queued).toEqual(["still to do"]);

      // The owed event is published once forwarding is on again, with the sequencer it was committed with,
      // and a new write gets a larger one.
      const again = await wiring(b);
      expect(again.topicArn).toBe(events.topicArn);
      second.forwardS3Events(bucket, again.topicArn);
      const after = await b.s3.send(new PutObjectCommand({ Bucket: bucket, Key: "after.txt", Body: "x" }));
      const objects = s3Keys(await receiveAll(b.sqs, again.url, (got) => got.length >= 2));
      // The two publishes are concurrent: they may arrive in either order, the sequencers say which came first.
      const byKey = new Map(objects.map((o) => [o.key, o]));
      expect(objects).toHaveLength(2);
      expect(byKey.get("owed.txt")?.versionId).toBe(owed.VersionId);
      expect(byKey.get("after.txt")?.versionId).toBe(after.VersionId);
      expect(BigInt(`0x${byKey.get("after.txt")?.sequencer}`)).toBeGreaterThan(
        BigInt(`0x${byKey.get("owed.txt")?.sequencer}`),
      );
      // Nothing delivered before the kill is published again.
      expect(objects.map((o) => o.versionId)).not.toContain(forwarded.VersionId);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it("rebuilds DynamoDB's index entries that a kill between dynalite's index and item writes left stale", async () => {
    const dataDir = await tempDir("airlock-index-");
    const first = await startEmulatorThread(["b"], {}, {}, { dataDir });
    const dynamodb = clientsOf(first).dynamodb;
    await createRecordsTable(dynamodb, "ALL");
    await dynamodb.send(
      new PutItemCommand({ TableName: "records", Item: { pk: { S: "file-1" }, status: { S: "VERIFIED" } } }),
    );
    await first.kill();
    // dynalite writes a put's index entries, then its item, in separate LevelDB writes: killed in between, an
    // index entry of a state the item never reached stays behind (here: file-1 as PENDING).
    const dynaliteDb = require("dynalite/db/index.js") as {
      getIndexActions(
        indexes: unknown[],
        old: unknown,
        item: unknown,
        table: unknown,
      ): { puts: { key: string; item: unknown }[] };
    };
    const level = dynaliteLevel(dataDir);
    const table = (await level.get("table~records")) as { GlobalSecondaryIndexes: unknown[] };
    const ghost = { pk: { S: "file-1" }, status: { S: "PENDING" } };
    const [entry] = dynaliteDb.getIndexActions(table.GlobalSecondaryIndexes, null, ghost, table).puts;
    await level.put(`index-global~records~byStatus~${entry?.key}`, ghost);
    await level.close();

    const second = await startEmulatorThread(["b"], {}, {}, { dataDir });
    try {
      const query = (status: string) =>
        clientsOf(second).dynamodb.send(
          new QueryCommand({
            TableName: "records",
            IndexName: "byStatus",
            KeyConditionExpression: "#s = :s",
            ExpressionAttributeNames: { "#s": "status" },
            ExpressionAttributeValues: { ":s": { S: status } },
          }),
        );
      expect((await query("PENDING")).Items).toEqual([]);
      expect((await query("VERIFIED")).Items?.map((i) => i.pk?.S)).toEqual(["file-1"]);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it("finishes creating a table that a kill left CREATING (dynalite writes the table twice: CREATING, then ACTIVE)", async () => {
    const dataDir = await tempDir("airlock-creating-");
    const first = await startEmulatorThread(["b"], {}, {}, { dataDir });
    const dynamodb = clientsOf(first).dynamodb;
    await createRecordsTable(dynamodb, "KEYS_ONLY");
    await first.kill();
    // As if killed between the two writes: the table as its first write left it.
    const level = dynaliteLevel(dataDir);
    const table = (await level.get("table~records")) as Record<string, unknown>;
    const indexes = table.GlobalSecondaryIndexes as Record<string, unknown>[];
    await level.put("table~records", {
      ...table,
      TableStatus: "CREATING",
      GlobalSecondaryIndexes: indexes.map((index) => ({ ...index, IndexStatus: "CREATING" })),
    });
    await level.close();

    const second = await startEmulatorThread(["b"], {}, {}, { dataDir });
    try {
      const db = clientsOf(second).dynamodb;
      await db.send(
        new PutItemCommand({
          TableName: "records",
          Item: { pk: { S: "file-1" }, status: { S: "VERIFIED" } },
        }),
      );
      const described = await db.send(new DescribeTableCommand({ TableName: "records" }));
      expect(described.Table?.TableStatus).toBe("ACTIVE");
      expect(described.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexStatus)).toEqual(["ACTIVE"]);
      expect(
        (await db.send(new GetItemCommand({ TableName: "records", Key: { pk: { S: "file-1" } } }))).Item,
      ).toBeDefined();
    } finally {
      await second.stop();
    }
  }, 60_000);

  it("refuses a second stack on a data directory in use, touching nothing", async () => {
    const dataDir = await tempDir("airlock-twice-");
    const first = await startEmulatorThread(["b"], {}, {}, { dataDir });
    try {
      const put = await clientsOf(first).s3.send(new PutObjectCommand({ Bucket: "b", Key: "k", Body: "v" }));
      await expect(startEmulatorThread(["b"], {}, {}, { dataDir })).rejects.toThrow(
        `the data directory ${dataDir} is in use by another local stack`,
      );
      const after = await clientsOf(first).s3.send(
        new PutObjectCommand({ Bucket: "b", Key: "k2", Body: "w" }),
      );
      await first.kill();
      const again = await startEmulatorThread(["b"], {}, {}, { dataDir });
      try {
        const s3 = clientsOf(again).s3;
        expect((await s3.send(new GetObjectCommand({ Bucket: "b", Key: "k" }))).VersionId).toBe(
          put.VersionId,
        );
        expect((await s3.send(new GetObjectCommand({ Bucket: "b", Key: "k2" }))).VersionId).toBe(
          after.VersionId,
        );
      } finally {
        await again.stop();
      }
    } finally {
      await first.stop().catch(() => undefined);
    }
  }, 60_000);

  it("refuses a data directory whose API secrets file is not one, in words, and lets the directory go", async () => {
    const dataDir = await tempDir("airlock-secrets-");
    await writeFile(join(dataDir, API_SECRETS_FILE), "not a key\n");
    await expect(startLocalStack({ dataDir, sweepIntervalMs: 3_600_000 })).rejects.toThrow(
      /api-secrets\.json is not a local stack's API secrets file; remove it/,
    );
    // The emulators it had started are stopped again: the directory is free for the next start.
    const again = await startEmulatorThread(["b"], {}, {}, { dataDir });
    await again.stop();
  }, 60_000);

  it("survives a torn last line of the S3 journal", async () => {
    const dataDir = await tempDir("airlock-torn-");
    const first = await startEmulatorThread(["torn"], {}, {}, { dataDir });
    const kept = await clientsOf(first).s3.send(
      new PutObjectCommand({ Bucket: "torn", Key: "kept.txt", Body: "kept" }),
    );
    await first.kill();
    // A write cut short by the kill: half a line at the end of the journal.
    appendFileSync(join(dataDir, "s3", "journal.jsonl"), '{"t":"put","b":"torn","k":"half');
    const second = await startEmulatorThread(["torn"], {}, {}, { dataDir });
    try {
      const s3 = clientsOf(second).s3;
      const got = await s3.send(new GetObjectCommand({ Bucket: "torn", Key: "kept.txt" }));
      expect(got.VersionId).toBe(kept.VersionId);
      expect(await got.Body?.transformToString()).toBe("kept");
      await s3.send(new PutObjectCommand({ Bucket: "torn", Key: "next.txt", Body: "next" }));
    } finally {
      await second.stop();
    }
    const third = await startEmulatorThread(["torn"], {}, {}, { dataDir });
    try {
      const got = await clientsOf(third).s3.send(new GetObjectCommand({ Bucket: "torn", Key: "next.txt" }));
      expect(await got.Body?.transformToString()).toBe("next");
    } finally {
      await third.stop();
    }
  }, 60_000);

  it("finishes every file after `npm start` is killed with SIGKILL mid-burst and started again", async () => {
    const dataDir = await tempDir("airlock-kill-data-");
    const stateDir = await tempDir("airlock-kill-state-");
    const base = await freePortBase(21_000 + Math.floor(Math.random() * 1_800) * 5);
    // The first life gets the directory from AIRLOCK_DATA_DIR, the second from --data-dir.
    const start = async (how: "env" | "flag") => {
      const { AIRLOCK_DATA_DIR: _unset, ...inherited } = process.env;
      const flag = how === "flag" ? ["--data-dir", dataDir] : [];
      const child = spawn(process.execPath, ["--import", "tsx", "local/start.ts", ...flag], {
        env: {
          ...inherited,
          ...(how === "env" ? { AIRLOCK_DATA_DIR: dataDir } : {}),
          AIRLOCK_STATE_DIR: stateDir,
          AIRLOCK_PORT_BASE: String(base),
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.push(child);
      let out = "";
      child.stdout?.on("data", (c: Buffer) => {
        out += c.toString();
      });
      child.stderr?.on("data", (c: Buffer) => {
        out += c.toString();
      });
      const deadline = Date.now() + 60_000;
      while (!/local stack ready/.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`not ready: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const state = JSON.parse(await readFile(join(stateDir, "local.json"), "utf8")) as LocalState;
      return { child, state, output: () => out };
    };
    const settled = async (state: LocalState, keys: string[]) => {
      const records = localRecords(state);
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const all = await Promise.all(
          keys.map((key) => records.get(describeKey(state.ingestBucket, key).fileId)),
        );
        if (
          all.every((r) => r && (FINAL_STATUSES as readonly string[]).includes(r.status) && r.notificationId)
        )
          return all;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error("files not settled after the restart");
    };
    const notified = async () =>
      (await readFile(join(stateDir, "outbox.jsonl"), "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { attributes: { fileId: string } }).attributes.fileId);

    const one = await start("env");
    const s3 = localS3(one.state);
    const drop = (key: string) =>
      s3.send(
        new PutObjectCommand({ Bucket: one.state.ingestBucket, Key: key, Body: `clean text ${key}\n` }),
      );
    await drop("drops/persist/before.txt");
    const [before] = await settled(one.state, ["drops/persist/before.txt"]);
    // A user's token and a page cursor, handed out before the kill.
    const token = await mintToken(one.state.api, { sub: "alice" });
    const api = async (state: LocalState, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${state.api.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const uploaded: string[] = [];
    for (const name of ["one.txt", "two.txt"]) {
      const plan = (
        await api(one.state, "POST", "/uploads", { filename: name, contentType: "text/plain", size: 4 })
      ).body as unknown as { fileId: string; upload: { url: string; fields: Record<string, string> } };
      const form = new FormData();
      for (const [k, v] of Object.entries(plan.upload.fields)) form.append(k, v);
      form.append("file", new Blob(["page"]));
      expect((await fetch(plan.upload.url, { method: "POST", body: form })).status).toBeLessThan(300);
      uploaded.push(plan.fileId);
    }
    const listedIds = async () =>
      ((await api(one.state, "GET", "/files")).body.files as { fileId: string }[]).map((f) => f.fileId);
    for (let i = 0; (await listedIds()).length < uploaded.length; i++) {
      if (i >= 200) throw new Error(`the uploads were not listed: ${JSON.stringify(await listedIds())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const firstPage = await api(one.state, "GET", "/files?limit=1");
    const cursor = firstPage.body.nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    // A burst, and the whole process killed while it is being processed.
    const burst = Array.from({ length: 12 }, (_, i) => `drops/persist/burst-${i}.txt`);
    await Promise.all(burst.map(drop));
    one.child.kill("SIGKILL");
    await new Promise((r) => one.child.once("exit", r));

    const two = await start("flag");
    expect(two.output()).toContain(`Data      ${dataDir}  (kept across restarts)`);
    // Both files that hold the issuer's key are for the owner only.
    for (const file of [join(stateDir, "local.json"), join(dataDir, API_SECRETS_FILE)])
      expect((await stat(file)).mode & 0o777, file).toBe(0o600);
    // The token and the cursor still work: the issuer's key and the cursor secret are kept in the directory.
    const secondPage = await api(two.state, "GET", `/files?limit=1&cursor=${encodeURIComponent(cursor)}`);
    expect(secondPage.status, JSON.stringify(secondPage.body)).toBe(200);
    const listed = [firstPage, secondPage].map((p) => (p.body.files as { fileId: string }[])[0]?.fileId);
    expect(listed.sort()).toEqual([...uploaded].sort());
    const all = await settled(two.state, ["drops/persist/before.txt", ...burst]);
    expect(all[0]?.status).toBe("VERIFIED");
    expect(all[0]?.notificationId).toBe(before?.notificationId);
    expect(all.every((r) => r?.status === "VERIFIED")).toBe(true);
    const got = await localS3(two.state).send(
      new GetObjectCommand({ Bucket: two.state.cleanBucket, Key: "drops/persist/before.txt" }),
    );
    expect(await got.Body?.transformToString()).toBe("clean text drops/persist/before.txt\n");
    // The outbox of the first run is still there; every file notified at least once.
    // (A notification taken from the outbox queue but not yet printed when the kill came is received again
    // after its visibility timeout.)
    const wanted = all.map((r) => r?.fileId ?? "");
    let ids = await notified();
    for (const deadline = Date.now() + 45_000; Date.now() < deadline; ids = await notified()) {
      if (wanted.every((id) => ids.includes(id))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(ids).toContain(before?.fileId);
    for (const id of wanted) expect(ids).toContain(id);
    // A second `npm start` on the same data directory (on other ports) is refused, in words.
    const otherBase = await freePortBase(base + 5);
    const third = spawn(process.execPath, ["--import", "tsx", "local/start.ts", "--data-dir", dataDir], {
      env: {
        ...process.env,
        AIRLOCK_STATE_DIR: await tempDir("airlock-kill-state3-"),
        AIRLOCK_PORT_BASE: String(otherBase),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(third);
    let stderr = "";
    third.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => third.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(`the data directory ${dataDir} is in use by another local stack`);
    expect(stderr).not.toMatch(/\n\s+at /);
    two.child.kill("SIGTERM");
    await new Promise((r) => two.child.once("exit", r));
  }, 180_000);
});
