/**
 * Chaos runs on the local stack: a seeded mixed corpus, and the invariant checker that reads the buckets, the
 * table and the outbox afterwards. Used by the chaos test and by `npm run bench -- chaos`.
 */
import { createHash } from "node:crypto";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { describeKey } from "../core/domain/keys.ts";
import { FINAL_STATUSES, type FileRecord } from "../core/domain/types.ts";
import type { RecordStore } from "../core/ports/index.ts";
import type { BucketInventory } from "../core/ports/inventory.ts";
import { type FaultStats, seededRandom } from "../core/runtime/faults.ts";
import type { ReconcileDeps, ReconcileReport } from "../core/usecases/pipeline/reconcile.ts";
import type { LocalState } from "./stack.ts";

const EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

export interface CorpusFile {
  key: string;
  body: Uint8Array;
  contentType: string;
  /** What the file must end as; `held` is anything but VERIFIED. */
  expect: "VERIFIED" | "held";
}

/**
 * Clean texts, CSV and JSON of varied sizes (a few of `largeBytes`), EICAR, an executable header and empty
 * files, in a seeded order: about three in four are clean.
 */
export function chaosCorpus(count: number, seed: number, largeBytes = 2 * 1024 * 1024): CorpusFile[] {
  const random = seededRandom(seed);
  const encode = (s: string) => new TextEncoder().encode(s);
  const files: CorpusFile[] = [];
  for (let i = 0; i < count; i++) {
    const draw = random();
    const name = `drops/chaos/${String(i).padStart(5, "0")}`;
    if (draw < 0.55) {
      const lines = 1 + Math.floor(random() * 200);
      const big = random() < 0.01;
      const text = big
        ? `${"clean large text line\n".repeat(Math.ceil(largeBytes / 22))}`
        : Array.from({ length: lines }, (_, n) => `line ${n} of clean file ${i}`).join("\n");
      files.push({
        key: `${name}.txt`,
        body: encode(`${text}\n`),
        contentType: "text/plain",
        expect: "VERIFIED",
      });
    } else if (draw < 0.65) {
      const rows = Array.from({ length: 1 + Math.floor(random() * 50) }, (_, n) => `${n},${i},${n * i}`);
      files.push({
        key: `${name}.csv`,
        body: encode(`a,b,c\n${rows.join("\n")}\n`),
        contentType: "text/csv",
        expect: "VERIFIED",
      });
    } else if (draw < 0.75) {
      files.push({
        key: `${name}.json`,
        body: encode(JSON.stringify({ file: i, values: [random(), random()] })),
        contentType: "application/json",
        expect: "VERIFIED",
      });
    } else if (draw < 0.87) {
      files.push({ key: `${name}.txt`, body: encode(EICAR), contentType: "text/plain", expect: "held" });
    } else if (draw < 0.95) {
      const exe = new Uint8Array(512);
      exe.set([0x4d, 0x5a, 0x90, 0]);
      files.push({ key: `${name}.exe`, body: exe, contentType: "application/octet-stream", expect: "held" });
    } else {
      files.push({ key: `${name}.txt`, body: new Uint8Array(), contentType: "text/plain", expect: "held" });
    }
  }
  return files;
}

export interface ChaosCheck {
  files: number;
  final: number;
  verified: number;
  held: number;
  notified: number;
  /** Notifications beyond the first per file. */
  duplicates: number;
  violations: string[];
}

