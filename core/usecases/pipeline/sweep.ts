/**
 * The sweeper's rule for files stuck in PENDING (a lost event, a stage that never reported): once past the
 * threshold the file is re-driven through the fan-out (stages that already reported skip it); past twice the
 * threshold the silent stages are failed, so the file ends FAILED instead of waiting forever.
 *
 * It also re-drives decided files whose verdict was never confirmed as notified (see settle.ts: the claim is a
 * lease): an invocation that died after the decision, before or after the claim, leaves such a file, and once its
 * queue message is gone (dead-lettered, or a crash after it was deleted) nothing else would finish it. The
 * effects are idempotent, so settling again promotes what was not promoted and notifies what was not notified.
 */
import { syntheticEvent } from "../../domain/events.ts";
import { missingStages } from "../../domain/verdict.ts";
import type { FileListing } from "../../ports/index.ts";
import { RescanRefusedError } from "./errors.ts";
import { type RescanDeps, rescan } from "./rescan.ts";
import { NOTIFICATION_LEASE_SECONDS, notificationLeaseHeld, settle } from "./settle.ts";
import { failStage, type StageDeps } from "./stage.ts";

/** Re-exported for callers that re-drive a record themselves; it lives beside `parseStageMessage`. */
export { syntheticEvent } from "../../domain/events.ts";

export interface SweepDeps extends StageDeps, RescanDeps {
  records: StageDeps["records"] & RescanDeps["records"] & FileListing;
  redrive(event: string): Promise<void>;
}

export interface SweepReport {
  redriven: string[];
  failed: string[];
  /** FAILED files re-opened for another scan (see RescanPolicy). */
  rescanned: string[];
  /** Decided files settled again because their notification was never confirmed (a crash mid-settlement). */
  renotified: string[];
  /** Files whose settlement failed again this sweep (the next sweep tries again), with the error. */
  unsettled: { fileId: string; error: string }[];
}

/** How far back the sweeper looks for decided but unconfirmed files (the reconciler looks at everything). */
export const RENOTIFY_LOOKBACK_SECONDS = 24 * 3600;

const DECIDED = ["VERIFIED", "REJECTED", "INFECTED", "FAILED"] as const;

/**
 * Scheduled rescans of files that FAILED because a scan engine could not answer (timeouts, clamd down, a
 * crashing stage): after `afterSeconds` in FAILED, up to `maxAttempts` rescans per file. Content problems
 * (REJECTED) and findings (INFECTED) are not retried on a schedule; `airlock rescan` does that on request.
 */
export interface RescanPolicy {
  afterSeconds: number;
  maxAttempts: number;
}

export async function sweep(
  deps: SweepDeps,
  stuckAfterSeconds: number,
  now = new Date(),
  rescanFailed?: RescanPolicy,
): Promise<SweepReport> {
  const report: SweepReport = { redriven: [], failed: [], rescanned: [], renotified: [], unsettled: [] };
  const cutoff = new Date(now.getTime() - stuckAfterSeconds * 1000).toISOString();
  const giveUp = new Date(now.getTime() - 2 * stuckAfterSeconds * 1000).toISOString();
  let after: Record<string, string> | undefined;
  do {
    const page = await deps.records.list({ status: "PENDING", limit: 100, registeredBefore: cutoff, after });
    for (const record of page.records) {
      if (record.updatedAt < giveUp) {
        for (const stage of missingStages(record.stages)) {
          await failStage(stage, record.version, `no result within ${2 * stuckAfterSeconds} s`, deps);
        }
        report.failed.push(record.fileId);
      } else {
        await deps.redrive(syntheticEvent(record));
        report.redriven.push(record.fileId);
      }
    }
    after = page.last;
  } while (after);
  await settleUnnotified(deps, now, report);
  if (rescanFailed) await rescanFailedFiles(deps, rescanFailed, now, report);
  return report;
}

/** Decided within the lookback, longer ago than the lease, and no notification confirmed: settle it again. */
async function settleUnnotified(deps: SweepDeps, now: Date, report: SweepReport) {
  const lease = deps.notificationLeaseSeconds ?? NOTIFICATION_LEASE_SECONDS;
  const before = new Date(now.getTime() - lease * 1000).toISOString();
  const since = new Date(now.getTime() - RENOTIFY_LOOKBACK_SECONDS * 1000).toISOString();
  const clock = deps.now ?? (() => now);
  for (const status of DECIDED) {
    let after: Record<string, string> | undefined;
    do {
      const page = await deps.records.list({
        status,
        limit: 100,
        registeredBefore: before,
        registeredAfter: since,
        unnotified: true,
        after,
      });
      for (const record of page.records) {
        if (record.notificationId || notificationLeaseHeld(record, clock(), lease)) continue;
        try {
          await settle(record, { ...deps, now: clock });
          report.renotified.push(record.fileId);
        } catch (error) {
          report.unsettled.push({ fileId: record.fileId, error: (error as Error).message });
        }
      }
      after = page.last;
    } while (after);
  }
}

async function rescanFailedFiles(deps: SweepDeps, policy: RescanPolicy, now: Date, report: SweepReport) {
  const before = new Date(now.getTime() - policy.afterSeconds * 1000).toISOString();
  let after: Record<string, string> | undefined;
  do {
    const page = await deps.records.list({ status: "FAILED", limit: 100, registeredBefore: before, after });
    for (const record of page.records) {
      if ((record.rescans ?? 0) >= policy.maxAttempts || record.stages.scan?.status !== "error") continue;
      try {
        await rescan(record.fileId, "sweeper", deps);
        report.rescanned.push(record.fileId);
      } catch (error) {
        if (!(error instanceof RescanRefusedError)) throw error; // changed meanwhile: the next sweep looks again
      }
    }
    after = page.last;
  } while (after);
}
