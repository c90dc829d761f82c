/**
 * Meters every AWS SDK command the handlers send, for the cost bench: a wrapper of the SDK's shared
 * `Client.prototype.send` of the same kind as tests/support/sdk-recorder.ts, but keeping what the bill depends
 * on (request class, payload sizes, DynamoDB item sizes) instead of what IAM depends on.
 *
 * DynamoDB: dynalite does not report `ReturnConsumedCapacity`, so units are computed from item sizes with the
 * documented rules (item size = attribute names + values; 1 WRU per started KB written, the larger of the item
 * before and after an update; 1 RRU per started 4 KB strongly consistent, half of that eventually consistent;
 * a Query by the total size it returns, a BatchGetItem item by item; each GSI whose key the item carries is
 * written too, at the size of its index entry (the table and index keys and the projected attributes): twice when
 * the index key changes, once when a projected attribute changes, not at all when neither does). The item after
 * each write is read back outside the meter to know its size.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { type AttributeValue, type DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { TableIndex } from "../core/adapters/dynamo-table.ts";
import { DOCUMENT_COMMANDS } from "../tests/support/sdk-recorder.ts";

export interface Meter {
  /** `service:command` → count of requests as billed (SQS/SNS by 64 KB chunk). */
  requests: Map<string, number>;
  wru: number;
  /** Of `wru`, what the writes to the global secondary indexes cost. */
  gsiWru: number;
  rru: number;
  /** Object tags written (PutObject with Tagging, CopyObject with TaggingDirective REPLACE, PutObjectTagging). */
  tagsWritten: number;
  snsPublishesByTopic: Map<string, number>;
  invocations: Map<string, number>;
  /** Handler name → summed wall-clock milliseconds of its invocations. */
  durationMs: Map<string, number>;
  /** `handler service:command` → requests sent (one per SDK command, before 64 KB chunking). */
  byHandler: Map<string, number>;
  /** Event-source polling the stack does as Lambda's SQS pollers would: non-empty receives and deletes. */
  pollerRequests: number;
}

export const newMeter = (): Meter => ({
  requests: new Map(),
  wru: 0,
  gsiWru: 0,
  rru: 0,
  tagsWritten: 0,
  snsPublishesByTopic: new Map(),
  invocations: new Map(),
  durationMs: new Map(),
  byHandler: new Map(),
  pollerRequests: 0,
});

type Store = { handler: string } | { internal: true };
const context = new AsyncLocalStorage<Store>();
let meter: Meter = newMeter();
let stageQueueUrls = new Set<string>();
/** A global secondary index as the meter prices its writes: its key and what it projects. */
export interface MeteredIndex {
  keys: string[];
  /** `ALL`, `KEYS_ONLY`, or the non-key attributes of an `INCLUDE` projection. */
  projection: "ALL" | "KEYS_ONLY" | string[];
}
let tableKeyNames: { gsis: MeteredIndex[] } = { gsis: [] };

/** The table's indexes (core/adapters/dynamo-table.ts) as the meter prices them. */
export const meteredIndexes = (indexes: readonly TableIndex[]): MeteredIndex[] =>
  indexes.map((index) => ({
    keys: [index.hashKey, index.rangeKey],
    projection: index.projection.type === "INCLUDE" ? index.projection.attributes : index.projection.type,
  }));
let sizer: DynamoDBClient | undefined;
/** Last item seen per table key (marshalled), for the "before" size of a write and its index keys. */
const items = new Map<string, Record<string, AttributeValue>>();

const bump = <K>(map: Map<K, number>, key: K, by = 1) => map.set(key, (map.get(key) ?? 0) + by);

/** Wraps one handler: its invocations are counted and timed, and the SDK commands it sends attributed. */
export function instrument<F extends (...args: never[]) => unknown>(handler: string, fn: F): F {
  return ((...args: never[]) =>
    context.run({ handler }, async () => {
      const started = performance.now();
      try {
        return await fn(...args);
      } finally {
        bump(meter.invocations, handler);
        bump(meter.durationMs, handler, performance.now() - started);
      }
    })) as unknown as F;
}

/** Starts a fresh meter (one phase of the bench) and returns it. */
export function reset(): Meter {
  meter = newMeter();
  return meter;
}

// ---- DynamoDB item sizes -------------------------------------------------------------------------------------

const utf8 = (s: string) => Buffer.byteLength(s, "utf8");

