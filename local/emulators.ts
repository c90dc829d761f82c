/**
 * The embedded AWS emulators, each on its own loopback port: the local S3 (./s3: versioned, SigV4 and POST
 * policies enforced), dynalite (DynamoDB) and fauxqs (SNS + SQS). They speak the real wire protocols, so the SDK
 * clients only differ by endpoint. In memory by default (S3's blobs in a temporary directory removed at stop);
 * with a data directory, each keeps its state there and restores it at start: `s3/` (blobs and the index's
 * journal), `dynamodb/` (dynalite's LevelDB) and `sqs/` (fauxqs's SQLite: queues, messages, topics,
 * subscriptions).
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startFauxqs } from "fauxqs";
import { eventRecord, startLocalS3 } from "./s3/server.ts";
import type { S3EventRecordLike } from "./s3-events.ts";

const require = createRequire(import.meta.url);

/** The credentials the local S3 verifies SigV4 signatures against; the other emulators accept any. */
export const LOCAL_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;
export const LOCAL_REGION = "us-east-1";

export interface Emulators {
  s3: string;
  dynamodb: string;
  sqs: string;
  sns: string;
  s3DataDir: string;
  /** Each S3 commit's event; `delivered(seq)` once it was handed on (or needs no handing on). */
  onS3Event(listener: (record: S3EventRecordLike, seq: number) => void): void;
  /** Events committed and not yet delivered: after a restart on a data directory, the ones still owed. */
  undeliveredS3Events(): { record: S3EventRecordLike; seq: number }[];
  delivered(seq: number): void;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Keep all state in this directory and restore it at start; in memory when undefined. */
  dataDir?: string;
}

export interface EmulatorPorts {
  s3?: number;
  dynamodb?: number;
  sqs?: number;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

interface LevelDb {
  open(): Promise<void>;
  iterator(options: object): AsyncIterable<[string, unknown]>;
  batch(operations: { type: "put" | "del"; key: string; value?: unknown }[]): Promise<void>;
  close(): Promise<void>;
}
interface DynaliteTable {
  TableName: string;
  TableStatus?: string;
  LocalSecondaryIndexes?: unknown[];
  GlobalSecondaryIndexes?: unknown[];
}

/** The table as dynalite's activation timer leaves it, when a kill came before the timer; else undefined. */
function finishTable(table: DynaliteTable): DynaliteTable | undefined {
  const indexes = (table.GlobalSecondaryIndexes ?? []) as { IndexStatus?: string }[];
  if (table.TableStatus === "ACTIVE" && indexes.every((index) => index.IndexStatus === "ACTIVE"))
    return undefined;
  if (table.TableStatus !== "CREATING" && table.TableStatus !== "UPDATING" && table.TableStatus !== "ACTIVE")
    return undefined; // DELETING: Airlock never deletes a table; dynalite's own deletion is left as it is
  return {
    ...table,
    TableStatus: "ACTIVE",
    ...(table.GlobalSecondaryIndexes
      ? { GlobalSecondaryIndexes: indexes.map((index) => ({ ...index, IndexStatus: "ACTIVE" })) }
      : {}),
  };
}

/**
 * Rebuilds dynalite's secondary indexes from its items, and finishes tables a kill left CREATING, before it
 * opens its LevelDB. dynalite writes a put's
 * index entries and then its item in separate writes: a process killed in between leaves index entries of a
 * state the item never reached (a query by status would return a record as it was not), or misses some. In
 * DynamoDB an index converges on its table; here it is made to at each start.
 */
async function rebuildDynaliteIndexes(path: string): Promise<void> {
  const dynaliteDb = require("dynalite/db/index.js") as {
    getIndexActions(
      indexes: unknown[],
      old: unknown,
      item: unknown,
      table: DynaliteTable,
    ): { puts: { index: string; key: string; item: unknown }[] };
  };
  const { Level } = require(require.resolve("level", { paths: [require.resolve("dynalite")] })) as {
    Level: new (path: string, options: object) => LevelDb;
  };
  const db = new Level(path, { valueEncoding: "json" });
  // LevelDB's lock is also what keeps a second stack off the whole data directory (it opens first).
  await db.open().catch((error: { code?: string; cause?: { code?: string } }) => {
    if (error.code === "LEVEL_LOCKED" || error.cause?.code === "LEVEL_LOCKED")
      throw new Error(`the data directory ${dirname(path)} is in use by another local stack`);
    throw error;
  });
  try {
    const range = (prefix: string) => ({ gte: prefix, lt: `${prefix}\uffff` });
    const tables: DynaliteTable[] = [];
    for await (const [, table] of db.iterator(range("table~"))) tables.push(table as DynaliteTable);
    for (const table of tables) {
      const operations: { type: "put" | "del"; key: string; value?: unknown }[] = [];
      // dynalite writes a new or changed table twice, CREATING (UPDATING) and then, on a timer, ACTIVE: a kill in
      // between left a new table unusable for good (every request: ResourceNotFoundException) and a changed one
      // UPDATING for good. Finish what the timer did.
      const finished = finishTable(table);
      if (finished) operations.push({ type: "put", key: `table~${table.TableName}`, value: finished });
      for (const type of ["local", "global"]) {
        for await (const [key] of db.iterator({
          ...range(`index-${type}~${table.TableName}~`),
          values: false,
        }))
          operations.push({ type: "del", key });
      }
      for await (const [, item] of db.iterator(range(`item-${table.TableName}~`))) {
        for (const [type, indexes] of [
          ["local", table.LocalSecondaryIndexes ?? []],
          ["global", table.GlobalSecondaryIndexes ?? []],
        ] as const) {
          for (const put of dynaliteDb.getIndexActions(indexes, null, item, table).puts)
            operations.push({
              type: "put",
              key: `index-${type}~${table.TableName}~${put.index}~${put.key}`,
              value: put.item,
            });
        }
      }
      if (operations.length > 0) await db.batch(operations);
    }
  } finally {
    await db.close();
  }
}

/** Browser origins a bucket answers CORS for (presigned POST and part uploads, the ETag exposed). */
export type BucketCors = Record<string, string[]>;

export async function startEmulators(
  buckets: string[],
  ports: EmulatorPorts = {},
  cors: BucketCors = {},
  options: EmulatorOptions = {},
): Promise<Emulators> {
  const persistent = options.dataDir !== undefined;
  const at = (name: string) => join(options.dataDir as string, name);
  if (persistent) {
    await mkdir(at("dynamodb"), { recursive: true });
    await rebuildDynaliteIndexes(at("dynamodb"));
  }
  const s3DataDir = persistent ? at("s3") : await mkdtemp(join(tmpdir(), "airlock-s3-"));
  const s3 = await startLocalS3({
    dataDir: s3DataDir,
    persistent,
    buckets,
    cors,
    credentials: [LOCAL_CREDENTIALS],
    region: LOCAL_REGION,
    port: ports.s3,
  });

  const dynalite = require("dynalite") as (options: object) => Server;
  const dynamoServer = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(persistent ? { path: at("dynamodb") } : {}),
  });
  const dynamoPort = await listen(dynamoServer, ports.dynamodb ?? 0);

  const fauxqs = await startFauxqs({
    port: ports.sqs ?? 0,
    host: "127.0.0.1",
    logger: false,
    defaultRegion: LOCAL_REGION,
    ...(persistent ? { dataDir: at("sqs") } : {}),
  });

  return {
    s3: s3.url,
    dynamodb: `http://127.0.0.1:${dynamoPort}`,
    sqs: fauxqs.address,
    sns: fauxqs.address,
    s3DataDir,
    onS3Event: (listener) => s3.onEvent(listener),
    undeliveredS3Events: () =>
      s3.store.undelivered().map((event) => ({ record: eventRecord(event), seq: event.seq })),
    delivered: (seq) => s3.store.delivered(seq),
    async stop() {
      await Promise.allSettled([
        s3.close(),
        new Promise<void>((resolve) => dynamoServer.close(() => resolve())),
        fauxqs.stop(),
      ]);
      if (!persistent) await rm(s3DataDir, { recursive: true, force: true });
    },
  };
}

