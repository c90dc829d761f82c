/**
 * The local stack: Airlock's AWS wiring rebuilt on the embedded emulators, running the same Lambda handler
 * modules. Buckets, table, topics and queues are created through the SDK as in AWS; the ingest bucket's
 * ObjectCreated events are published to the fan-out topic as S3 would; pollers feed the stage handlers real
 * SQS events and honour partial batch responses, so visibility timeouts, receive counts and dead-letter
 * redrive are SQS's own.
 */

import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { CreateTableCommand, waitUntilTableExists } from "@aws-sdk/client-dynamodb";
import { CreateTopicCommand, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  type ReceiveMessageCommandOutput,
  SetQueueAttributesCommand,
} from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createTableInput } from "../core/adapters/dynamo-table.ts";
import { STAGES, type StageName } from "../core/domain/types.ts";
import { createClients } from "../core/runtime/clients.ts";
import { DEFAULT_POLICY } from "../core/runtime/env.ts";
import { type FaultConfig, FaultInjector, type FaultStats } from "../core/runtime/faults.ts";
import { apiSecrets } from "./api-secrets.ts";
import { type ConsoleServer, startConsoleServer } from "./console.ts";
import { type EmulatorPorts, LOCAL_CREDENTIALS, LOCAL_REGION, startEmulatorThread } from "./emulators.ts";
import { type FunctionThread, functionThread, type InvocationTiming } from "./function-thread.ts";
import { type LocalIssuer, startGateway } from "./gateway.ts";
import { checkHealth } from "./health.ts";
import { lambdaContext as localLambdaContext } from "./lambda-context.ts";
import { type QueueDepth, queueDepth } from "./queue-depth.ts";

export interface LocalStackOptions {
  ports?: EmulatorPorts & { api?: number };
  /**
   * Keep S3, DynamoDB and SNS/SQS state in this directory and restore it at start (`AIRLOCK_DATA_DIR`); in
   * memory when undefined. Setting up on an existing directory finds what is there.
   */
  dataDir?: string;
  /** Browser origins the API gateway answers CORS for. */
  corsOrigins?: string[];
  multipartThresholdBytes?: number;
  /** Serve the web console (built static files in `dir`) with the dev sign-in. */
  console?: { dir: string; port?: number };
  /** Where to write endpoints and names for the CLI; nothing is written when undefined. */
  stateFile?: string;
  maxSizeBytes?: number;
  allowedTypes?: string[];
  scanLimits?: Partial<typeof DEFAULT_POLICY.scan>;
  /** A clamd to scan with besides the built-in engine (`tcp://host:port` or a Unix socket path). */
  clamd?: { endpoint: string; streamMaxBytes?: number; timeoutMs?: number };
  /** Wait for GuardDuty results (posted by tests through handlers/guardduty.ts: GuardDuty is not emulated). */
  guardDuty?: boolean;
  /** SHA-256 blocklist entries (as `AIRLOCK_SCAN_BLOCKLIST`), or an `s3://bucket/key` object holding them. */
  blocklist?: { entries?: string; object?: string };
  /** YARA rules (as `AIRLOCK_YARA_RULES`) or an `s3://bucket/key` rules object, with the engine's budgets. */
  yara?: { rules?: string; object?: string; maxBytes?: number; timeoutMs?: number };
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  stuckAfterSeconds?: number;
  sweepIntervalMs?: number;
  /** Test hook: make a stage's invocation crash (as a Lambda that dies) for the messages it selects. */
  crash?: (stage: StageName, body: string) => boolean;
  /** Faults injected into the handlers' SDK calls and crashes of their invocations (see core/runtime/faults.ts). */
  faults?: FaultConfig;
  /** Each sweep also runs the reconciler (as AIRLOCK_RECONCILE=on does in AWS). */
  reconcile?: boolean;
  onNotification?: (notification: LocalNotification) => void;
  /**
   * Bench hook: wraps each handler (named by its function: `validate`, `scan`, `metadata`, `deadLetter`,
   * `sweeper`, `api`) once, before the stack invokes it, e.g. to time invocations and attribute SDK calls.
   */
  instrument?: <F extends (...args: never[]) => unknown>(functionName: string, handler: F) => F;
  /**
   * Runs each queue-fed function (validate, scan, metadata, dead letter) on a thread of its own, as each Lambda
   * function has its own instances (processes) in AWS; the pollers, the API and the sweeper stay on the stack's
   * thread. Not with `instrument`, `faults` or `crash`, which act on handlers in the stack's thread.
   */
  functionThreads?: boolean;
  /** With `functionThreads`: called after each invocation of those functions with what it took. */
  onInvocation?: (functionName: string, timing: InvocationTiming & { ok: boolean }) => void;
  /**
   * Called if the emulators die under the stack. By default the stack says so on stderr and the process exits
   * with status 1: a stack without its emulators could only answer 500s.
   */
  onEmulatorExit?: (reason: string) => void;
}