function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|e.*$/gi, "").replace(/^0+/, "").length / 2) + 1;
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((n, s) => n + utf8(s), 0);
  if (v.NS) return v.NS.reduce((n, s) => n + valueSize({ N: s }), 0);
  if (v.BS) return v.BS.reduce((n, b) => n + b.length, 0);
  if (v.L) return 3 + v.L.reduce((n, e) => n + 1 + valueSize(e), 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((n, [k, e]) => n + 1 + utf8(k) + valueSize(e), 0);
  return 0;
}

export function itemSize(item: Record<string, AttributeValue> | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce((n, [k, v]) => n + utf8(k) + valueSize(v), 0);
}

/** The table's primary key (infra/storage.ts: hash `pk`, range `sk`). */
const KEY_NAMES = ["pk", "sk"];
const keyOfDocument = (item: unknown) =>
  Object.fromEntries(KEY_NAMES.map((k) => [k, (item as Record<string, unknown> | undefined)?.[k]]));
const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
export const readUnits = (bytes: number, consistent: boolean) =>
  Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);
const keyOf = (table: string, key: Record<string, AttributeValue>) =>
  `${table}|${JSON.stringify(Object.entries(key).sort(([a], [b]) => a.localeCompare(b)))}`;
const attr = (item: Record<string, AttributeValue> | undefined, name: string) =>
  item?.[name] ? JSON.stringify(item[name]) : undefined;

/** The index entry of an item: the table's and the index's keys and the projected attributes. */
function entryOf(
  item: Record<string, AttributeValue> | undefined,
  index: MeteredIndex,
): Record<string, AttributeValue> | undefined {
  if (!item || !index.keys.every((k) => item[k] !== undefined)) return undefined;
  if (index.projection === "ALL") return item;
  const names = [...KEY_NAMES, ...index.keys, ...(index.projection === "KEYS_ONLY" ? [] : index.projection)];
  return Object.fromEntries(
    names.filter((k) => item[k] !== undefined).map((k) => [k, item[k] as AttributeValue]),
  );
}

const sameEntry = (a: Record<string, AttributeValue>, b: Record<string, AttributeValue>) =>
  JSON.stringify(Object.entries(a).sort(([x], [y]) => x.localeCompare(y))) ===
  JSON.stringify(Object.entries(b).sort(([x], [y]) => x.localeCompare(y)));

/** WRU of one write: the table, plus each GSI whose entry for the item is put, changed or deleted. */
export function writeCost(
  before: Record<string, AttributeValue> | undefined,
  after: Record<string, AttributeValue> | undefined,
  gsis: MeteredIndex[] = tableKeyNames.gsis,
): number {
  let units = writeUnits(Math.max(itemSize(before), itemSize(after)));
  for (const index of gsis) {
    const b = entryOf(before, index);
    const a = entryOf(after, index);
    const keyOfEntry = (e: Record<string, AttributeValue>) => index.keys.map((k) => attr(e, k));
    if (b && a && JSON.stringify(keyOfEntry(a)) !== JSON.stringify(keyOfEntry(b)))
      units += writeUnits(itemSize(b)) + writeUnits(itemSize(a));
    else if (b && a) units += sameEntry(a, b) ? 0 : writeUnits(itemSize(a));
    else if (a) units += writeUnits(itemSize(a));
    else if (b) units += writeUnits(itemSize(b));
  }
  return units;
}

async function readBack(table: string, key: Record<string, AttributeValue>) {
  if (!sizer) return undefined;
  const out = await context.run({ internal: true }, () =>
    (sizer as DynamoDBClient).send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true })),
  );
  return out.Item;
}