export interface EmulatorThread {
  s3: string;
  dynamodb: string;
  sqs: string;
  sns: string;
  /** Publishes the bucket's ObjectCreated events to the topic, as an S3 event notification does. */
  forwardS3Events(bucket: string, topicArn: string): void;
  /** Called once if the emulator thread ends without stop() (an uncaught error, a crash): nothing serves then. */
  onExit(listener: (reason: string) => void): void;
  stop(): Promise<void>;
  /** Ends the thread at once, as a crash would: nothing is closed or flushed (tests of persistence). */
  kill(): Promise<void>;
}

/** Starts the emulators on a worker thread (their own event loop and core). */
export async function startEmulatorThread(
  buckets: string[],
  ports: EmulatorPorts = {},
  cors: BucketCors = {},
  options: EmulatorOptions = {},
): Promise<EmulatorThread> {
  const { Worker } = await import("node:worker_threads");
  // Node 24 runs the TypeScript worker directly (type stripping); nothing of the parent's loaders is needed.
  const worker = new Worker(new URL("./emulator-worker.ts", import.meta.url), {
    workerData: { buckets, ports, cors, options },
    // Only the profiler's flags pass on, so that `node --cpu-prof` profiles the emulators too.
    execArgv: process.execArgv.filter((a) => a.startsWith("--cpu-prof")),
  });
  const ready = await new Promise<{ s3: string; dynamodb: string; sqs: string; sns: string }>(
    (resolve, reject) => {
      worker.once("error", reject);
      worker.once(
        "message",
        (reply: {
          type: string;
          message?: string;
          s3: string;
          dynamodb: string;
          sqs: string;
          sns: string;
        }) =>
          reply.type === "ready"
            ? resolve(reply)
            : reject(new Error(`emulators failed to start: ${reply.message}`)),
      );
    },
  );
  let stopping = false;
  let killed = false;
  let failure: unknown;
  const exitListeners: ((reason: string) => void)[] = [];
  worker.on("error", (error) => {
    failure = error;
  });
  worker.on("exit", (code) => {
    if (stopping) return;
    const reason = failure instanceof Error ? failure.message : `thread exit code ${code}`;
    for (const listener of exitListeners) listener(reason);
  });
  return {
    ...ready,
    forwardS3Events: (bucket, topicArn) => worker.postMessage({ type: "forward", bucket, topicArn }),
    onExit: (listener) => exitListeners.push(listener),
    async stop() {
      if (killed) return;
      stopping = true;
      const stopped = new Promise<void>((resolve) => worker.once("message", () => resolve()));
      worker.postMessage({ type: "stop" });
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 5_000))]);
      await worker.terminate();
    },
    async kill() {
      stopping = true;
      killed = true;
      await worker.terminate();
    },
  };
}
