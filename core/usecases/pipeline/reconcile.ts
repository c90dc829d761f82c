/**
 * The reconciler: compares the buckets with the records and repairs what it safely can — the backlog and
 * existing-object scan as well as the net under every crash window.
 *
 * What it finds, and what it does (with `repair`; without, it only reports):
 * - `unrecorded-object`: an object in quarantine with no record (its event was lost, or is very late) →
 *   re-driven through the fan-out as a synthetic event, so it is judged like any other.
 * - `object-missing`: a PENDING record whose object version is gone → reported (the sweeper fails it past its
 *   threshold); a VERIFIED, unpromoted one → settled again, which ends it FAILED with the reason, notified.
 * - `unpromoted` / `unnotified`: a decided record whose promotion or notification never completed (a crash) →
 *   settled again (every effect is idempotent; the notification claim is a lease).
 * - `verified-in-quarantine`: a promoted VERIFIED record whose judged version is still in quarantine → that
 *   exact version is removed.
 * - `clean-without-verified`: a clean-bucket object with no VERIFIED record of that key, or whose `airlock-sha256`
 *   is not the record's SHA-256, or a text no VERIFIED record published → withdrawn (that exact version).
 *
 * Anything younger than `graceSeconds` is left alone: the pipeline may be acting on it right now.
 */

import { syntheticEvent } from "../../domain/events.ts";
import { describeKey } from "../../domain/keys.ts";
import { FINAL_STATUSES, type FileRecord, type ObjectVersion } from "../../domain/types.ts";
import type { FileListing, FileRecords } from "../../ports/index.ts";
import type { BucketInventory, CleanObject, StoredObject } from "../../ports/inventory.ts";
import { notificationLeaseHeld, type SettleDeps, settle } from "./settle.ts";

export interface ReconcileDeps extends SettleDeps {
  records: SettleDeps["records"] & FileRecords & FileListing;
  inventory: BucketInventory;
  ingestBucket: string;
  redrive(event: string): Promise<void>;
}

export interface ReconcileOptions {
  /** Repair what is safe to repair (default); false only reports. */
  repair?: boolean;
  graceSeconds: number;
  now?: Date;
}

export type FindingKind =
  | "unrecorded-object"
  | "object-missing"
  | "unpromoted"
  | "unnotified"
  | "verified-in-quarantine"
  | "clean-without-verified";

export interface Finding {
  kind: FindingKind;
  bucket: string;
  key: string;
  fileId?: string;
  detail: string;
  /** What was done: `reported` when it was left for a person (or repair was off), `failed` when repair threw. */
  action: "redriven" | "settled" | "removed" | "withdrawn" | "reported" | "failed";
}

export interface ReconcileReport {
  at: string;
  scanned: { quarantine: number; records: number; clean: number };
  findings: Finding[];
  repaired: number;
  /** Findings not repaired: what a person, or a later run, still has to look at. */
  unresolved: number;
}

/** The text a promotion publishes next to a file: `text/<fileId>.txt`. */
const TEXT_KEY = /^text\/([A-Za-z0-9]+)\.txt$/;

const sameVersion = (a: ObjectVersion | StoredObject, b: StoredObject) =>
  a.versionId && b.versionId ? a.versionId === b.versionId : a.eTag === b.eTag;