async function meterDynamo(name: string, input: Record<string, unknown>, output: unknown, failed: boolean) {
  const table = String(input.TableName ?? "");
  const out = (output ?? {}) as Record<string, unknown>;
  switch (name) {
    case "GetItem": {
      const item = out.Item as Record<string, AttributeValue> | undefined;
      meter.rru += readUnits(itemSize(item), input.ConsistentRead === true);
      if (item) items.set(keyOf(table, input.Key as Record<string, AttributeValue>), item);
      return;
    }
    case "BatchGetItem": {
      // Each item read is charged on its own, rounded up to 4 KB.
      const requested = (input.RequestItems ?? {}) as Record<string, { ConsistentRead?: boolean }>;
      const responses = (out.Responses ?? {}) as Record<string, Record<string, AttributeValue>[]>;
      for (const [t, list] of Object.entries(responses))
        for (const i of list) meter.rru += readUnits(itemSize(i), requested[t]?.ConsistentRead === true);
      return;
    }
    case "Query":
    case "Scan": {
      const list = (out.Items ?? []) as Record<string, AttributeValue>[];
      const bytes = list.reduce((n, i) => n + itemSize(i), 0);
      meter.rru += readUnits(bytes, input.ConsistentRead === true);
      return;
    }
    case "PutItem":
    case "UpdateItem":
    case "DeleteItem": {
      const item = input.Item as Record<string, AttributeValue> | undefined;
      const keyAttrs =
        (input.Key as Record<string, AttributeValue>) ??
        (item ? Object.fromEntries(KEY_NAMES.filter((k) => item[k]).map((k) => [k, item[k]])) : {});
      const cacheKey = keyOf(table, keyAttrs as Record<string, AttributeValue>);
      const before = items.get(cacheKey);
      const after =
        failed || name === "DeleteItem" ? (failed ? before : undefined) : await readBack(table, keyAttrs);
      const units = failed ? writeUnits(itemSize(before ?? item)) : writeCost(before, after);
      meter.wru += units;
      if (!failed) meter.gsiWru += units - writeCost(before, after, []);
      if (after) items.set(cacheKey, after);
      else if (name === "DeleteItem" && !failed) items.delete(cacheKey);
      return;
    }
    case "BatchWriteItem": {
      for (const [, requests] of Object.entries((input.RequestItems ?? {}) as Record<string, unknown[]>))
        for (const r of requests as { PutRequest?: { Item: Record<string, AttributeValue> } }[])
          meter.wru += writeUnits(itemSize(r.PutRequest?.Item));
      return;
    }
    case "TransactWriteItems": {
      for (const t of (input.TransactItems ?? []) as Record<
        string,
        { Item?: Record<string, AttributeValue> }
      >[])
        for (const op of Object.values(t)) meter.wru += 2 * writeUnits(itemSize(op.Item) || 1024);
      return;
    }
    default:
      return;
  }
}

// ---- the wrapper ----------------------------------------------------------------------------------------------

const S3_PUT_CLASS = new Set([
  "PutObject",
  "CopyObject",
  "PostObject",
  "ListObjectsV2",
  "ListObjects",
  "ListObjectVersions",
  "CreateMultipartUpload",
  "UploadPart",
  "UploadPartCopy",
  "CompleteMultipartUpload",
  "PutObjectTagging",
  "PutObjectRetention",
  "PutObjectLegalHold",
  "ListParts",
  "ListMultipartUploads",
]);
const S3_FREE = new Set(["DeleteObject", "DeleteObjects", "AbortMultipartUpload"]);
const chunks = (bytes: number) => Math.max(1, Math.ceil(bytes / (64 * 1024)));
const jsonBytes = (v: unknown) => utf8(JSON.stringify(v ?? ""));

function meterRequest(service: string, name: string, input: Record<string, unknown>, output: unknown) {
  if (service === "S3") {
    const cls = S3_FREE.has(name) ? "free" : S3_PUT_CLASS.has(name) ? "put" : "get";
    bump(meter.requests, `S3:${cls}:${name}`);
    if (name === "PutObject" && typeof input.Tagging === "string")
      meter.tagsWritten += input.Tagging.split("&").length;
    if (name === "CopyObject" && input.TaggingDirective === "REPLACE" && typeof input.Tagging === "string")
      meter.tagsWritten += input.Tagging.split("&").length;
    if (name === "PutObjectTagging")
      meter.tagsWritten += ((input.Tagging as { TagSet?: unknown[] })?.TagSet ?? []).length;
    return;
  }
  if (service === "SQS") {
    const out = (output ?? {}) as { Messages?: unknown[] };
    const size =
      name === "ReceiveMessage" ? jsonBytes(out.Messages) : jsonBytes(input.Entries ?? input.MessageBody);
    bump(meter.requests, `SQS:${name}`, chunks(size));
    return;
  }
  if (service === "SNS") {
    const entries = (input.PublishBatchRequestEntries as unknown[] | undefined) ?? [input];
    const size = jsonBytes(entries);
    bump(meter.requests, `SNS:${name}`, chunks(size));
    if (name === "Publish" || name === "PublishBatch")
      bump(meter.snsPublishesByTopic, String(input.TopicArn ?? ""), entries.length);
    return;
  }
  bump(meter.requests, `${service}:${name}`);
}

const chains = new Map<string, Promise<unknown>>();
const pending = new Set<Promise<unknown>>();

/** Waits for the DynamoDB units still being computed (read-backs of written items). */
export async function settle(): Promise<void> {
  while (pending.size > 0) await Promise.all([...pending]);
  chains.clear();
}

const opts = { removeUndefinedValues: true, convertClassInstanceToMap: true } as const;
const toItem = (v: unknown) =>
  v && typeof v === "object" ? marshall(v as Record<string, unknown>, opts) : undefined;

