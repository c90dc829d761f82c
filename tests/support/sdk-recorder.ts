/**
 * Records the AWS SDK commands the handlers send, and the requests they presign, attributed to the handler
 * (the Lambda function) on whose behalf they run. Opt-in and test-only: installing it wraps the SDK's shared
 * `Client.prototype.send`; `attribute(handler, fn)` runs a handler invocation in an async context naming it.
 * Commands sent outside any handler (the local stack's own pollers and setup) are not recorded.
 *
 * What is kept of each command is what decides its IAM authorization: the command, which bucket, table,
 * topic or parameter it names (by role, not by name: `ingest`, `clean`, `table`…), the key's prefix, whether a
 * version is named (the parameter is passed, even when the local S3 has no versions to fill it with), tagging
 * and copy directives, checksums, and whether the object was missing (a 404 that needs s3:ListBucket).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { S3Client } from "@aws-sdk/client-s3";

export interface RecordedCall {
  handler: string;
  service: string;
  command: string;
  /** Roles of the names the command targets and the parameters that change its authorization. */
  params: Record<string, string | boolean>;
  /** Set when the command failed: the error's name (NoSuchKey, NotFound, ConditionalCheckFailedException…). */
  error?: string;
}

export interface Names {
  ingestBucket: string;
  cleanBucket: string;
  tableName: string;
  topics: Record<string, string>;
}

const context = new AsyncLocalStorage<string>();
const calls: RecordedCall[] = [];
let names: Names | undefined;

/** Runs `fn` (one invocation of a handler) with every SDK command it sends attributed to `handler`. */
export function attribute<T>(handler: string, fn: () => T): T {
  return context.run(handler, fn);
}

const keyClass = (key: unknown) => {
  if (typeof key !== "string") return "none";
  const first = key.split("/")[0];
  return ["uploads", "drops", "text"].includes(first ?? "") ? `${first}/*` : "other";
};

function bucketRole(bucket: unknown): string {
  if (!names || typeof bucket !== "string") return "none";
  if (bucket === names.ingestBucket) return "ingest";
  if (bucket === names.cleanBucket) return "clean";
  return "external";
}

function topicRole(arn: unknown): string {
  if (!names || typeof arn !== "string") return "none";
  return Object.entries(names.topics).find(([, v]) => v === arn)?.[0] ?? "external";
}

/** The parameters of a command that decide which IAM actions and resources it needs. */
export function describeInput(input: Record<string, unknown>): RecordedCall["params"] {
  const params: RecordedCall["params"] = {};
  if ("Bucket" in input) params.bucket = bucketRole(input.Bucket);
  if ("Bucket" in input && "Key" in input) params.key = keyClass(input.Key);
  if ("VersionId" in input) params.namesVersion = true;
  if (typeof input.CopySource === "string") {
    const [source = "", query = ""] = input.CopySource.split("?");
    const sourceBucket = decodeURIComponent(source.split("/")[0] ?? "");
    params.copySourceBucket = bucketRole(sourceBucket);
    params.copySourceKey = keyClass(decodeURIComponent(source.split("/").slice(1).join("/")));
    if (query.includes("versionId=")) params.copySourceVersion = true;
  }
  for (const key of ["TaggingDirective", "MetadataDirective", "ChecksumAlgorithm", "IndexName"] as const)
    if (typeof input[key] === "string") params[key] = String(input[key]);
  if ("Tagging" in input) params.tagging = true;
  if ("IfMatch" in input || "CopySourceIfMatch" in input) params.conditional = true;
  if (typeof input.TableName === "string")
    params.table = input.TableName === names?.tableName ? "table" : "external";
  if ("RequestItems" in input) params.table = "table";
  if ("TopicArn" in input) params.topic = topicRole(input.TopicArn);
  if (typeof input.Name === "string" && input.WithDecryption !== undefined)
    params.parameter = "cursor-secret";
  return params;
}

function record(call: RecordedCall): void {
  calls.push(call);
}

