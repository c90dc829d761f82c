/**
 * The composition root: every AWS SDK client is built here (`createClients`) and nowhere else — by each Lambda
 * handler (once per cold start, at module load), the sweeper, the local stack and the CLI (with the local
 * endpoints and credentials). Each handler module builds its own set, as each Lambda has its own process: in
 * the local stack, where the handlers share one, they so keep their own connection pools as in AWS. Each client is traced with Powertools Tracer (X-Ray subsegments per call); the
 * tracer turns itself off outside Lambda (no `AWS_EXECUTION_ENV`), under SAM local and with
 * `POWERTOOLS_TRACE_ENABLED=false`, and then leaves the client untouched.
 *
 * In AWS the clients use the default endpoints; the local stack sets the standard `AWS_ENDPOINT_URL_<SERVICE>`
 * variables (or passes `endpoints`) and the clients only differ by endpoint (plus path-style addressing, which
 * the S3 emulator needs).
 *
 * Extra middleware (fault injection in tests, for instance) is added to every client in one place:
 * `addClientMiddleware`, which also reaches clients built before it was called.
 */
// First: it decides the X-Ray SDK's mode before the tracer loads it.
import "./xray-mode.ts";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SSMClient } from "@aws-sdk/client-ssm";
import { TextractClient } from "@aws-sdk/client-textract";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoRecordStore } from "../adapters/dynamo-records.ts";
import { DynamoOcrJobStore, DynamoTextStore } from "../adapters/dynamo-staging.ts";
import { S3ObjectStore } from "../adapters/s3-objects.ts";
import { SnsNotifier } from "../adapters/sns-notifier.ts";
import { readSecureParameter } from "../adapters/ssm-parameter.ts";
import { TextractOcr } from "../adapters/textract-ocr.ts";
import type { OcrMode } from "../domain/types.ts";
import type { SettleDeps } from "../usecases/pipeline/settle.ts";
import { ConfigurationError, ConfigurationObjectError } from "./errors.ts";

export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "airlock" });

// ---------------------------------------------------------------------------------------------------------
// Extra middleware for every client

/** What a middleware sees of an SDK request (`request` is set from the build step on). */
export interface SdkArgs {
  input: object;
  request?: unknown;
}
export interface SdkOutput {
  output: object;
  response: unknown;
}
export type SdkHandler = (args: SdkArgs) => Promise<SdkOutput>;
export interface SdkContext {
  clientName?: string;
  commandName?: string;
}
export type SdkStep = "initialize" | "serialize" | "build" | "finalizeRequest" | "deserialize";

export interface ClientMiddleware {
  name: string;
  /**
   * Where in the SDK's stack it runs (default `initialize`: once per command, outside the SDK's retries;
   * `finalizeRequest` and `deserialize` run once per attempt, inside them).
   */
  step?: SdkStep;
  middleware: (next: SdkHandler, context: SdkContext) => SdkHandler;
}

const STEPS: readonly SdkStep[] = ["initialize", "serialize", "build", "finalizeRequest", "deserialize"];
const registered: ClientMiddleware[] = [];

/**
 * Adds a middleware to every SDK client, built before or after this call; returns the function that removes
 * it again. Middleware added later runs inside middleware added earlier.
 */
export function addClientMiddleware(middleware: ClientMiddleware): () => void {
  registered.push(middleware);
  return () => {
    const at = registered.indexOf(middleware);
    if (at >= 0) registered.splice(at, 1);
  };
}

interface StackOwner {
  middlewareStack: { add: (middleware: never, options: never) => void };
}

