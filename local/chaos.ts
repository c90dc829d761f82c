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
import type { ReconcileReport } from "../core/usecases/pipeline/reconcile.ts";

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
}

/**
 * One chaos run in this process: a local stack with faults on, the corpus dropped with `concurrency` writers,
 * then quiesced (queues drained, then reconciler repair rounds with faults still on for the handlers), then the
 * invariants checked with a reconciler that repairs nothing.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
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
    const check = await checkInvariants(
      {
        s3,
        records: deps.records,
        inventory: deps.inventory,
        ingestBucket: state.ingestBucket,
        cleanBucket: state.cleanBucket,
        notifiedFileIds: stack.outbox.map((n) => n.attributes.fileId ?? ""),
        reconcileReport: () =>
          reconcile(deps, { graceSeconds: 0, repair: false, now: new Date(Date.now() + 1000) }),
      },
      dropped,
    );
    let failed = 0;
    for (const file of dropped) {
      const record = await deps.records.get(describeKey(state.ingestBucket, file.key).fileId);
      if (record?.status === "FAILED") failed++;
    }
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
