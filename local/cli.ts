/**
 * The `airlock` command against a running local stack (`npm start`): drop files into the ingest bucket as a
 * system would, read file records, list them and read the notification outbox.
 */
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoRecordStore } from "../shared/adapters/dynamo-records.ts";
import { describeFacts } from "../shared/domain/facts.ts";
import { describeKey } from "../shared/domain/keys.ts";
import { FINAL_STATUSES, type FileRecord, type FileStatus } from "../shared/domain/types.ts";
import { RescanRefused, rescan } from "../shared/pipeline/rescan.ts";
import { mintToken } from "./gateway.ts";
import type { LocalNotification, LocalState } from "./stack.ts";

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

const NOT_RUNNING = "No local Airlock stack is running. Start one with `npm start` in this directory.";
const USAGE = `Usage:
  airlock drop <file> [--key <key>] [--system <name>] [--content-type <type>]
  airlock status <fileId> [--wait] [--timeout <seconds>] [--json]
  airlock list [--status <status>] [--type <type>] [--json]
  airlock notifications [--json]
  airlock token [--sub <id>] [--ttl <seconds>]
  airlock rescan <fileId> [--wait] [--json]
  airlock rescan <fileId> --table <name> --topic <fanoutTopicArn> [--wait]   (against AWS: default credentials)`;

function stateDir(): string {
  return resolve(process.env.AIRLOCK_STATE_DIR ?? ".airlock");
}

async function loadState(): Promise<LocalState> {
  try {
    return JSON.parse(await readFile(resolve(stateDir(), "local.json"), "utf8")) as LocalState;
  } catch {
    throw new CliError(NOT_RUNNING);
  }
}

/** Connection failures mean the stack that wrote local.json is gone. */
async function reachable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
    if (code === "ECONNREFUSED" || code === "ECONNRESET") throw new CliError(NOT_RUNNING);
    throw error;
  }
}

function records(state: LocalState): DynamoRecordStore {
  const client = new DynamoDBClient({
    region: state.region,
    credentials: state.credentials,
    endpoint: state.endpoints.dynamodb,
  });
  return new DynamoRecordStore(DynamoDBDocumentClient.from(client), state.tableName);
}

function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

/** The record with its identifying fields first, as people read it. */
function ordered(r: FileRecord): Record<string, unknown> {
  const { fileId, key, status, reasons, stages, sha256, size, detectedType, ...rest } = r;
  return { fileId, key, status, reasons, sha256, size, detectedType, stages, ...rest };
}

function describeRecord(r: FileRecord): string {
  const lines = [`${r.fileId}  ${r.status}  s3://${r.bucket}/${r.key}`];
  lines.push(
    `  source ${r.source}${r.owner ? ` (${r.owner})` : ""}, ${r.size} bytes${r.detectedType ? `, ${r.detectedType.id}` : ""}`,
  );
  if (r.sha256) lines.push(`  sha256 ${r.sha256}`);
  for (const [stage, result] of Object.entries(r.stages)) lines.push(`  ${stage}: ${result?.status}`);
  const facts = r.stages.metadata?.facts;
  if (facts) lines.push(...describeFacts(facts).map((line) => `  ${line}`));
  if (r.textKey) lines.push(`  text object: ${r.textKey} (clean bucket)`);
  for (const reason of r.reasons) lines.push(`  - ${reason}`);
  return lines.join("\n");
}