/** The parts of a document-client input or output the meter reads, in their low-level (marshalled) form. */
function toLowLevel(doc: Record<string, unknown>): Record<string, unknown> {
  const low: Record<string, unknown> = { ...doc };
  for (const k of ["Item", "Key", "Attributes"]) if (doc[k]) low[k] = toItem(doc[k]);
  if (Array.isArray(doc.Items)) low.Items = doc.Items.map(toItem);
  if (doc.Responses && typeof doc.Responses === "object")
    low.Responses = Object.fromEntries(
      Object.entries(doc.Responses as Record<string, unknown[]>).map(([t, items]) => [t, items.map(toItem)]),
    );
  if (doc.RequestItems && typeof doc.RequestItems === "object")
    low.RequestItems = Object.fromEntries(
      Object.entries(doc.RequestItems as Record<string, { PutRequest?: { Item: unknown } }[]>).map(
        ([t, rs]) => [
          t,
          rs.map((r) => (r.PutRequest ? { PutRequest: { Item: toItem(r.PutRequest.Item) } } : r)),
        ],
      ),
    );
  if (Array.isArray(doc.TransactItems))
    low.TransactItems = (doc.TransactItems as Record<string, { Item?: unknown }>[]).map((t) =>
      Object.fromEntries(Object.entries(t).map(([op, v]) => [op, { ...v, Item: toItem(v.Item) }])),
    );
  return low;
}

let original: ((...args: unknown[]) => Promise<unknown>) | undefined;
const clientPrototype = (): { send: (...args: unknown[]) => Promise<unknown> } =>
  Object.getPrototypeOf(S3Client.prototype);

/** Installs the meter. `stageQueues` are the queues whose polling stands for Lambda's event source mappings. */
export function install(options: {
  dynamodb: DynamoDBClient;
  stageQueues: string[];
  gsis: MeteredIndex[];
}): void {
  sizer = options.dynamodb;
  stageQueueUrls = new Set(options.stageQueues);
  tableKeyNames = { gsis: options.gsis };
  if (original) return;
  const proto = clientPrototype();
  const send = proto.send;
  original = send;
  proto.send = async function (this: { config?: { serviceId?: string } }, ...args: unknown[]) {
    const store = context.getStore();
    const command = args[0] as { constructor: { name: string }; input?: Record<string, unknown> };
    const name = command.constructor.name.replace(/Command$/, "");
    const input = command.input ?? {};
    const service = this.config?.serviceId ?? "unknown";
    if (store && "internal" in store) return send.apply(this, args);
    if (!store) {
      // The stack's own SQS pollers stand for Lambda's: they are billed too (a receive with messages and its
      // delete). Empty long polls are a fixed cost a month, not a cost per file.
      if (service === "SQS" && stageQueueUrls.has(String(input.QueueUrl ?? ""))) {
        const out = (await send.apply(this, args)) as { Messages?: unknown[] };
        if (name === "DeleteMessageBatch" || (out.Messages?.length ?? 0) > 0) meter.pollerRequests += 1;
        return out;
      }
      return send.apply(this, args);
    }
    // Document-client commands reach `send` only in their document form: meter them in the low-level form.
    const isDocument = service === "DynamoDB" && this instanceof DynamoDBDocumentClient;
    const dynamoName = isDocument ? (DOCUMENT_COMMANDS[name] ?? name) : name;
    const lowLevel = true;
    let output: unknown;
    let failed = false;
    try {
      output = await send.apply(this, args);
      return output;
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      if (lowLevel) {
        meterRequest(service, service === "DynamoDB" ? dynamoName : name, input, output);
        bump(meter.byHandler, `${store.handler} ${service}:${dynamoName}${failed ? " (failed)" : ""}`);
        if (service === "DynamoDB") {
          const lowInput = isDocument ? toLowLevel(input) : input;
          const lowOutput = isDocument ? toLowLevel((output ?? {}) as Record<string, unknown>) : output;
          // Off the handler's path (its read-back would add to the measured duration), in order per item.
          const key = `${String(input.TableName)}|${JSON.stringify(input.Key ?? keyOfDocument(input.Item))}`;
          const previous = chains.get(key) ?? Promise.resolve();
          const next = previous
            .then(() => meterDynamo(dynamoName, lowInput, lowOutput, failed))
            .catch(() => undefined);
          chains.set(key, next);
          pending.add(next);
          void next.finally(() => pending.delete(next));
        }
      }
    }
  };
}

export function uninstall(): void {
  if (original) clientPrototype().send = original;
  original = undefined;
}
