/**
 * Deciding and acting on a verdict, exactly once. Any stage that completes the set of results may call this,
 * as may a redelivered message: the decision is a conditional write, and every effect after it is idempotent
 * (promotion is recorded before the quarantine copy is deleted; the notification is claimed before it is sent).
 *
 * The clean bucket holds judged bytes only: the copy is pinned to the judged version and carries its SHA-256,
 * and it is kept only if the record, still that VERIFIED version, records it. Otherwise (a newer drop took the
 * record over, the file was deleted meanwhile) the copy is withdrawn again; a version whose bytes are gone or
 * changed since judgement ends FAILED, never promoted.
 *
 * The notification is at least once per verdict: the claim is a lease (`NOTIFICATION_LEASE_SECONDS`), not a
 * flag. An invocation that dies between the claim and the confirmation leaves a claim without a message id; once
 * the lease has lapsed, a redelivery or the sweeper claims it again and sends it. A duplicate needs a crash after
 * SNS accepted the message and before the confirmation was written, and costs one message per lapsed lease.
 */
import { formatNotification } from "../../domain/notification.ts";
import { isPinned, UNPINNED_REASON } from "../../domain/pinning.ts";
import type { FileRecord } from "../../domain/types.ts";
import { decideVerdict } from "../../domain/verdict.ts";
import {
  type AuditLog,
  type FileVerdicts,
  type NotificationClaims,
  type Notifier,
  type ObjectStore,
  ObjectVersionGoneError,
  type TextStore,
  UnpinnedObjectError,
} from "../../ports/index.ts";

/** The record ports settlement uses: the decision and promotion, the notification claim, the audit log. */
export type SettleRecords = FileVerdicts & NotificationClaims & AuditLog;

export interface SettleDeps {
  records: SettleRecords;
  objects: ObjectStore;
  notifier: Notifier;
  cleanBucket: string;
  /** Extracted text staged by the metadata stage: published next to a promoted file, discarded otherwise. */
  texts?: TextStore;
  /** The clock the notification lease is read against (defaults to the system clock). */
  now?: () => Date;
  /** The notification lease (default NOTIFICATION_LEASE_SECONDS): at least the handlers' timeout. */
  notificationLeaseSeconds?: number;
}

/**
 * How long a notification claim is held before another caller may take it over. At least the longest a handler
 * invocation can run (Lambda's 15 minutes), so a live holder is never overtaken: once it lapses, its holder died.
 */
export const NOTIFICATION_LEASE_SECONDS = 900;

/** True while a notification claim may still be held by a live invocation. */
export function notificationLeaseHeld(
  record: FileRecord,
  now: Date,
  leaseSeconds = NOTIFICATION_LEASE_SECONDS,
): boolean {
  if (!record.notifiedAt || record.notificationId) return false;
  return Date.parse(record.notifiedAt) > now.getTime() - leaseSeconds * 1000;
}

export type SettleOutcome = "waiting" | "stale" | "decided" | "done";

export async function settle(record: FileRecord, deps: SettleDeps): Promise<SettleOutcome> {
  let current = record;
  let outcome: SettleOutcome = "done";
  if (current.status === "PENDING") {
    const verdict = decideVerdict(current.stages);
    if (!verdict) return "waiting";
    const decision = await deps.records.decide(current.fileId, current.version, verdict);
    if (decision.kind === "stale") return "stale";
    current = decision.record;
    if (decision.won) outcome = "decided";
  }
  await applyEffects(current, deps);
  return outcome;
}

/** The reason a VERIFIED version ends FAILED when its judged bytes cannot be copied. */
export const NOT_PROMOTED_REASON =
  "the object was deleted or replaced after it was judged, so nothing was promoted";

type Promotion =
  | { kind: "promoted"; record: FileRecord }
  | { kind: "held"; record: FileRecord }
  | { kind: "lost" };

