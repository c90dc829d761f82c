/**
 * The push journal: one SQLite database (`node:sqlite`, built into Node 24) holding every run and the outcome
 * of every file in it, so that a run can be audited, reported and resumed after a crash or a kill. Writes are
 * grouped into one transaction (a commit per statement costs ~30 times more), committed at the latest every
 * 200 ms and at once by `flush()`: a file's `uploading` row is flushed before its first byte leaves, so a resumed
 * run knows which uploads may have landed and checks them instead of sending them again. An outcome lost to a
 * kill within those 200 ms is found again the same way.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";

export const OUTCOMES = [
  "hashed",
  "uploading",
  "uploaded",
  "duplicate",
  "refused",
  "failed",
  "skipped",
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Outcomes a resumed run does not touch again. */
export const SETTLED: readonly Outcome[] = ["uploaded", "duplicate", "refused", "skipped"];

export type RunState = "running" | "finished" | "interrupted";

export interface RunRow {
  runId: string;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  root: string;
  mode: "drop" | "api";
  /** Where the files go, as people read it: `drops/billing/` or `http://…/uploads as alice`. */
  target: string;
  /** The settings the run was started with, so that `--resume` repeats them. */
  settings: Record<string, unknown>;
  state: RunState;
  /** How many times the run was started (1 + resumes). */
  sessions: number;
}

export interface FileRow {
  runId: string;
  path: string;
  size?: number;
  mtimeMs?: number;
  sha256?: string;
  outcome: Outcome;
  reason?: string;
  key?: string;
  fileId?: string;
  eTag?: string;
  duplicateOf?: string;
  attempts: number;
  verdict?: string;
  verdictReasons?: string[];
  updatedAt: string;
}

/** Fields to set on a file's row; `null` clears one (a reason from an earlier failed attempt, say). */
export type FileUpdate = { [K in keyof Omit<FileRow, "runId" | "path" | "updatedAt">]?: FileRow[K] | null };

const COLUMNS: Record<keyof FileUpdate, string> = {
  size: "size",
  mtimeMs: "mtime_ms",
  sha256: "sha256",
  outcome: "outcome",
  reason: "reason",
  key: "key",
  fileId: "file_id",
  eTag: "e_tag",
  duplicateOf: "duplicate_of",
  attempts: "attempts",
  verdict: "verdict",
  verdictReasons: "verdict_reasons",
};

/** `20261201-194233-3fa9`: sortable, readable, short enough to type. */
export function newRunId(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const stamp = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}-${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  return `${stamp}-${randomBytes(2).toString("hex")}`;
}

type Row = Record<string, SQLInputValue | undefined>;

function toRun(row: Row): RunRow {
  return {
    runId: String(row.run_id),
    startedAt: String(row.started_at),
    updatedAt: String(row.updated_at),
    finishedAt: row.finished_at === null ? undefined : String(row.finished_at),
    root: String(row.root),
    mode: row.mode === "api" ? "api" : "drop",
    target: String(row.target),
    settings: JSON.parse(String(row.settings)) as Record<string, unknown>,
    state: String(row.state) as RunState,
    sessions: Number(row.sessions),
  };
}

function toFile(row: Row): FileRow {
  const opt = (v: SQLInputValue | undefined) => (v === null || v === undefined ? undefined : String(v));
  const num = (v: SQLInputValue | undefined) => (v === null || v === undefined ? undefined : Number(v));
  return {
    runId: String(row.run_id),
    path: String(row.path),
    size: num(row.size),
    mtimeMs: num(row.mtime_ms),
    sha256: opt(row.sha256),
    outcome: String(row.outcome) as Outcome,
    reason: opt(row.reason),
    key: opt(row.key),
    fileId: opt(row.file_id),
    eTag: opt(row.e_tag),
    duplicateOf: opt(row.duplicate_of),
    attempts: Number(row.attempts ?? 0),
    verdict: opt(row.verdict),
    verdictReasons: row.verdict_reasons ? (JSON.parse(String(row.verdict_reasons)) as string[]) : undefined,
    updatedAt: String(row.updated_at),
  };
}

/** Rows queued before a commit; a full queue is committed at once. */
const MAX_PENDING = 500;
const FLUSH_EVERY_MS = 200;

