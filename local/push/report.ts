/** `airlock push --report <run>`: a run's journal as a table, JSON or CSV. */
import { formatSize } from "../../core/domain/format.ts";
import { shortDate, table } from "../cli/output.ts";
import type { FileRow, Journal, RunRow } from "./journal.ts";

export type ReportFormat = "text" | "json" | "csv";

export interface RunReport {
  run: RunRow;
  outcomes: Record<string, number>;
  verdicts: Record<string, number>;
  files: FileRow[];
}

export function runReport(journal: Journal, run: RunRow): RunReport {
  const { outcomes, verdicts } = journal.counts(run.runId);
  return { run, outcomes, verdicts, files: journal.files(run.runId) };
}

const CSV_COLUMNS = [
  "path",
  "outcome",
  "reason",
  "size",
  "sha256",
  "key",
  "fileId",
  "duplicateOf",
  "attempts",
  "verdict",
  "verdictReasons",
  "updatedAt",
] as const;

/** RFC 4180: quoted when needed, quotes doubled. Cells starting like a formula are prefixed so spreadsheets show them as text. */
function csvCell(value: unknown): string {
  let text =
    value === undefined || value === null ? "" : Array.isArray(value) ? value.join("; ") : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function formatReport(report: RunReport, format: ReportFormat): string {
  if (format === "json") return `${JSON.stringify(report, null, 2)}\n`;
  if (format === "csv") {
    const lines = [CSV_COLUMNS.join(",")];
    for (const f of report.files) lines.push(CSV_COLUMNS.map((c) => csvCell(f[c])).join(","));
    return `${lines.join("\r\n")}\r\n`;
  }
  const { run } = report;
  const counts = Object.entries(report.outcomes)
    .map(([k, v]) => `${v} ${k}`)
    .join(", ");
  const verdicts = Object.entries(report.verdicts)
    .map(([k, v]) => `${v} ${k}`)
    .join(", ");
  const header = [
    `Run ${run.runId} (${run.state}${run.sessions > 1 ? `, ${run.sessions} sessions` : ""})`,
    `  from    ${run.root}`,
    `  to      ${run.target}`,
    `  started ${shortDate(run.startedAt)}${run.finishedAt ? `, finished ${shortDate(run.finishedAt)}` : ""}`,
    `  files   ${counts || "none"}${verdicts ? `; verdicts: ${verdicts}` : ""}`,
  ];
  const rows = report.files.map((f) => [
    f.outcome,
    f.verdict ?? "",
    f.size === undefined ? "" : formatSize(f.size),
    f.path,
    f.verdict && f.verdict !== "VERIFIED" ? (f.verdictReasons ?? []).join("; ") : (f.reason ?? ""),
  ]);
  return `${header.join("\n")}\n\n${table(["OUTCOME", "VERDICT", "SIZE", "PATH", "REASON"], rows)}\n`;
}

export function formatRuns(runs: RunRow[]): string {
  if (runs.length === 0) return "No push runs yet.";
  return table(
    ["RUN", "STARTED", "STATE", "TO", "FROM"],
    runs.map((r) => [r.runId, shortDate(r.startedAt), r.state, r.target, r.root]),
  );
}
