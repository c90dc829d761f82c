/**
 * The embedded AWS emulators, each on its own loopback port: s3rver (S3), dynalite (DynamoDB, in memory) and
 * fauxqs (SNS + SQS, in memory). They speak the real wire protocols, so the SDK clients only differ by endpoint.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFauxqs } from "fauxqs";
import type { S3EventRecordLike } from "./s3-events.ts";
import { listPartsMiddleware } from "./s3rver-list-parts.ts";

const require = createRequire(import.meta.url);

/** The credentials s3rver checks SigV4 signatures against; the other emulators accept any. */
export const LOCAL_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;
export const LOCAL_REGION = "us-east-1";

interface S3rverInstance {
  middleware: KoaMiddleware[];
  store: { getResourcePath(bucket: string, key: string | undefined, resource: string): string };
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(event: "event", listener: (event: { Records: S3EventRecordLike[] }) => void): void;
}

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

type KoaContext = {
  method: string;
  path: string;
  query: Record<string, unknown>;
  status: number;
  body: unknown;
};
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

/**
 * s3rver has no AbortMultipartUpload (`DELETE /bucket/key?uploadId=…` is "method not allowed"). Its router
 * authenticates the request before it refuses the method, so that refusal means a signed request: drop the
 * stored parts as S3 would, and answer 204 (404 NoSuchUpload for an unknown upload).
 */
function abortMultipartUpload(s3rver: S3rverInstance): KoaMiddleware {
  const S3Error = require("@20minutes/s3rver/lib/models/error.js") as new (
    code: string,
    message: string,
  ) => Error;
  return async (ctx, next) => {
    const uploadId = ctx.query.uploadId;
    if (ctx.method !== "DELETE" || typeof uploadId !== "string") return next();
    try {
      await next();
    } catch (error) {
      if ((error as { code?: string }).code !== "MethodNotAllowed") throw error;
      const bucket = decodeURIComponent(ctx.path.split("/")[1] ?? "");
      if (!/^[0-9a-f]+$/.test(uploadId))
        throw new S3Error("NoSuchUpload", "The specified upload does not exist.");
      const dir = join(s3rver.store.getResourcePath(bucket, undefined, "uploads"), uploadId);
      if (!existsSync(dir)) throw new S3Error("NoSuchUpload", "The specified upload does not exist.");
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      ctx.body = "";
    }
  };
}

type CopyHandler = (ctx: { headers: Record<string, string | undefined> }) => Promise<void>;
let copyShimInstalled = false;

/**
 * s3rver reads x-amz-copy-source with decodeURI, which leaves `%2B`, `%2C`, `%3D`… encoded where S3 decodes every
 * escape. Its copy handlers run after the signature check, so they can be given the header as S3 would read it.
 */
function installCopySourceShim(): void {
  if (copyShimInstalled) return;
  copyShimInstalled = true;
  const controller = require("@20minutes/s3rver/lib/controllers/object.js") as Record<string, CopyHandler>;
  for (const name of ["putObjectCopy", "uploadPartCopy"]) {
    const original = controller[name] as CopyHandler;
    controller[name] = (ctx) => {
      const source = ctx.headers["x-amz-copy-source"];
      if (source) {
        const [path = "", query] = source.split("?");
        ctx.headers["x-amz-copy-source"] = encodeURI(decodeURIComponent(path)) + (query ? `?${query}` : "");
      }
      return original(ctx);
    };
  }
}

/** Browser origins a bucket answers CORS for (presigned POST and part uploads, the ETag exposed). */
export type BucketCors = Record<string, string[]>;

function corsXml(origins: string[]): string {
  const xmlText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return `<CORSConfiguration><CORSRule>${origins.map((o) => `<AllowedOrigin>${xmlText(o)}</AllowedOrigin>`).join("")}<AllowedMethod>POST</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>`;
}

export async function startEmulators(
  buckets: string[],
  ports: EmulatorPorts = {},
  cors: BucketCors = {},
): Promise<Emulators> {
  const s3DataDir = await mkdtemp(join(tmpdir(), "airlock-s3-"));
  installCopySourceShim();
  const S3rver = require("@20minutes/s3rver") as new (options: object) => S3rverInstance;
  const s3rver = new S3rver({
    address: "127.0.0.1",
    port: ports.s3 ?? 0,
    silent: true,
    directory: s3DataDir,
    resetOnClose: false,
    vhostBuckets: false,
    configureBuckets: buckets.map((name) => {
      const origins = cors[name] ?? [];
      return { name, configs: origins.length > 0 ? [corsXml(origins)] : [] };
    }),
  });
  const listeners: ((record: S3EventRecordLike) => void)[] = [];
  s3rver.on("event", (event) => {
    for (const record of event.Records) for (const listener of listeners) listener(record);
  });
  // Just before the router, so that the router's own checks (signature first) run inside it.
  s3rver.middleware.splice(s3rver.middleware.length - 1, 0, abortMultipartUpload(s3rver));
  s3rver.middleware.splice(s3rver.middleware.length - 1, 0, listPartsMiddleware(s3rver.store));
  const s3Address = await s3rver.run();

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
    s3: `http://127.0.0.1:${s3Address.port}`,
    dynamodb: `http://127.0.0.1:${dynamoPort}`,
    sqs: fauxqs.address,
    sns: fauxqs.address,
    s3DataDir,
    onS3Event: (listener) => listeners.push(listener),
    async stop() {
      await Promise.allSettled([
        s3rver.close(),
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
    execArgv: [],
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
  return {
    ...ready,
    forwardS3Events: (bucket, topicArn) => worker.postMessage({ type: "forward", bucket, topicArn }),
    async stop() {
      const stopped = new Promise<void>((resolve) => worker.once("message", () => resolve()));
      worker.postMessage({ type: "stop" });
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 5_000))]);
      await worker.terminate();
    },
  };
}