/** Copies the judged bytes to the clean bucket and records the copy, or says why not. */
async function promote(record: FileRecord, deps: SettleDeps): Promise<Promotion> {
  const { fileId, version } = record;
  const hold = async (reason: string): Promise<Promotion> => {
    const held = await deps.records.holdUnpromoted(fileId, version, reason);
    // Not won: another settlement promoted it, a newer drop took the record over, or it was deleted.
    return held.won ? { kind: "held", record: held.record } : { kind: "lost" };
  };
  if (!record.sha256 || !record.detectedType)
    return hold("no SHA-256 and type were recorded for the judged bytes, so they cannot be promoted");
  let copy: Awaited<ReturnType<ObjectStore["promote"]>>;
  try {
    copy = await deps.objects.promote(version, deps.cleanBucket, {
      sha256: record.sha256,
      contentType: record.detectedType.mime,
      fileId,
    });
  } catch (error) {
    // Deleted or overwritten after it was judged: nothing of it may reach the clean bucket, and retrying could
    // never succeed. A newer drop of the key has its own event; anything else ends FAILED with the reason.
    if (error instanceof ObjectVersionGoneError) return hold(NOT_PROMOTED_REASON);
    if (error instanceof UnpinnedObjectError) return hold(UNPINNED_REASON);
    throw error;
  }
  if (!(await deps.records.markPromoted(fileId, version, copy))) {
    await deps.objects.withdraw(deps.cleanBucket, copy);
    return { kind: "lost" };
  }
  return { kind: "promoted", record: { ...record, cleanKey: copy.key } };
}

async function applyEffects(initial: FileRecord, deps: SettleDeps): Promise<void> {
  if (initial.status === "PENDING" || initial.status === "DELETED" || initial.notificationId) return;
  // A claim without a message id: another invocation is sending it, or died doing so. Only a lapsed lease means
  // the latter, and then the effects below (all idempotent) run again up to a fresh claim.
  const lease = deps.notificationLeaseSeconds ?? NOTIFICATION_LEASE_SECONDS;
  if (notificationLeaseHeld(initial, (deps.now ?? (() => new Date()))(), lease)) return;
  let record = initial;
  const { version } = record;
  if (record.status === "VERIFIED" && !record.promotedAt) {
    const promotion = await promote(record, deps);
    if (promotion.kind === "lost") return;
    record = promotion.record;
  }
  if (record.status === "VERIFIED") {
    // The extracted text follows the file. Publishing drops the staged copy, so a retry finds nothing left to
    // write; a crash between the write and the drop repeats the same write.
    const textKey = await deps.texts?.publish(record.fileId, version, deps.cleanBucket);
    if (textKey) record.textKey = textKey;
    await deps.objects.remove(version);
  } else {
    // A version pinned by neither id nor ETag cannot be tagged exactly; it was never read either.
    if (isPinned(version)) await deps.objects.tag(version, { "airlock-status": record.status });
    await deps.texts?.discard(record.fileId);
  }
  // Audited before the notification claim: a retry may repeat the entry, but can never lose it.
  await deps.records.audit(record.fileId, {
    action: "verdict",
    actor: "pipeline",
    detail: {
      status: record.status,
      reasons: record.reasons,
      ...(record.cleanKey ? { cleanKey: record.cleanKey } : {}),
      ...(record.textKey ? { textKey: record.textKey } : {}),
    },
  });
  if (!(await deps.records.claimNotification(record.fileId, version, lease))) return;
  let messageId: string;
  try {
    messageId = await deps.notifier.publish(formatNotification(record, { cleanBucket: deps.cleanBucket }));
  } catch (error) {
    // Only an unsent message gives the claim back; once SNS has it, a retry must not send it twice.
    await deps.records.releaseNotification(record.fileId, version);
    throw error;
  }
  // Sent: a confirmation that fails would mean a second message once the lease lapses, so it is retried here.
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.records.confirmNotification(record.fileId, version, messageId);
      return;
    } catch (error) {
      if (attempt >= CONFIRM_ATTEMPTS) throw error;
    }
  }
}

/** Attempts at recording a sent notification's message id (each after the SDK's own retries). */
const CONFIRM_ATTEMPTS = 3;