export interface CheckDeps {
  s3: S3Client;
  records: RecordStore;
  inventory: BucketInventory;
  ingestBucket: string;
  cleanBucket: string;
  /** The fileId of every notification sent, in order. */
  notifiedFileIds: string[];
  /** A reconcile run that repairs nothing (repair: false). */
  reconcileReport: () => Promise<ReconcileReport>;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Reads everything back and lists every broken invariant in words. */
export async function checkInvariants(
  deps: CheckDeps,
  dropped: { key: string; eTag: string; expect: CorpusFile["expect"] }[],
): Promise<ChaosCheck> {
  const violations: string[] = [];
  const check: ChaosCheck = {
    files: dropped.length,
    final: 0,
    verified: 0,
    held: 0,
    notified: 0,
    duplicates: 0,
    violations,
  };
  const notifications = new Map<string, number>();
  for (const id of deps.notifiedFileIds) notifications.set(id, (notifications.get(id) ?? 0) + 1);
  const records = new Map<string, FileRecord>();

  // Every object version: one final status, of that version; notified; held bytes never VERIFIED.
  for (const file of dropped) {
    const { fileId } = describeKey(deps.ingestBucket, file.key);
    const record = await deps.records.get(fileId);
    if (!record) {
      violations.push(`${file.key}: no record`);
      continue;
    }
    records.set(fileId, record);
    if (record.version.eTag !== file.eTag) violations.push(`${file.key}: the record is of another version`);
    if (!(FINAL_STATUSES as readonly string[]).includes(record.status)) {
      const stages = Object.keys(record.stages).join("+") || "none";
      const failures = Object.values(record.stageFailures ?? {}).join("; ");
      violations.push(
        `${file.key}: not final (${record.status}; stages ${stages}${failures ? `; ${failures}` : ""})`,
      );
      continue;
    }
    check.final++;
    if (record.status === "VERIFIED") check.verified++;
    else check.held++;
    if (file.expect === "held" && record.status === "VERIFIED")
      violations.push(`${file.key}: bytes that must be held were VERIFIED`);
    const sent = notifications.get(fileId) ?? 0;
    if (sent === 0 || !record.notificationId)
      violations.push(`${file.key}: ${record.status}, never notified`);
    else check.notified++;
    check.duplicates += Math.max(0, sent - 1);
    if (record.status === "VERIFIED" && (await deps.inventory.exists(record.version)))
      violations.push(`${file.key}: VERIFIED and still in quarantine`);
  }

  // The clean bucket: judged bytes of VERIFIED records only.
  for await (const object of deps.inventory.cleanObjects(deps.cleanBucket)) {
    const text = /^text\/([A-Za-z0-9]+)\.txt$/.exec(object.key)?.[1];
    const fileId = object.fileId ?? text ?? describeKey(deps.ingestBucket, object.key).fileId;
    const record = records.get(fileId) ?? (await deps.records.get(fileId));
    if (record?.status !== "VERIFIED") {
      violations.push(`clean ${object.key}: no VERIFIED record (${record?.status ?? "none"})`);
      continue;
    }
    if (text) {
      if (record.textKey !== object.key) violations.push(`clean ${object.key}: a text no record published`);
      continue;
    }
    const got = await deps.s3.send(
      new GetObjectCommand({
        Bucket: deps.cleanBucket,
        Key: object.key,
        ...(object.versionId ? { VersionId: object.versionId } : {}),
      }),
    );
    const bytes = (await got.Body?.transformToByteArray()) ?? new Uint8Array();
    if (sha256(bytes) !== record.sha256)
      violations.push(`clean ${object.key}: bytes are not the judged SHA-256`);
  }

  const report = await deps.reconcileReport();
  for (const finding of report.findings)
    violations.push(`reconciler: ${finding.kind} ${finding.key} (${finding.detail})`);
  return check;
}

export interface ChaosOptions {
  files: number;
  seed: number;
  faults: { aws: number; crash: number };
  concurrency?: number;
  largeBytes?: number;
  maxReceiveCount?: number;
  quiesceTimeoutMs?: number;
  /** The sweeper's stuck threshold (it re-drives PENDING files past it). */
  stuckAfterSeconds?: number;
  /**
   * SIGKILLs of the whole stack: with kills, the stack runs as a child process (`local/start.ts` on a data
   * directory) killed at seeded moments and started again on the same directory (see `runChaosWithKills`):
   * half of them while dropping, after a seeded number of files, the rest while the pipeline catches up, each
   * once a seeded share of the files has settled.
   */
  kills?: number;
  /** The child's AIRLOCK_PORT_BASE (fixed, so a restarted stack answers on the same endpoints). */
  portBase?: number;
}

export interface ChaosResult extends ChaosCheck {
  seed: number;
  faults: { aws: number; crash: number };
  injected: FaultStats;
  /** Files that ended FAILED (a stage gave up under the faults): final and notified, never promoted. */
  failed: number;
  kills: number;
  repairRounds: number;
  dropSeconds: number;
  quiesceSeconds: number;
  /** With kills: from the last restart to quiet after the repair rounds. */
  afterLastKillSeconds?: number;
}

/**
 * One chaos run in this process: a local stack with faults on, the corpus dropped with `concurrency` writers,
 * then quiesced (queues drained, then reconciler repair rounds with faults still on for the handlers), then the
 * invariants checked with a reconciler that repairs nothing.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  if ((options.kills ?? 0) > 0) return runChaosWithKills(options);
  const { startLocalStack } = await import("./stack.ts");
  const { reconcileDeps } = await import("./cli/commands/reconcile.ts");
  const { reconcile } = await import("../core/usecases/pipeline/reconcile.ts");
  const { PutObjectCommand } = await import("@aws-sdk/client-s3");
  const { localS3 } = await import("./cli/clients.ts");
  const stack = await startLocalStack({
    faults: { ...options.faults, seed: options.seed },
    visibilityTimeoutSeconds: 2,
    maxReceiveCount: options.maxReceiveCount ?? 10,
    stuckAfterSeconds: options.stuckAfterSeconds ?? 15,
    sweepIntervalMs: 3_000,
  });
  try {
    const { state } = stack;
    const s3 = localS3(state, { maxAttempts: 5 });
    // The stack's lease (twice its visibility timeout), so crashed claims are re-claimable within the run.
    const deps = { ...reconcileDeps(state), notificationLeaseSeconds: 4 };
    const corpus = chaosCorpus(options.files, options.seed, options.largeBytes);
    const dropped: { key: string; eTag: string; expect: CorpusFile["expect"] }[] = [];
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency ?? 16 }, async () => {
        while (next < corpus.length) {
          const file = corpus[next++] as CorpusFile;
          const out = await s3.send(
            new PutObjectCommand({
              Bucket: state.ingestBucket,
              Key: file.key,
              Body: file.body,
              ContentType: file.contentType,
            }),
          );
          dropped.push({ key: file.key, eTag: (out.ETag ?? "").replace(/"/g, ""), expect: file.expect });
        }
      }),
    );
    const dropSeconds = (Date.now() - started) / 1000;
    const quiesceStart = Date.now();
    const timeout = options.quiesceTimeoutMs ?? 300_000;
    await stack.idle(timeout);
    // Queue depths alone can say idle while crashed messages wait out their visibility timeout: wait for the
    // records too (final and notified), up to the timeout, and let the sweeper and reconciler act after it.
    const deadline = Date.now() + timeout;
    const unsettled = async () => {
      let open = 0;
      for (const file of dropped) {
        const record = await deps.records.get(describeKey(state.ingestBucket, file.key).fileId);
        if (
          !record ||
          record.status === "PENDING" ||
          !record.notificationId ||
          record.version.eTag !== file.eTag
        )
          open++;
      }
      return open;
    };
    while (Date.now() < deadline && (await unsettled()) > 0) await new Promise((r) => setTimeout(r, 500));
    await stack.idle(timeout);
    let repairRounds = 0;
    for (; repairRounds < 10; repairRounds++) {
      const report = await reconcile(deps, { graceSeconds: 0, now: new Date(Date.now() + 1000) });
      if (report.findings.length === 0) break;
      await stack.idle(timeout);
    }
    const quiesceSeconds = (Date.now() - quiesceStart) / 1000;
    const { check, failed } = await judgeRun(
      s3,
      deps,
      state,
      stack.outbox.map((n) => n.attributes.fileId ?? ""),
      dropped,
    );
    return {
      ...check,
      seed: options.seed,
      faults: options.faults,
      injected: { ...(stack.faults as FaultStats) },
      failed,
      kills: 0,
      repairRounds,
      dropSeconds,
      quiesceSeconds,
    };
  } finally {
    await stack.stop();
  }
}

/** The end of a run: the invariants over the buckets, the records and the notifications, and the FAILED count. */
async function judgeRun(
  s3: S3Client,
  deps: Pick<CheckDeps, "records" | "inventory"> & ReconcileDeps,
  state: LocalState,
  notifiedFileIds: string[],
  files: Parameters<typeof checkInvariants>[1],
): Promise<{ check: ChaosCheck; failed: number }> {
  const { reconcile } = await import("../core/usecases/pipeline/reconcile.ts");
  const check = await checkInvariants(
    {
      s3,
      records: deps.records,
      inventory: deps.inventory,
      ingestBucket: state.ingestBucket,
      cleanBucket: state.cleanBucket,
      notifiedFileIds,
      reconcileReport: () =>
        reconcile(deps, { graceSeconds: 0, repair: false, now: new Date(Date.now() + 1000) }),
    },
    files,
  );
  let failed = 0;
  for (const file of files) {
    const record = await deps.records.get(describeKey(state.ingestBucket, file.key).fileId);
    if (record?.status === "FAILED") failed++;
  }
  return { check, failed };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One `npm start` child on a data directory; `kill()` is SIGKILL, `stop()` SIGTERM. */
async function startChild(env: Record<string, string>, stateDir: string) {
  const { spawn } = await import("node:child_process");
  const { readFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const child = spawn(process.execPath, ["--import", "tsx", "local/start.ts"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (c: Buffer) => {
    out = (out + c.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 120_000;
  while (!/local stack ready/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`the local stack did not start: ${out.slice(-2_000)}`);
    await sleep(100);
  }
  const state = JSON.parse(await readFile(join(stateDir, "local.json"), "utf8")) as LocalState;
  return {
    state,
    output: () => out,
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/**
 * A port base whose five ports are free, from `start` on (below the ephemeral range, 32768 and up, so no client
 * socket takes one between the check and the start).
 */
export async function freePortBase(start: number): Promise<number> {
  const { busyPorts } = await import("./health.ts");
  for (let base = start; base < 32_000; base += 5) {
    const ports = { a: base, b: base + 1, c: base + 2, d: base + 3, e: base + 4 };
    if ((await busyPorts(ports)).length === 0) return base;
  }
  throw new Error(`no five free ports from ${start} on`);
}

const NO_FAULTS: FaultStats = { calls: 0, throttles: 0, errors: 0, timeouts: 0, crashes: 0 };

/**
 * A chaos run with the whole stack killed: `local/start.ts` runs as a child process on a data directory with
 * faults on; the seeded corpus is dropped with `concurrency` writers; the child is SIGKILLed at seeded moments
 * (about half while dropping, after a seeded number of files, the rest while the pipeline catches up, once a seeded share of the files has settled) and
 * started again on the same directory each time. A drop the kill interrupted is retried by its writer, as a
 * real client would (it may have been stored already: the retry is then a second version of the same bytes).
 * Then: quiet (every record final and notified, queues empty), reconciler repair rounds, and the invariant
 * checker, reading the outbox file the child appended to across its lives.
 */
export async function runChaosWithKills(options: ChaosOptions): Promise<ChaosResult> {
  const { mkdtemp, readFile, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { SQSClient } = await import("@aws-sdk/client-sqs");
  const { queueDepth } = await import("./queue-depth.ts");
  const { PutObjectCommand } = await import("@aws-sdk/client-s3");
  const { reconcileDeps } = await import("./cli/commands/reconcile.ts");
  const { reconcile } = await import("../core/usecases/pipeline/reconcile.ts");
  const { localS3 } = await import("./cli/clients.ts");
  const { STAGES } = await import("../core/domain/types.ts");

  const kills = options.kills ?? 0;
  const dataDir = await mkdtemp(join(tmpdir(), "airlock-chaos-data-"));
  const stateDir = await mkdtemp(join(tmpdir(), "airlock-chaos-state-"));
  const random = seededRandom(options.seed ^ 0x6b696c6c);
  const base = options.portBase ?? (await freePortBase(21_000 + Math.floor(random() * 1_500) * 5));
  const injected: FaultStats = { ...NO_FAULTS };
  let lives = 0;
  const env = () => ({
    AIRLOCK_DATA_DIR: dataDir,
    AIRLOCK_STATE_DIR: stateDir,
    AIRLOCK_PORT_BASE: String(base),
    // Each life draws its own faults (the same seed again would replay the first life's draws).
    AIRLOCK_FAULTS: `aws=${options.faults.aws},crash=${options.faults.crash},seed=${options.seed + lives}`,
    AIRLOCK_VISIBILITY_TIMEOUT_SECONDS: "2",
    AIRLOCK_MAX_RECEIVE_COUNT: String(options.maxReceiveCount ?? 10),
    AIRLOCK_STUCK_AFTER_SECONDS: String(options.stuckAfterSeconds ?? 15),
    AIRLOCK_SWEEP_INTERVAL_MS: "3000",
    POWERTOOLS_LOG_LEVEL: "ERROR",
  });
  const addFaults = async () => {
    const text = await readFile(join(stateDir, "faults.json"), "utf8").catch(() => "");
    if (!text.trim()) return;
    const stats = JSON.parse(text) as FaultStats;
    for (const k of Object.keys(injected) as (keyof FaultStats)[]) injected[k] += stats[k];
    await rm(join(stateDir, "faults.json"), { force: true });
  };

  let child = await startChild(env(), stateDir);
  try {
    const { state } = child;
    const s3 = localS3(state, { maxAttempts: 1 });
    const deps = { ...reconcileDeps(state), notificationLeaseSeconds: 4 };
    const sqs = new SQSClient({
      region: state.region,
      credentials: state.credentials,
      endpoint: state.endpoints.sqs,
    });
    const corpus = chaosCorpus(options.files, options.seed, options.largeBytes);

    // Kill and start again; writers wait for the new life.
    let restarting: Promise<void> | undefined;
    let done = 0;
    const restart = () => {
      restarting ??= (async () => {
        await child.kill();
        await addFaults();
        lives++;
        child = await startChild(env(), stateDir);
      })().finally(() => {
        restarting = undefined;
      });
      return restarting;
    };
    const dropKills = Math.ceil(kills / 2);
    const killAt = Array.from(
      { length: dropKills },
      () => 1 + Math.floor(random() * (options.files - 1)),
    ).sort((a, b) => a - b);

    const dropped = new Map<string, { key: string; eTag: string; expect: CorpusFile["expect"] }>();
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency ?? 16 }, async () => {
        while (next < corpus.length) {
          const file = corpus[next++] as CorpusFile;
          for (let attempt = 0; ; attempt++) {
            await restarting;
            try {
              const out = await s3.send(
                new PutObjectCommand({
                  Bucket: state.ingestBucket,
                  Key: file.key,
                  Body: file.body,
                  ContentType: file.contentType,
                }),
              );
              dropped.set(file.key, {
                key: file.key,
                eTag: (out.ETag ?? "").replace(/"/g, ""),
                expect: file.expect,
              });
              break;
            } catch (error) {
              if (attempt > 50) throw error;
              await sleep(200);
            }
          }
          done++;
          if (killAt.length > 0 && done >= (killAt[0] as number)) {
            killAt.shift();
            await sleep(Math.floor(random() * 1_000));
            // Writers wait for it (and see its failure, if the stack does not start again).
            restart().catch(() => undefined);
          }
        }
      }),
    );
    await restarting;
    const dropSeconds = (Date.now() - started) / 1000;
    const files = [...dropped.values()];

    const isSettled = async (file: (typeof files)[number]) => {
      const record = await deps.records
        .get(describeKey(state.ingestBucket, file.key).fileId)
        .catch(() => undefined);
      return (
        record !== undefined &&
        (FINAL_STATUSES as readonly string[]).includes(record.status) &&
        record.notificationId !== undefined &&
        record.version.eTag === file.eTag
      );
    };
    /** The files not settled yet, of `among` (a settled file stays settled: nothing drops again). */
    const unsettled = async (among: typeof files) => {
      const open: typeof files = [];
      for (const file of among) if (!(await isSettled(file))) open.push(file);
      return open;
    };
    const queueUrls = [
      ...STAGES.flatMap((stage) => [state.queues[stage].url, state.queues[stage].dlqUrl]),
      state.outboxQueueUrl,
    ];
    const queued = async () => {
      let total = 0;
      for (const url of queueUrls) total += (await queueDepth(sqs, url)).reduce((a, b) => a + b, 0);
      return total;
    };
    const timeout = options.quiesceTimeoutMs ?? 300_000;
    /** Every record final and notified, and the queues empty three times running. */
    const quiet = async () => {
      const deadline = Date.now() + timeout;
      let open = files;
      let rounds = 0;
      while (Date.now() < deadline) {
        open = await unsettled(open);
        rounds = open.length === 0 && (await queued()) === 0 ? rounds + 1 : 0;
        if (rounds >= 3) {
          open = await unsettled(files);
          if (open.length === 0) return;
          rounds = 0;
        }
        await sleep(500);
      }
    };

    // The other kills while the pipeline catches up: each once a seeded share of the files has settled.
    const quiesceStart = Date.now();
    const shares = Array.from({ length: kills - dropKills }, () => 0.05 + random() * 0.9).sort(
      (a, b) => a - b,
    );
    let open = files;
    const catchUpDeadline = Date.now() + timeout;
    for (const share of shares) {
      while (Date.now() < catchUpDeadline) {
        open = await unsettled(open);
        if (files.length - open.length >= share * files.length) break;
        await sleep(250);
      }
      await restart();
    }
    const lastKill = Date.now();
    await quiet();
    let repairRounds = 0;
    for (; repairRounds < 10; repairRounds++) {
      const report = await reconcile(deps, { graceSeconds: 0, now: new Date(Date.now() + 1000) });
      if (report.findings.length === 0) break;
      await sleep(1_000);
      await quiet();
    }
    const quiesceSeconds = (Date.now() - quiesceStart) / 1000;
    const afterLastKillSeconds = (Date.now() - lastKill) / 1000;

    const outbox = await readFile(join(stateDir, "outbox.jsonl"), "utf8");
    const notifiedFileIds = outbox
      .split("\n")
      .filter(Boolean)
      .flatMap((line) => {
        try {
          return [(JSON.parse(line) as { attributes: Record<string, string> }).attributes.fileId ?? ""];
        } catch {
          return []; // a line the kill cut short: the message is printed again after the restart
        }
      });
    const { check, failed } = await judgeRun(
      localS3(state, { maxAttempts: 5 }),
      deps,
      state,
      notifiedFileIds,
      files,
    );
    await child.stop();
    await addFaults();
    return {
      ...check,
      seed: options.seed,
      faults: options.faults,
      injected,
      failed,
      kills: lives,
      repairRounds,
      dropSeconds,
      quiesceSeconds,
      afterLastKillSeconds,
    };
  } finally {
    await child.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  }
}
