/**
 * Deciding and acting on a verdict, exactly once. Any stage that completes the set of results may call this,
 * as may a redelivered message: the decision is a conditional write, and every effect after it is idempotent
 * (promotion is recorded before the quarantine copy is deleted; the notification is claimed before it is sent).
 */
import { formatNotification } from "../domain/notification.ts";
import type { FileRecord } from "../domain/types.ts";
import { decideVerdict } from "../domain/verdict.ts";
import {
  type Notifier,
  type ObjectStore,
  ObjectVersionGoneError,
  type RecordStore,
  type TextStore,
} from "../ports.ts";

export interface SettleDeps {
  records: RecordStore;
  objects: ObjectStore;
  notifier: Notifier;
  cleanBucket: string;
  /** Extracted text staged by the metadata stage: published next to a promoted file, discarded otherwise. */
  texts?: TextStore;
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

async function applyEffects(record: FileRecord, deps: SettleDeps): Promise<void> {
  if (record.status === "PENDING" || record.status === "DELETED" || record.notifiedAt) return;
  const { version } = record;
  if (record.status === "VERIFIED") {
    if (!record.promotedAt) {
      let cleanKey: string;
      try {
        cleanKey = await deps.objects.promote(version, deps.cleanBucket);
      } catch (error) {
        // Deleted or overwritten after it was judged: nothing of this version may reach the clean bucket, and a
        // newer version (if any) has its own event. Retrying could never succeed, so stop here.
        if (error instanceof ObjectVersionGoneError) return;
        throw error;
      }
      await deps.records.markPromoted(record.fileId, version, cleanKey);
      record.cleanKey = cleanKey;
    }
    // The extracted text follows the file. Publishing drops the staged copy, so a retry finds nothing left to
    // write; a crash between the write and the drop repeats the same write.
    const textKey = await deps.texts?.publish(record.fileId, version, deps.cleanBucket);
    if (textKey) record.textKey = textKey;
    await deps.objects.remove(version);
  } else {
    await deps.objects.tag(version, { "airlock-status": record.status });
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
  if (!(await deps.records.claimNotification(record.fileId, version))) return;
  let messageId: string;
  try {
    messageId = await deps.notifier.publish(formatNotification(record, { cleanBucket: deps.cleanBucket }));
  } catch (error) {
    // Only an unsent message gives the claim back; once SNS has it, a retry must not send it twice.
    await deps.records.releaseNotification(record.fileId, version);
    throw error;
  }
  await deps.records.confirmNotification(record.fileId, version, messageId);
}