export class Journal {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private pending: { statement: StatementSync; values: SQLInputValue[] }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT,
        root TEXT NOT NULL,
        mode TEXT NOT NULL,
        target TEXT NOT NULL,
        settings TEXT NOT NULL,
        state TEXT NOT NULL,
        sessions INTEGER NOT NULL DEFAULT 1
      );
      CREATE TABLE IF NOT EXISTS files (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        path TEXT NOT NULL,
        size INTEGER,
        mtime_ms REAL,
        sha256 TEXT,
        outcome TEXT NOT NULL,
        reason TEXT,
        key TEXT,
        file_id TEXT,
        e_tag TEXT,
        duplicate_of TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        verdict TEXT,
        verdict_reasons TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (run_id, path)
      );
      CREATE INDEX IF NOT EXISTS files_by_outcome ON files (run_id, outcome);
    `);
  }

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Commits every queued write in one transaction. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.db.exec("BEGIN");
    try {
      for (const { statement, values } of batch) statement.run(...values);
      this.db.exec("COMMIT");
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  createRun(run: Omit<RunRow, "updatedAt" | "sessions" | "state" | "finishedAt">): RunRow {
    this.flush();
    this.statement(
      "INSERT INTO runs (run_id, started_at, updated_at, root, mode, target, settings, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'running')",
    ).run(
      run.runId,
      run.startedAt,
      run.startedAt,
      run.root,
      run.mode,
      run.target,
      JSON.stringify(run.settings),
    );
    return this.run(run.runId) as RunRow;
  }

  /** A run by id, or the most recent one for `latest`. */
  run(runId: string): RunRow | undefined {
    this.flush();
    const row =
      runId === "latest"
        ? this.statement("SELECT * FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1").get()
        : this.statement("SELECT * FROM runs WHERE run_id = ?").get(runId);
    return row ? toRun(row as Row) : undefined;
  }

  runs(limit = 20): RunRow[] {
    this.flush();
    return (
      this.statement("SELECT * FROM runs ORDER BY started_at DESC, run_id DESC LIMIT ?").all(limit) as Row[]
    ).map(toRun);
  }

  /** Marks the run as started again (a resume). */
  resumeRun(runId: string): void {
    this.flush();
    this.statement(
      "UPDATE runs SET state = 'running', sessions = sessions + 1, finished_at = NULL, updated_at = ? WHERE run_id = ?",
    ).run(new Date().toISOString(), runId);
  }

  endRun(runId: string, state: Exclude<RunState, "running">): void {
    this.flush();
    const now = new Date().toISOString();
    this.statement("UPDATE runs SET state = ?, finished_at = ?, updated_at = ? WHERE run_id = ?").run(
      state,
      state === "finished" ? now : null,
      now,
      runId,
    );
  }

  /** Creates or updates a file's row with the given fields (the others stay as they are); queued, see `flush`. */
  record(runId: string, path: string, update: FileUpdate & { outcome: Outcome }): void {
    const keys = (Object.keys(update) as (keyof FileUpdate)[]).filter((k) => update[k] !== undefined);
    const columns = keys.map((k) => COLUMNS[k]);
    const sql =
      `INSERT INTO files (run_id, path, updated_at, ${columns.join(", ")}) VALUES (?, ?, ?, ${columns.map(() => "?").join(", ")}) ` +
      `ON CONFLICT (run_id, path) DO UPDATE SET updated_at = excluded.updated_at${columns.map((c) => `, ${c} = excluded.${c}`).join("")}`;
    const values = keys.map((k): SQLInputValue => {
      const v = update[k];
      if (v === null) return null;
      return Array.isArray(v) ? JSON.stringify(v) : (v as SQLInputValue);
    });
    this.pending.push({
      statement: this.statement(sql),
      values: [runId, path, new Date().toISOString(), ...values],
    });
    if (this.pending.length >= MAX_PENDING) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_EVERY_MS);
      this.timer.unref();
    }
  }

  file(runId: string, path: string): FileRow | undefined {
    this.flush();
    const row = this.statement("SELECT * FROM files WHERE run_id = ? AND path = ?").get(runId, path);
    return row ? toFile(row as Row) : undefined;
  }

  files(runId: string): FileRow[] {
    this.flush();
    return (this.statement("SELECT * FROM files WHERE run_id = ? ORDER BY path").all(runId) as Row[]).map(
      toFile,
    );
  }

  counts(runId: string): { outcomes: Partial<Record<Outcome, number>>; verdicts: Record<string, number> } {
    this.flush();
    const outcomes: Partial<Record<Outcome, number>> = {};
    for (const row of this.statement(
      "SELECT outcome, COUNT(*) AS n FROM files WHERE run_id = ? GROUP BY outcome",
    ).all(runId) as Row[])
      outcomes[String(row.outcome) as Outcome] = Number(row.n);
    const verdicts: Record<string, number> = {};
    for (const row of this.statement(
      "SELECT verdict, COUNT(*) AS n FROM files WHERE run_id = ? AND verdict IS NOT NULL GROUP BY verdict",
    ).all(runId) as Row[])
      verdicts[String(row.verdict)] = Number(row.n);
    return { outcomes, verdicts };
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}
