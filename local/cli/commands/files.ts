/** `drop`, `status`, `list`, `notifications`, `token` and `rescan`: the single-file commands. */
import { readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { formatSize } from "../../../core/domain/format.ts";
import { describeKey, dropKey } from "../../../core/domain/keys.ts";
import type { FileRecord, FileStatus } from "../../../core/domain/types.ts";
import type { RecordStore } from "../../../core/ports/index.ts";
import { RescanRefusedError, rescan } from "../../../core/usecases/pipeline/rescan.ts";
import { mintToken } from "../../gateway.ts";
import { contentTypeFor } from "../../push/content-type.ts";
import { fingerprintOf, openVerified } from "../../push/read.ts";
import { DEFAULT_PART_SIZE, putFile } from "../../push/s3-upload.ts";
import type { LocalNotification } from "../../stack.ts";
import { awsRecords, awsRedrive, localRecords, localRedrive, localS3 } from "../clients.ts";
import { CliError } from "../errors.ts";
import { findHome, loadState } from "../home.ts";
import { describeRecord, listRows, ordered, print, shortDate } from "../output.ts";
import { label, progressSink, Rate, transferLine } from "../progress.ts";
import { stageSummary, waitForVerdict } from "../wait.ts";

export interface Common {
  json?: boolean;
  progress?: boolean;
}

/** Waits for a verdict and prints it; exit 1 when the deadline passes first. */
async function waitAndPrint(
  records: RecordStore,
  fileId: string,
  options: Common & { timeout?: number; eTag?: string },
): Promise<number> {
  const result = await waitForVerdict((id) => records.get(id), fileId, {
    timeoutSeconds: options.timeout,
    eTag: options.eTag,
    progress: progressSink(options.progress !== false && !options.json),
  });
  const { record } = result;
  if (!result.final) {
    process.stderr.write(
      `airlock: timed out after ${result.timeoutSeconds} s: ${fileId} is ${stageSummary(record)}. Wait longer with --timeout <seconds>.\n`,
    );
    if (record) print(ordered(record), options.json ?? false, () => describeRecord(record));
    return 1;
  }
  const final = record as FileRecord;
  print(ordered(final), options.json ?? false, () => describeRecord(final));
  return 0;
}

export async function drop(
  file: string,
  options: Common & { key?: string; system: string; contentType?: string; wait?: boolean; timeout?: number },
): Promise<number> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new CliError(`Not a readable file: ${file}`);
  const key = options.key ?? dropKey(options.system, basename(file));
  if (key.trim() === "" || Buffer.byteLength(key) > 1024)
    throw new CliError(`Invalid key (1 to 1024 bytes): ${JSON.stringify(key)}`);
  const state = await loadState();
  const progress = progressSink(options.progress !== false && !options.json);
  const rate = new Rate();
  let sent = 0;
  const body = await openVerified(file, { fingerprint: fingerprintOf(info) }, (n) => {
    sent += n;
  });
  let uploaded = 0;
  const ticker = setInterval(() => {
    // Bytes read run ahead of bytes acknowledged by at most the parts in flight; show the acknowledged ones
    // for multipart uploads and the read ones for a single PUT (which only acknowledges at the end).
    const done = info.size > DEFAULT_PART_SIZE ? uploaded : sent;
    rate.add(done);
    progress.update(() => `${label(basename(file))} ${transferLine(done, info.size, rate.perSecond())}`);
  }, 200);
  let eTag: string | undefined;
  try {
    eTag = await putFile(localS3(state), {
      bucket: state.ingestBucket,
      key,
      body,
      contentType: options.contentType ?? contentTypeFor(file),
      onProgress: (loaded) => {
        uploaded = loaded;
      },
    });
  } finally {
    clearInterval(ticker);
    progress.clear();
    body.destroy();
  }
  const { fileId } = describeKey(state.ingestBucket, key);
  if (options.wait) {
    if (!options.json)
      process.stderr.write(
        `Dropped ${basename(file)} as ${key} (file id ${fileId}); waiting for its verdict…\n`,
      );
    return waitAndPrint(localRecords(state), fileId, { ...options, eTag });
  }
  print({ fileId, bucket: state.ingestBucket, key, size: info.size, eTag }, options.json ?? false, () =>
    [
      `Dropped ${basename(file)} (${formatSize(info.size)}) into s3://${state.ingestBucket}/${key}.`,
      `File id ${fileId}: see its verdict with \`airlock status ${fileId} --wait\`.`,
    ].join("\n"),
  );
  return 0;
}