/** One dispatcher per step, which runs whatever middleware is registered for it when a request passes. */
function installDispatchers(client: StackOwner, own: readonly ClientMiddleware[]): void {
  for (const step of STEPS) {
    const dispatcher = (next: SdkHandler, context: SdkContext): SdkHandler => {
      return (args) => {
        // Most requests meet no extra middleware: pass them on without building a chain.
        if (own.length === 0 && registered.length === 0) return next(args);
        const active = [...own, ...registered].filter((m) => (m.step ?? "initialize") === step);
        let handler = next;
        for (const m of active.reverse()) handler = m.middleware(handler, context);
        return handler(args);
      };
    };
    client.middlewareStack.add(
      dispatcher as never,
      { step, name: `airlockMiddleware-${step}`, priority: step === "deserialize" ? "low" : "high" } as never,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// The clients

export type Service = "s3" | "dynamodb" | "sns" | "sqs" | "ssm" | "textract";

export interface ClientConfig {
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Endpoints by service; unset ones come from `AWS_ENDPOINT_URL_<SERVICE>` or the SDK's defaults. */
  endpoints?: Partial<Record<Service, string>>;
  /** SDK attempts per request (the SDK retries throttling, 5xx and network errors only). */
  maxAttempts?: number;
  /** Middleware for these clients only (besides what `addClientMiddleware` adds to all). */
  middleware?: readonly ClientMiddleware[];
}

export interface AwsClients {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  /** The document client over `dynamodb` (plain JavaScript values in and out). */
  readonly documents: DynamoDBDocumentClient;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  readonly ssm: SSMClient;
  readonly textract: TextractClient;
}

/** Builds each client on first use and keeps it; every client is traced and carries the extra middleware. */
export function createClients(
  config: ClientConfig = {},
  env: Record<string, string | undefined> = process.env,
): AwsClients {
  const base = (service: Service) => ({
    region: config.region,
    credentials: config.credentials,
    endpoint: config.endpoints?.[service],
    maxAttempts: config.maxAttempts,
  });
  const finish = <C extends StackOwner>(client: C): C => {
    installDispatchers(client, config.middleware ?? []);
    return tracer.captureAWSv3Client(client);
  };
  const cache = new Map<keyof AwsClients, unknown>();
  const once = <K extends keyof AwsClients>(key: K, build: () => AwsClients[K]): AwsClients[K] => {
    if (!cache.has(key)) cache.set(key, build());
    return cache.get(key) as AwsClients[K];
  };
  const clients: AwsClients = {
    get s3() {
      return once("s3", () =>
        finish(
          new S3Client({
            ...base("s3"),
            forcePathStyle: config.endpoints?.s3 !== undefined || env.AWS_ENDPOINT_URL_S3 !== undefined,
            // The checksums S3 adds by default are not understood by every S3-compatible store; SigV4 still
            // signs bodies.
            requestChecksumCalculation: "WHEN_REQUIRED",
            responseChecksumValidation: "WHEN_REQUIRED",
          }),
        ),
      );
    },
    get dynamodb() {
      return once("dynamodb", () => finish(new DynamoDBClient(base("dynamodb"))));
    },
    get documents() {
      return once("documents", () =>
        DynamoDBDocumentClient.from(clients.dynamodb, {
          marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
        }),
      );
    },
    get sns() {
      return once("sns", () => finish(new SNSClient(base("sns"))));
    },
    get sqs() {
      return once("sqs", () => finish(new SQSClient(base("sqs"))));
    },
    get ssm() {
      return once("ssm", () => finish(new SSMClient(base("ssm"))));
    },
    get textract() {
      return once("textract", () => finish(new TextractClient(base("textract"))));
    },
  };
  return clients;
}

// ---------------------------------------------------------------------------------------------------------
// Adapters over the clients

export interface PipelineEnv {
  AIRLOCK_TABLE_NAME: string;
  AIRLOCK_CLEAN_BUCKET: string;
  AIRLOCK_NOTIFICATIONS_TOPIC_ARN: string;
}

export interface PipelineDeps extends SettleDeps {
  records: DynamoRecordStore;
  objects: S3ObjectStore;
  texts: DynamoTextStore;
}

export function pipelineDeps(env: PipelineEnv, clients: AwsClients): PipelineDeps {
  return {
    records: new DynamoRecordStore(clients.documents, env.AIRLOCK_TABLE_NAME),
    objects: new S3ObjectStore(clients.s3),
    notifier: new SnsNotifier(clients.sns, env.AIRLOCK_NOTIFICATIONS_TOPIC_ARN),
    cleanBucket: env.AIRLOCK_CLEAN_BUCKET,
    texts: new DynamoTextStore(clients.documents, clients.s3, env.AIRLOCK_TABLE_NAME),
    // The notification lease: at least the function timeout (the local stack's is its visibility timeout).
    ...(process.env.AIRLOCK_NOTIFICATION_LEASE_SECONDS
      ? { notificationLeaseSeconds: Number(process.env.AIRLOCK_NOTIFICATION_LEASE_SECONDS) }
      : {}),
  };
}

export interface OcrEnv {
  AIRLOCK_TABLE_NAME: string;
  AIRLOCK_OCR: OcrMode;
  AIRLOCK_OCR_TOPIC_ARN: string;
  AIRLOCK_OCR_ROLE_ARN: string;
}

/**
 * Textract and the OCR job store. Textract is not emulated locally: where the other services point at local
 * endpoints and none is set for Textract, there is no engine and OCR is recorded as skipped.
 */
export function ocrDeps(
  env: OcrEnv,
  source: Record<string, string | undefined> = process.env,
  clients: AwsClients,
) {
  const local = source.AWS_ENDPOINT_URL_S3 !== undefined && source.AWS_ENDPOINT_URL_TEXTRACT === undefined;
  const engine =
    env.AIRLOCK_OCR === "off" || local
      ? undefined
      : new TextractOcr(clients.textract, {
          topicArn: env.AIRLOCK_OCR_TOPIC_ARN,
          roleArn: env.AIRLOCK_OCR_ROLE_ARN,
        });
  return { engine, jobs: new DynamoOcrJobStore(clients.documents, env.AIRLOCK_TABLE_NAME) };
}

/** Publishes a message to the fan-out topic, as S3's event notification would (redrives and rescans). */
export function fanoutPublisher(topicArn: string, clients: AwsClients): (message: string) => Promise<void> {
  return async (message) => {
    await clients.sns.send(new PublishCommand({ TopicArn: topicArn, Message: message }));
  };
}

/**
 * Reads an `s3://bucket/key` configuration object (a blocklist, YARA rules) as UTF-8 text at cold start; a
 * cold start that cannot read it fails, naming the object.
 */
export async function readConfigurationObject(url: string, clients: AwsClients): Promise<string> {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(url) ?? [];
  if (!bucket || !key) throw new ConfigurationObjectError(url, "expected s3://bucket/key");
  try {
    const out = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await out.Body?.transformToString("utf-8")) ?? "";
  } catch (cause) {
    throw new ConfigurationObjectError(url, "could not be read", { cause });
  }
}

/**
 * The API's cursor-signing secret: given directly (the local stack), or read once from the SSM SecureString
 * that the stack creates (AWS), so that it is not in the function's environment.
 */
export async function cursorSecret(
  env: {
    AIRLOCK_CURSOR_SECRET?: string;
    AIRLOCK_CURSOR_SECRET_PARAMETER?: string;
  },
  clients: AwsClients,
): Promise<string> {
  if (env.AIRLOCK_CURSOR_SECRET) return env.AIRLOCK_CURSOR_SECRET;
  if (env.AIRLOCK_CURSOR_SECRET_PARAMETER)
    return readSecureParameter(clients.ssm, env.AIRLOCK_CURSOR_SECRET_PARAMETER);
  throw new ConfigurationError(
    "Invalid configuration: set AIRLOCK_CURSOR_SECRET or AIRLOCK_CURSOR_SECRET_PARAMETER",
  );
}
