/**
 * The embedded AWS emulators, each on its own loopback port: the local S3 (./s3: versioned, SigV4 and POST
 * policies enforced), dynalite (DynamoDB, in memory) and fauxqs (SNS + SQS, in memory). They speak the real wire
 * protocols, so the SDK clients only differ by endpoint.
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFauxqs } from "fauxqs";
import { startLocalS3 } from "./s3/server.ts";
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
  onS3Event(listener: (record: S3EventRecordLike) => void): void;
  stop(): Promise<void>;
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

/** Browser origins a bucket answers CORS for (presigned POST and part uploads, the ETag exposed). */
export type BucketCors = Record<string, string[]>;

export async function startEmulators(
  buckets: string[],
  ports: EmulatorPorts = {},
  cors: BucketCors = {},
): Promise<Emulators> {
  const s3DataDir = await mkdtemp(join(tmpdir(), "airlock-s3-"));
  const s3 = await startLocalS3({
    dataDir: s3DataDir,
    buckets,
    cors,
    credentials: [LOCAL_CREDENTIALS],
    region: LOCAL_REGION,
    port: ports.s3,
  });

  const dynalite = require("dynalite") as (options: object) => Server;
  const dynamoServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const dynamoPort = await listen(dynamoServer, ports.dynamodb ?? 0);

  const fauxqs = await startFauxqs({
    port: ports.sqs ?? 0,
    host: "127.0.0.1",
    logger: false,
    defaultRegion: LOCAL_REGION,
  });

  return {
    s3: s3.url,
    dynamodb: `http://127.0.0.1:${dynamoPort}`,
    sqs: fauxqs.address,
    sns: fauxqs.address,
    s3DataDir,
    onS3Event: (listener) => s3.onEvent(listener),
    async stop() {
      await Promise.allSettled([
        s3.close(),
        new Promise<void>((resolve) => dynamoServer.close(() => resolve())),
        fauxqs.stop(),
      ]);
      await rm(s3DataDir, { recursive: true, force: true });
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
}

/** Starts the emulators on a worker thread (their own event loop and core). */
export async function startEmulatorThread(
  buckets: string[],
  ports: EmulatorPorts = {},
  cors: BucketCors = {},
): Promise<EmulatorThread> {
  const { Worker } = await import("node:worker_threads");
  // Node 24 runs the TypeScript worker directly (type stripping); nothing of the parent's loaders is needed.
  const worker = new Worker(new URL("./emulator-worker.ts", import.meta.url), {
    workerData: { buckets, ports, cors },
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
      stopping = true;
      const stopped = new Promise<void>((resolve) => worker.once("message", () => resolve()));
      worker.postMessage({ type: "stop" });
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 5_000))]);
      await worker.terminate();
    },
  };
}