export interface LocalNotification {
  subject: string;
  message: string;
  attributes: Record<string, string>;
  at: string;
}

export interface LocalState {
  region: string;
  credentials: typeof LOCAL_CREDENTIALS;
  endpoints: { s3: string; dynamodb: string; sqs: string; sns: string };
  ingestBucket: string;
  cleanBucket: string;
  tableName: string;
  fanoutTopicArn: string;
  notificationsTopicArn: string;
  queues: Record<StageName, { url: string; arn: string; dlqUrl: string; dlqArn: string }>;
  outboxQueueUrl: string;
  api: LocalIssuer & { url: string };
  /** The web console's address, when the stack serves it. */
  console?: { url: string };
}

export interface LocalStack {
  state: LocalState;
  outbox: LocalNotification[];
  /** What the fault injector did, when faults are on. */
  faults?: FaultStats;
  /**
   * Resolves once no stage, dead-letter or outbox queue has a message visible or in flight and no invocation
   * runs. Quiet queues are not settled files: what recovers on a timer has no message anywhere — a notification
   * claimed by an invocation that crashed before confirming it waits out its lease for a redelivery or the
   * sweeper, and a PENDING file whose stage never reported waits for the sweeper's stuck threshold. Wait for the
   * records too where that matters (local/chaos.ts does).
   */
  idle(timeoutMs?: number): Promise<void>;
  /**
   * What the stack is doing, for a test that times out to print: each queue's depth (visible, in flight,
   * delayed), the invocations running, and the last invocations that crashed or failed messages.
   */
  activity(): Promise<StackActivity>;
  stop(): Promise<void>;
}