export async function status(
  fileId: string,
  options: Common & { wait?: boolean; timeout?: number },
): Promise<number> {
  const records = localRecords(await loadState());
  if (options.wait) return waitAndPrint(records, fileId, options);
  const record = await records.get(fileId);
  if (!record) throw new CliError(`No file with id ${fileId}`);
  print(ordered(record), options.json ?? false, () => describeRecord(record));
  return 0;
}

export async function list(
  options: Common & { status?: FileStatus; type?: string; system?: string; owner?: string; limit: number },
): Promise<number> {
  const records = localRecords(await loadState());
  const owner = options.system ? `system:${options.system}` : options.owner;
  const found: FileRecord[] = [];
  if (owner) {
    let after: Record<string, string> | undefined;
    do {
      const page = await records.list({
        owner,
        status: options.status,
        type: options.type,
        limit: 100,
        after,
      });
      found.push(...page.records);
      after = page.last;
    } while (after && found.length < options.limit);
  } else {
    const statuses: FileStatus[] = options.status
      ? [options.status]
      : ["PENDING", "VERIFIED", "REJECTED", "INFECTED", "FAILED"];
    for (const s of statuses) {
      let after: Record<string, string> | undefined;
      let taken = 0;
      do {
        const page = await records.list({ status: s, limit: 100, after });
        const matching = page.records.filter((r) => !options.type || r.detectedType?.id === options.type);
        found.push(...matching);
        taken += matching.length;
        after = page.last;
      } while (after && taken < options.limit);
    }
  }
  found.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  const shown = found.slice(0, options.limit);
  print(shown.map(ordered), options.json ?? false, () => {
    const more = found.length > shown.length ? `\n… and more: raise --limit (now ${options.limit}).` : "";
    return `${listRows(shown)}${more}`;
  });
  return 0;
}

export async function notifications(options: Common & { limit: number }): Promise<number> {
  await loadState();
  const text = await readFile(join(findHome().dir, "outbox.jsonl"), "utf8").catch(() => "");
  const items: LocalNotification[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      items.push(JSON.parse(line) as LocalNotification);
    } catch {
      // A line cut short by a stack that was stopped mid-write: skip it.
    }
  }
  const shown = items.slice(-options.limit);
  print(shown, options.json ?? false, () =>
    shown.length === 0
      ? "No notifications yet."
      : shown
          .map((n) => {
            const body = n.message
              .trimEnd()
              .split("\n")
              .map((l) => `    ${l}`)
              .join("\n");
            return `${shortDate(n.at)}  ${n.subject}\n${body}`;
          })
          .join("\n\n"),
  );
  return 0;
}

/** Mints a token from the local stack's issuer, as an identity provider would (local use only). */
export async function token(options: Common & { sub: string; ttl: number }): Promise<number> {
  const { api } = await loadState();
  const jwt = await mintToken(api, { sub: options.sub, ttlSeconds: options.ttl });
  const expiresAt = new Date(Date.now() + options.ttl * 1000).toISOString();
  if (options.json) print({ token: jwt, sub: options.sub, expiresAt, issuer: api.issuer }, true, () => "");
  else process.stdout.write(`${jwt}\n`);
  return 0;
}

/**
 * Re-opens a held file and sends it through the scan stage again. Against the local stack by default; with
 * `--table` and `--topic` (the stack outputs `tableName`, `fanoutTopicArn`) against AWS through the default
 * credential chain and region, with no API involved.
 */
export async function rescanCommand(
  fileId: string,
  options: Common & { wait?: boolean; timeout?: number; table?: string; topic?: string; actor?: string },
): Promise<number> {
  let records: RecordStore;
  let redrive: (message: string) => Promise<void>;
  if (options.table && options.topic) {
    records = awsRecords(options.table);
    redrive = awsRedrive(options.topic);
  } else {
    const state = await loadState();
    records = localRecords(state);
    redrive = localRedrive(state);
  }
  const actor = options.actor ?? `operator:${process.env.USER ?? "cli"}`;
  try {
    await rescan(fileId, actor, { records, redrive });
  } catch (error) {
    if (error instanceof RescanRefusedError) throw new CliError(error.message);
    throw error;
  }
  if (!options.wait) {
    print({ fileId, rescanning: true }, options.json ?? false, () => `Rescanning ${fileId}.`);
    return 0;
  }
  if (!options.json) process.stderr.write(`Rescanning ${fileId}…\n`);
  return waitAndPrint(records, fileId, options);
}