export async function reconcile(deps: ReconcileDeps, options: ReconcileOptions): Promise<ReconcileReport> {
  const now = options.now ?? new Date();
  const repair = options.repair ?? true;
  const settled = new Date(now.getTime() - options.graceSeconds * 1000);
  const old = (at: Date | string | undefined) => at !== undefined && new Date(at) < settled;
  const report: ReconcileReport = {
    at: now.toISOString(),
    scanned: { quarantine: 0, records: 0, clean: 0 },
    findings: [],
    repaired: 0,
    unresolved: 0,
  };
  const found = async (
    finding: Omit<Finding, "action">,
    action: Finding["action"],
    fix?: () => Promise<unknown>,
  ) => {
    let done: Finding["action"] = repair && fix ? action : "reported";
    if (repair && fix) {
      try {
        await fix();
      } catch {
        done = "failed";
      }
    }
    report.findings.push({ ...finding, action: done });
    if (done === "reported" || done === "failed") report.unresolved++;
    else report.repaired++;
  };
  const settleDeps: SettleDeps = { ...deps, now: deps.now ?? (() => now) };

  // 1. Quarantine: every object has a record of its own version (or a newer one took the record over).
  const quarantined = new Map<string, StoredObject>();
  /** Files re-driven in this run: the pipeline is on them now, the record checks below leave them alone. */
  const redriven = new Set<string>();
  for await (const object of deps.inventory.objects(deps.ingestBucket)) {
    report.scanned.quarantine++;
    quarantined.set(object.key, object);
    if (!old(object.lastModified)) continue;
    const { fileId } = describeKey(deps.ingestBucket, object.key);
    const record = await deps.records.get(fileId);
    if (record) {
      // A newer object than the record's version whose event never came: only reported, since no sequencer we
      // could make up would order it correctly against the record's real one.
      if (
        !sameVersion(record.version, object) &&
        record.status !== "DELETED" &&
        object.lastModified &&
        object.lastModified > new Date(record.createdAt)
      )
        await found(
          {
            kind: "unrecorded-object",
            bucket: object.bucket,
            key: object.key,
            fileId,
            detail: `a newer object than the ${record.status} record's version`,
          },
          "reported",
        );
      continue;
    }
    await found(
      { kind: "unrecorded-object", bucket: object.bucket, key: object.key, fileId, detail: "no record" },
      "redriven",
      // The lowest sequencer: a real event for this key, late or newer, always takes the record over.
      () =>
        redriven.add(fileId) &&
        deps.redrive(
          syntheticEvent({
            version: {
              bucket: object.bucket,
              key: object.key,
              ...(object.versionId ? { versionId: object.versionId } : {}),
              ...(object.eTag ? { eTag: object.eTag } : {}),
              size: object.size,
              sequencer: "0",
            },
          } as FileRecord),
        ),
    );
  }

  // 2. Records: every decided file promoted (if VERIFIED), out of quarantine (if promoted) and notified.
  for (const status of ["PENDING", ...FINAL_STATUSES] as const) {
    let after: Record<string, string> | undefined;
    do {
      const page = await deps.records.list({ status, limit: 100, after });
      for (const record of page.records) {
        report.scanned.records++;
        await checkRecord(record);
      }
      after = page.last;
    } while (after);
  }

  async function checkRecord(record: FileRecord) {
    const { version, fileId } = record;
    const base = { bucket: version.bucket, key: version.key, fileId };
    if (!old(record.updatedAt) || redriven.has(fileId)) return;
    const object = quarantined.get(version.key);
    const present = object !== undefined && sameVersion(version, object);
    if (record.status === "PENDING") {
      if (!present && !(await deps.inventory.exists(version)))
        await found(
          { ...base, kind: "object-missing", detail: "PENDING, its object version is gone" },
          "reported",
        );
      return;
    }
    if (record.status === "VERIFIED" && !record.promotedAt) {
      const detail = present ? "VERIFIED, never promoted" : "VERIFIED, never promoted, its object is gone";
      await found({ ...base, kind: present ? "unpromoted" : "object-missing", detail }, "settled", () =>
        settle(record, settleDeps),
      );
      return;
    }
    if (!record.notificationId && !notificationLeaseHeld(record, now, deps.notificationLeaseSeconds)) {
      await found({ ...base, kind: "unnotified", detail: `${record.status}, not notified` }, "settled", () =>
        settle(record, settleDeps),
      );
      return;
    }
    if (record.status === "VERIFIED" && present)
      await found(
        { ...base, kind: "verified-in-quarantine", detail: "promoted, still in quarantine" },
        "removed",
        () => deps.objects.remove(version),
      );
  }

  // 3. Clean: every object is the judged bytes of a VERIFIED record of that key, or a text it published.
  for await (const object of deps.inventory.cleanObjects(deps.cleanBucket)) {
    report.scanned.clean++;
    if (!old(object.lastModified)) continue;
    const problem = await cleanProblem(object);
    if (!problem) continue;
    await found(
      {
        kind: "clean-without-verified",
        bucket: object.bucket,
        key: object.key,
        fileId: problem.fileId,
        detail: problem.detail,
      },
      "withdrawn",
      () =>
        deps.objects.withdraw(deps.cleanBucket, {
          key: object.key,
          ...(object.versionId ? { versionId: object.versionId } : {}),
          ...(object.eTag ? { eTag: object.eTag } : {}),
        }),
    );
  }

  async function cleanProblem(object: CleanObject): Promise<{ fileId: string; detail: string } | undefined> {
    const text = object.fileId ? undefined : TEXT_KEY.exec(object.key)?.[1];
    const fileId = object.fileId ?? text ?? describeKey(deps.ingestBucket, object.key).fileId;
    const record = await deps.records.get(fileId);
    if (record?.status !== "VERIFIED")
      return { fileId, detail: record ? `its record is ${record.status}` : "no record" };
    if (text)
      return record.textKey === object.key ? undefined : { fileId, detail: "a text no record published" };
    if (record.version.key !== object.key) return { fileId, detail: "its record is of another key" };
    if (!object.sha256 || object.sha256 !== record.sha256)
      return { fileId, detail: `SHA-256 ${object.sha256 ?? "missing"} is not the judged ${record.sha256}` };
    return undefined;
  }

  return report;
}