async function drop(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { key: { type: "string" }, system: { type: "string" }, "content-type": { type: "string" } },
  });
  const file = positionals[0];
  if (!file) throw new CliError("drop needs a file: airlock drop <file>");
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new CliError(`Not a readable file: ${file}`);
  const system = values.system ?? "cli";
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(system)) throw new CliError(`Invalid system name: ${system}`);
  const key = values.key ?? `drops/${system}/${basename(file)}`;
  const state = await loadState();
  const s3 = new S3Client({
    region: state.region,
    credentials: state.credentials,
    endpoint: state.endpoints.s3,
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  await reachable(() =>
    s3.send(
      new PutObjectCommand({
        Bucket: state.ingestBucket,
        Key: key,
        Body: createReadStream(file),
        ContentLength: info.size,
        ContentType: values["content-type"],
      }),
    ),
  );
  const { fileId } = describeKey(state.ingestBucket, key);
  process.stdout.write(`${JSON.stringify({ fileId, bucket: state.ingestBucket, key })}\n`);
  return 0;
}

async function status(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { wait: { type: "boolean" }, timeout: { type: "string" }, json: { type: "boolean" } },
  });
  const fileId = positionals[0];
  if (!fileId) throw new CliError("status needs a file id: airlock status <fileId>");
  const timeoutSeconds = Number(values.timeout ?? 60);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
    throw new CliError(`Invalid --timeout: ${values.timeout}`);
  const store = records(await loadState());
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const record = await reachable(() => store.get(fileId));
    const final = record !== undefined && (FINAL_STATUSES as readonly string[]).includes(record.status);
    if (record && (final || !values.wait)) {
      print(ordered(record), values.json ?? false, () => describeRecord(record));
      return 0;
    }
    if (!values.wait) throw new CliError(`No file with id ${fileId}`);
    if (Date.now() > deadline) {
      process.stderr.write(
        `Timed out after ${timeoutSeconds} s: ${fileId} is ${record?.status ?? "not known yet"}\n`,
      );
      if (record) print(ordered(record), values.json ?? false, () => describeRecord(record));
      return 2;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function list(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { status: { type: "string" }, type: { type: "string" }, json: { type: "boolean" } },
  });
  const type = values.type?.toLowerCase();
  const statuses = values.status ? [values.status.toUpperCase()] : ["PENDING", ...FINAL_STATUSES];
  for (const s of statuses) {
    if (!["PENDING", "DELETED", ...FINAL_STATUSES].includes(s))
      throw new CliError(`Unknown status: ${values.status}`);
  }
  const store = records(await loadState());
  const found: FileRecord[] = [];
  for (const s of statuses) {
    let after: Record<string, string> | undefined;
    do {
      const page = await reachable(() => store.list({ status: s as FileStatus, limit: 100, after }));
      found.push(...page.records.filter((r) => !type || r.detectedType?.id === type));
      after = page.last;
    } while (after);
  }
  found.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  print(found.map(ordered), values.json ?? false, () =>
    found.length === 0
      ? "No files."
      : found.map((r) => `${r.fileId}  ${r.status.padEnd(8)}  ${r.key}`).join("\n"),
  );
  return 0;
}

async function notifications(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: "boolean" } } });
  await loadState();
  const text = await readFile(resolve(stateDir(), "outbox.jsonl"), "utf8").catch(() => "");
  const items = text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as LocalNotification);
  print(items, values.json ?? false, () =>
    items.length === 0 ? "No notifications yet." : items.map((n) => `${n.at}  ${n.subject}`).join("\n"),
  );
  return 0;
}

/** Mints a token from the local stack's issuer, as an identity provider would (local use only). */
async function token(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { sub: { type: "string" }, ttl: { type: "string" } } });
  const ttl = Number(values.ttl ?? 3600);
  if (!Number.isInteger(ttl) || ttl <= 0) throw new CliError(`Invalid --ttl: ${values.ttl}`);
  const { api } = await loadState();
  const jwt = await mintToken(api, { sub: values.sub ?? "dev-user", ttlSeconds: ttl });
  process.stdout.write(`${jwt}\n`);
  return 0;
}

/**
 * Re-opens a held file and sends it through the scan stage again. Against the local stack by default; with
 * `--table` and `--topic` (the stack outputs `tableName`, `fanoutTopicArn`) against AWS through the default
 * credential chain and region, with no API involved.
 */
async function rescanCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      wait: { type: "boolean" },
      json: { type: "boolean" },
      table: { type: "string" },
      topic: { type: "string" },
      actor: { type: "string" },
    },
  });
  const fileId = positionals[0];
  if (!fileId) throw new CliError("rescan needs a file id: airlock rescan <fileId>");
  if ((values.table === undefined) !== (values.topic === undefined))
    throw new CliError(
      "rescan against AWS needs both --table and --topic (the stack outputs tableName and fanoutTopicArn)",
    );
  let store: DynamoRecordStore;
  let sns: SNSClient;
  let topic: string;
  if (values.table && values.topic) {
    store = new DynamoRecordStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), values.table);
    sns = new SNSClient({});
    topic = values.topic;
  } else {
    const state = await loadState();
    store = records(state);
    sns = new SNSClient({
      region: state.region,
      credentials: state.credentials,
      endpoint: state.endpoints.sns,
    });
    topic = state.fanoutTopicArn;
  }
  const actor = values.actor ?? `operator:${process.env.USER ?? "cli"}`;
  try {
    await reachable(() =>
      rescan(fileId, actor, {
        records: store,
        redrive: async (message) => {
          await sns.send(new PublishCommand({ TopicArn: topic, Message: message }));
        },
      }),
    );
  } catch (error) {
    if (error instanceof RescanRefused) throw new CliError(error.message);
    throw error;
  }
  process.stderr.write(`Rescanning ${fileId}\n`);
  if (!values.wait) return 0;
  return status([fileId, "--wait", ...(values.json ? ["--json"] : [])]);
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  rescan: rescanCommand,
  drop,
  status,
  list,
  notifications,
  token,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const run = command ? COMMANDS[command] : undefined;
  if (!run) {
    process.stderr.write(`${command && command !== "help" ? `Unknown command: ${command}\n` : ""}${USAGE}\n`);
    return command === "help" ? 0 : 1;
  }
  try {
    return await run(rest);
  } catch (error) {
    if (error instanceof CliError || (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      process.stderr.write(`airlock: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}
