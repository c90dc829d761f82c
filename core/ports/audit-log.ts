/**
 * The audit-log port: who did what to a file, appended and never rewritten. Entries are appended on their own,
 * or with the record write they describe (`FileRecords.register` and `putStageResult` take one): then the entry
 * is written if and only if the write is, in the same request. `trail` reads both, oldest first.
 */

export interface AuditEntry {
  action: string;
  actor: string;
  detail?: Record<string, unknown>;
}

/** An entry as the trail keeps it: with when it was appended. */
export type AuditRecord = AuditEntry & { at: string };

export interface AuditLog {
  audit(fileId: string, entry: AuditEntry): Promise<void>;
}

/** Reading the trail: operators and tests. */
export interface AuditTrail {
  /** The file's whole trail, oldest first (also of a deleted file). */
  trail(fileId: string): Promise<AuditRecord[]>;
}