export interface StackActivity {
  queues: Record<string, QueueDepth>;
  running: number;
  /** The newest last: the function, when, and the crash's error or the failed messages' count. */
  recent: { functionName: string; at: string; crashed?: string; failedMessages?: number }[];
}

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** The notification an SNS envelope (an SQS subscription's message body) carries; undefined for anything else. */
function notificationOf(body: string | undefined): LocalNotification | undefined {
  let envelope: unknown;
  try {
    envelope = JSON.parse(body ?? "");
  } catch {
    return undefined;
  }
  if (typeof envelope !== "object" || envelope === null || Array.isArray(envelope)) return undefined;
  const { Subject, Message, MessageAttributes } = envelope as Record<string, unknown>;
  if (typeof Message !== "string") return undefined;
  const attributes: Record<string, string> = {};
  if (typeof MessageAttributes === "object" && MessageAttributes !== null)
    for (const [name, value] of Object.entries(MessageAttributes)) {
      const text = (value as { Value?: unknown } | null)?.Value;
      if (typeof text === "string") attributes[name] = text;
    }
  return {
    subject: typeof Subject === "string" ? Subject : "",
    message: Message,
    attributes,
    at: new Date().toISOString(),
  };
}

const NAMES = {
  ingestBucket: "airlock-ingest",
  cleanBucket: "airlock-clean",
  tableName: "airlock-files",
  fanoutTopic: "airlock-fanout",
  notificationsTopic: "airlock-notifications",
  outboxQueue: "airlock-local-outbox",
} as const;

const lambdaContext = (functionName: string, timeoutMs: number): Context =>
  localLambdaContext(functionName, timeoutMs, LOCAL_REGION);

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  if (options.functionThreads && (options.instrument || options.faults || options.crash))
    throw new Error(
      "functionThreads cannot be combined with instrument, faults or crash (they act in this thread)",
    );
  const consoleServer: ConsoleServer | undefined = options.console
    ? await startConsoleServer(options.console)
    : undefined;
  const origins = [...(options.corsOrigins ?? ["http://localhost:5173"]), ...(consoleServer?.origins ?? [])];
  // Browsers upload straight to the ingest bucket: it answers CORS for the same origins as the API, as in AWS.
  const emulators = await startEmulatorThread(
    [NAMES.ingestBucket, NAMES.cleanBucket],
    options.ports,
    { [NAMES.ingestBucket]: origins },
    { dataDir: options.dataDir },
  );
  let stopped = false;
  // After the emulators: they take the data directory, so no other stack writes these beside this one.
  const secrets = await apiSecrets(options.dataDir).catch(async (error: unknown) => {
    stopped = true;
    await emulators.stop().catch(() => undefined); // the refusal is what the caller must see
    throw error;
  });
  emulators.onExit((reason) => {
    if (stopped) return;
    if (options.onEmulatorExit) return options.onEmulatorExit(reason);
    console.error(
      `local stack: the emulators stopped (${reason}); the stack cannot serve requests and exits`,
    );
    process.exit(1);
  });
  const visibility = options.visibilityTimeoutSeconds ?? 30;
  const maxReceiveCount = options.maxReceiveCount ?? 3;
  const scan = { ...DEFAULT_POLICY.scan, ...options.scanLimits };

  // The handlers read the same variables in AWS; here they also get the emulator endpoints.
  Object.assign(process.env, {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: emulators.s3,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodb,
    AWS_ENDPOINT_URL_SNS: emulators.sns,
    AWS_ENDPOINT_URL_SQS: emulators.sqs,
    POWERTOOLS_SERVICE_NAME: "airlock",
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? "WARN",
    POWERTOOLS_DEV: "true",
    // No X-Ray daemon here: the tracer would switch itself off outside Lambda anyway; this says so.
    POWERTOOLS_TRACE_ENABLED: "false",
  });

  // The stack's own clients (setup, pollers) come from the same factory as the handlers'.
  const {
    dynamodb: dynamo,
    sns,
    sqs,
  } = createClients({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoints: { dynamodb: emulators.dynamodb, sns: emulators.sns, sqs: emulators.sqs },
  });

  // The table as infra/storage.ts creates it (its indexes and their projections), from one definition. On a data
  // directory the table is there already after a restart.
  const tableExists = (error: unknown) => {
    if ((error as Error).name !== "ResourceInUseException") throw error;
  };
  await dynamo.send(new CreateTableCommand(createTableInput(NAMES.tableName))).catch(tableExists);
  // As in AWS, a new table takes writes once it is ACTIVE (dynalite: a moment later, on a timer).
  await waitUntilTableExists(
    { client: dynamo, minDelay: 1, maxWaitTime: 30 },
    { TableName: NAMES.tableName },
  );

  const topic = async (Name: string) => (await sns.send(new CreateTopicCommand({ Name }))).TopicArn ?? "";
  const fanoutTopicArn = await topic(NAMES.fanoutTopic);
  const notificationsTopicArn = await topic(NAMES.notificationsTopic);
  // Textract is not emulated: no job is ever started locally, so nothing publishes to this topic.
  const ocrTopicArn = await topic("airlock-ocr");

  const queue = async (QueueName: string, attributes: Record<string, string> = {}) => {
    // A queue kept on a data directory with other attributes (another visibility timeout) takes these ones.
    const url = await sqs
      .send(new CreateQueueCommand({ QueueName, Attributes: attributes }))
      .then((out) => out.QueueUrl ?? "")
      .catch(async (error: unknown) => {
        if (!/QueueAlreadyExists|QueueNameExists/.test((error as Error).name)) throw error;
        const found = (await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl ?? "";
        await sqs.send(new SetQueueAttributesCommand({ QueueUrl: found, Attributes: attributes }));
        return found;
      });
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
    );
    return { url, arn: attrs.Attributes?.QueueArn ?? "" };
  };

  const queues = {} as LocalState["queues"];
  for (const stage of STAGES) {
    const dlq = await queue(`airlock-${stage}-dlq`, { VisibilityTimeout: String(visibility) });
    const main = await queue(`airlock-${stage}`, {
      VisibilityTimeout: String(visibility),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
    });
    await sns.send(new SubscribeCommand({ TopicArn: fanoutTopicArn, Protocol: "sqs", Endpoint: main.arn }));
    queues[stage] = { url: main.url, arn: main.arn, dlqUrl: dlq.url, dlqArn: dlq.arn };
  }
  // Email is not delivered locally: the notifications topic feeds an outbox queue that the console prints.
  const outboxQueue = await queue(NAMES.outboxQueue);
  await sns.send(
    new SubscribeCommand({ TopicArn: notificationsTopicArn, Protocol: "sqs", Endpoint: outboxQueue.arn }),
  );

  Object.assign(process.env, {
    AIRLOCK_TABLE_NAME: NAMES.tableName,
    AIRLOCK_INGEST_BUCKET: NAMES.ingestBucket,
    AIRLOCK_CLEAN_BUCKET: NAMES.cleanBucket,
    AIRLOCK_NOTIFICATIONS_TOPIC_ARN: notificationsTopicArn,
    AIRLOCK_FANOUT_TOPIC_ARN: fanoutTopicArn,
    AIRLOCK_MAX_SIZE_BYTES: String(options.maxSizeBytes ?? DEFAULT_POLICY.maxSizeBytes),
    AIRLOCK_ALLOWED_TYPES: (options.allowedTypes ?? DEFAULT_POLICY.allowedTypes).join(","),
    AIRLOCK_SCAN_MAX_DEPTH: String(scan.maxDepth),
    AIRLOCK_SCAN_MAX_ENTRIES: String(scan.maxEntries),
    AIRLOCK_SCAN_MAX_EXPANDED_BYTES: String(scan.maxExpandedBytes),
    AIRLOCK_SCAN_MAX_RATIO: String(scan.maxRatio),
    AIRLOCK_STUCK_AFTER_SECONDS: String(options.stuckAfterSeconds ?? 300),
    // An invocation here runs at most its visibility timeout, as a Lambda its function timeout.
    AIRLOCK_NOTIFICATION_LEASE_SECONDS: String(visibility * 2),
    AIRLOCK_UPLOAD_EXPIRY_SECONDS: "300",
    AIRLOCK_DOWNLOAD_EXPIRY_SECONDS: "60",
    AIRLOCK_MULTIPART_THRESHOLD_BYTES: String(options.multipartThresholdBytes ?? 64 * 1024 * 1024),
    AIRLOCK_CURSOR_SECRET: secrets.cursorSecret,
    // OCR is on, but with no Textract endpoint the metadata stage records it as skipped and uses the
    // built-in extraction only.
    AIRLOCK_OCR: "best-effort",
    AIRLOCK_OCR_TOPIC_ARN: ocrTopicArn,
    AIRLOCK_OCR_ROLE_ARN: "arn:aws:iam::000000000000:role/airlock-textract-local",
    AIRLOCK_TEXT_MAX_CHARS: String(DEFAULT_POLICY.text.maxChars),
    AIRLOCK_TEXT_PDF_MAX_BYTES: String(DEFAULT_POLICY.text.pdfMaxBytes),
  });
  // Optional engines: set exactly what was asked for, so no earlier stack's settings leak into this one.
  const clamd: Record<string, string | undefined> = {
    AIRLOCK_CLAMD_ENDPOINT: options.clamd?.endpoint,
    AIRLOCK_CLAMD_STREAM_MAX_BYTES: options.clamd?.streamMaxBytes?.toString(),
    AIRLOCK_CLAMD_TIMEOUT_MS: options.clamd?.timeoutMs?.toString(),
    AIRLOCK_SCAN_BLOCKLIST: options.blocklist?.entries,
    AIRLOCK_SCAN_BLOCKLIST_OBJECT: options.blocklist?.object,
    AIRLOCK_GUARDDUTY: options.guardDuty ? "on" : undefined,
    AIRLOCK_YARA_RULES: options.yara?.rules,
    AIRLOCK_YARA_RULES_OBJECT: options.yara?.object,
    AIRLOCK_YARA_MAX_BYTES: options.yara?.maxBytes?.toString(),
    AIRLOCK_YARA_TIMEOUT_MS: options.yara?.timeoutMs?.toString(),
    AIRLOCK_RECONCILE: options.reconcile ? "on" : undefined,
  };
  for (const [name, value] of Object.entries(clamd)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }

  // Faults go on every SDK client, but act only inside the handler invocations run through `invoke` below.
  const faults = options.faults ? new FaultInjector(options.faults) : undefined;
  const uninstallFaults = faults?.install();
  const invoke = <T>(name: string, run: () => Promise<T>): Promise<T> =>
    faults ? faults.invoke(name, run) : run();

  // The handler modules read the environment when first imported, as at a Lambda cold start.
  const wrap = options.instrument ?? (<F>(_name: string, handler: F) => handler);
  const threads: FunctionThread[] = [];
  const onThread = (file: string, functionName: string): Handler => {
    const thread = functionThread(
      { entry: new URL(file, import.meta.url).href, functionName, region: LOCAL_REGION },
      options.onInvocation && ((timing) => options.onInvocation?.(functionName, timing)),
    );
    threads.push(thread);
    return (event, context) =>
      thread.invoke(event, context.getRemainingTimeInMillis()) as Promise<SQSBatchResponse>;
  };
  const handlers: Record<StageName | "deadLetter", Handler> = options.functionThreads
    ? {
        validate: onThread("../handlers/validate.ts", "airlock-validate"),
        scan: onThread("../handlers/scan.ts", "airlock-scan"),
        metadata: onThread("../handlers/metadata.ts", "airlock-metadata"),
        deadLetter: onThread("../handlers/dead-letter.ts", "airlock-dead-letter"),
      }
    : {
        validate: wrap("validate", (await import("../handlers/validate.ts")).handler),
        scan: wrap("scan", (await import("../handlers/scan.ts")).handler),
        metadata: wrap("metadata", (await import("../handlers/metadata.ts")).handler),
        deadLetter: wrap("deadLetter", (await import("../handlers/dead-letter.ts")).handler),
      };
  const sweeper = wrap("sweeper", (await import("../handlers/sweeper.ts")).handler);
  const gateway = await startGateway({
    signingKey: secrets.signingKey,
    handler: wrap("api", (await import("../handlers/api.ts")).handler),
    port: options.ports?.api,
    origins,
    health: async () => {
      const health = await checkHealth({
        s3: emulators.s3,
        dynamodb: emulators.dynamodb,
        sqs: emulators.sqs,
        sns: emulators.sns,
        ...(consoleServer ? { console: consoleServer.url } : {}),
      });
      const pipeline = running ? "running" : "stopped";
      return {
        ...health,
        status: pipeline === "running" ? health.status : "degraded",
        services: { ...health.services, pipeline },
      };
    },
  });
  consoleServer?.attach({ apiUrl: gateway.url, s3Url: emulators.s3, issuer: gateway });

  // S3 → SNS: what the bucket notification configuration does in AWS.
  emulators.forwardS3Events(NAMES.ingestBucket, fanoutTopicArn);

  let running = true;
  const inFlight = new Set<Promise<unknown>>();
  const recent: StackActivity["recent"] = [];
  const remember = (entry: StackActivity["recent"][number]) => {
    recent.push(entry);
    if (recent.length > 50) recent.shift();
  };
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    return p.finally(() => inFlight.delete(p));
  };

  /**
   * Deletes what a batch finished. A delete that fails is not retried here and stops nothing: its messages
   * come back after their visibility timeout and are handled again, as SQS's at-least-once delivery allows.
   */
  const deleteBatch = async (queueUrl: string, messages: { ReceiptHandle?: string }[], consumer: string) => {
    try {
      const out = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
        }),
      );
      const failed = out.Failed ?? [];
      if (failed.length > 0 && running)
        console.error(
          `local stack: ${failed.length} of ${messages.length} deletes for ${consumer} failed (${failed[0]?.Code ?? "?"}); those messages come back`,
        );
    } catch (error) {
      if (running)
        console.error(
          `local stack: a delete for ${consumer} failed (${String(error)}); its messages come back`,
        );
    }
  };

  /** One Lambda event source mapping: receive a batch, invoke, delete what succeeded. */
  const poll = async (
    queueUrl: string,
    queueArn: string,
    functionName: string,
    handler: Handler,
    stage?: StageName,
  ) => {
    while (running) {
      let received: ReceiveMessageCommandOutput;
      try {
        received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
        );
      } catch (error) {
        if (running)
          console.error(`local stack: receive from ${functionName} failed (${String(error)}); polling again`);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      const messages = received.Messages ?? [];
      if (messages.length === 0) continue;
      const event: SQSEvent = {
        Records: messages.map((m) => ({
          messageId: m.MessageId ?? "",
          receiptHandle: m.ReceiptHandle ?? "",
          body: m.Body ?? "",
          attributes: {
            ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1",
            SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
            SenderId: m.Attributes?.SenderId ?? "local",
            ApproximateFirstReceiveTimestamp:
              m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: m.MD5OfBody ?? "",
          eventSource: "aws:sqs",
          eventSourceARN: queueArn,
          awsRegion: LOCAL_REGION,
        })),
      };
      let failed: Set<string>;
      const at = new Date().toISOString();
      try {
        if (stage && options.crash && event.Records.some((r) => options.crash?.(stage, r.body))) {
          throw new Error(`simulated crash of ${functionName}`);
        }
        const response = await track(
          invoke(functionName, () => handler(event, lambdaContext(functionName, visibility * 1000))),
        );
        failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        if (failed.size > 0) remember({ functionName, at, failedMessages: failed.size });
      } catch (error) {
        // A crashed invocation: every message of the batch comes back after its visibility timeout.
        remember({ functionName, at, crashed: String(error) });
        continue;
      }
      const done = messages.filter((m) => !failed.has(m.MessageId ?? ""));
      if (done.length > 0) await deleteBatch(queueUrl, done, functionName);
    }
  };

  const outbox: LocalNotification[] = [];
  const drainOutbox = async () => {
    while (running) {
      let received: ReceiveMessageCommandOutput;
      try {
        received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: outboxQueue.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        );
      } catch (error) {
        if (running)
          console.error(`local stack: receive from the outbox failed (${String(error)}); polling again`);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      // A message that is no SNS envelope is not a notification: it is said and deleted. One the stack could
      // not hand on (onNotification threw: a full disk) is kept, and comes back after its visibility timeout.
      const read: Message[] = [];
      for (const m of received.Messages ?? []) {
        const notification = notificationOf(m.Body);
        if (!notification) {
          console.error(
            `local stack: a message in the outbox is no SNS envelope; dropped: ${JSON.stringify(String(m.Body).slice(0, 80))}`,
          );
          read.push(m);
          continue;
        }
        try {
          options.onNotification?.(notification);
        } catch (error) {
          console.error(
            `local stack: a notification could not be handed on (${String(error)}); it comes back`,
          );
          continue;
        }
        outbox.push(notification);
        read.push(m);
      }
      // One delete for what one receive brought, as a consumer that batches does.
      if (read.length > 0) await deleteBatch(outboxQueue.url, read, "the outbox reader");
    }
  };

  const loops: Promise<void>[] = [];
  for (const stage of STAGES) {
    // Two concurrent pollers per queue, as Lambda scales out event source mappings.
    for (let i = 0; i < 2; i++)
      loops.push(poll(queues[stage].url, queues[stage].arn, `airlock-${stage}`, handlers[stage], stage));
    loops.push(poll(queues[stage].dlqUrl, queues[stage].dlqArn, "airlock-dead-letter", handlers.deadLetter));
  }
  loops.push(drainOutbox());
  const sweepTimer = setInterval(() => {
    track(invoke("airlock-sweeper", () => sweeper({}, lambdaContext("airlock-sweeper", 60_000)))).catch(
      (error: unknown) => {
        if (!faults) console.error("local stack: sweep failed", error);
      },
    );
  }, options.sweepIntervalMs ?? 30_000);

  const state: LocalState = {
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoints: { s3: emulators.s3, dynamodb: emulators.dynamodb, sqs: emulators.sqs, sns: emulators.sns },
    ingestBucket: NAMES.ingestBucket,
    cleanBucket: NAMES.cleanBucket,
    tableName: NAMES.tableName,
    fanoutTopicArn,
    notificationsTopicArn,
    queues,
    outboxQueueUrl: outboxQueue.url,
    api: {
      url: gateway.url,
      issuer: gateway.issuer,
      audience: gateway.audience,
      privateJwk: gateway.privateJwk,
    },
    ...(consoleServer ? { console: { url: consoleServer.url } } : {}),
  };
  if (options.stateFile) {
    await mkdir(dirname(options.stateFile), { recursive: true });
    // It holds the local issuer's signing key (for `airlock token`): owner-only, as `api-secrets.json`.
    await writeFile(options.stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    await chmod(options.stateFile, 0o600); // a file there from before keeps its mode through writeFile
  }

  const queueTotal = async (url: string) => (await queueDepth(sqs, url)).reduce((a, b) => a + b, 0);

  return {
    state,
    outbox,
    ...(faults ? { faults: faults.stats } : {}),
    async idle(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      const urls = [...STAGES.flatMap((s) => [queues[s].url, queues[s].dlqUrl]), outboxQueue.url];
      let quietRounds = 0;
      while (Date.now() < deadline) {
        const depths = await Promise.all(urls.map(queueTotal));
        quietRounds = depths.every((d) => d === 0) && inFlight.size === 0 ? quietRounds + 1 : 0;
        if (quietRounds >= 3) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`local stack still busy after ${timeoutMs} ms`);
    },
    async activity() {
      const named: [string, string][] = [
        ...STAGES.flatMap((s): [string, string][] => [
          [s, queues[s].url],
          [`${s}-dlq`, queues[s].dlqUrl],
        ]),
        ["outbox", outboxQueue.url],
      ];
      const depths = await Promise.all(
        named.map(async ([name, url]) => [name, await queueDepth(sqs, url)] as const),
      );
      return {
        queues: Object.fromEntries(depths),
        running: inFlight.size,
        recent: [...recent],
      };
    },
    async stop() {
      stopped = true;
      running = false;
      clearInterval(sweepTimer);
      await Promise.allSettled(loops);
      await Promise.allSettled([...inFlight]);
      await Promise.allSettled(threads.map((t) => t.stop()));
      await gateway.stop();
      await consoleServer?.stop();
      await emulators.stop();
      uninstallFaults?.();
    },
  };
}
