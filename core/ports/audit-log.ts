/** The audit-log port: who did what to a file, appended and never rewritten. */

export interface AuditEntry {
  action: string;
  actor: string;
  detail?: Record<string, unknown>;
}

export interface AuditLog {
  audit(fileId: string, entry: AuditEntry): Promise<void>;
}