/** The prototype every SDK client's `send` comes from (Smithy's Client). */
function clientPrototype(): { send: (...args: unknown[]) => Promise<unknown> } {
  return Object.getPrototypeOf(S3Client.prototype);
}

let installed: ((...args: unknown[]) => Promise<unknown>) | undefined;

/** Starts recording; `names` maps the stack's physical names to the roles the calls are recorded by. */
export function startRecording(stackNames: Names): void {
  names = stackNames;
  calls.length = 0;
  if (installed) return;
  const proto = clientPrototype();
  const original = proto.send;
  installed = original;
  proto.send = async function (this: { config?: { serviceId?: string } }, ...args: unknown[]) {
    const handler = context.getStore();
    const command = args[0] as { constructor: { name: string }; input?: Record<string, unknown> };
    const service = this.config?.serviceId ?? "unknown";
    if (!handler) return original.apply(this, args);
    const entry: RecordedCall = {
      handler,
      service,
      command: command.constructor.name.replace(/Command$/, ""),
      params: describeInput(command.input ?? {}),
    };
    try {
      return await original.apply(this, args);
    } catch (error) {
      entry.error = error instanceof Error ? error.name : "Error";
      throw error;
    } finally {
      record(entry);
    }
  };
}

/** Records a presigned request: signing sends nothing, but the signed request is authorized as the signer. */
export function recordPresign(command: string, input: Record<string, unknown>): void {
  const handler = context.getStore();
  if (handler)
    record({ handler, service: "S3", command: `Presign:${command}`, params: describeInput(input) });
}

export function stopRecording(): RecordedCall[] {
  if (installed) clientPrototype().send = installed;
  installed = undefined;
  return [...calls];
}

/**
 * One line per distinct call, as committed in the fixture. Errors are left out: whether a race made a read
 * miss is timing, and a read is held to need s3:ListBucket whether it missed or not.
 */
export function distinct(recorded: RecordedCall[]): RecordedCall[] {
  const seen = new Map<string, RecordedCall>();
  for (const call of recorded) {
    // Document-client commands are sent again by the DynamoDB client as their low-level form: keep one.
    const normalized: RecordedCall = {
      ...call,
      command: DOCUMENT_COMMANDS[call.command] ?? call.command,
      service: call.service === "DynamoDB" || DOCUMENT_COMMANDS[call.command] ? "DynamoDB" : call.service,
    };
    delete normalized.error;
    const sorted = Object.fromEntries(
      Object.entries(normalized.params).sort(([a], [b]) => a.localeCompare(b)),
    );
    normalized.params = sorted;
    const key = JSON.stringify(normalized);
    if (!seen.has(key)) seen.set(key, normalized);
  }
  return [...seen.values()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** The DynamoDB operation behind each document-client command (what IAM and the bill count). */
export const DOCUMENT_COMMANDS: Record<string, string> = {
  Get: "GetItem",
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  Query: "Query",
  Scan: "Scan",
  BatchWrite: "BatchWriteItem",
  BatchGet: "BatchGetItem",
  TransactWrite: "TransactWriteItems",
};

/** The functions that may decide a verdict, and so send any of the settle calls. */
export const DECIDERS = ["validate", "scan", "metadata", "deadLetter", "sweeper", "guardduty", "ocr"];

/**
 * What only the sweeper's sweep does (find stuck files and read the records listed, re-drive them): not a
 * settle call.
 */
export function sweepOnly(call: RecordedCall): boolean {
  return (
    call.handler === "sweeper" &&
    (call.params.IndexName === "byStatus" ||
      call.command === "BatchGetItem" ||
      call.command === "BatchGet" ||
      call.params.topic === "fanout")
  );
}

/** A call's identity for comparison with the fixture: deciding functions count as one for settle calls. */
export function callKey(call: RecordedCall): string {
  const decider = DECIDERS.includes(call.handler) && !sweepOnly(call);
  return JSON.stringify({ ...call, handler: decider ? "decider" : call.handler });
}
