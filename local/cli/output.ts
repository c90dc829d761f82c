/** What commands print: human text by default, the same data as JSON with `--json`. */
import { describeFacts } from "../../core/domain/facts.ts";
import { printable } from "../../core/domain/file-names.ts";
import { formatSize } from "../../core/domain/format.ts";
import { fileName } from "../../core/domain/keys.ts";
import { describeReason } from "../../core/domain/reasons.ts";
import type { FileRecord } from "../../core/domain/types.ts";

export function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** `2026-11-30 14:05` in the local time zone: what people compare a listing with. */
export function shortDate(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The record with its identifying fields first, as people read it. */
export function ordered(r: FileRecord): Record<string, unknown> {
  const { fileId, key, status, reasons, stages, sha256, size, detectedType, ...rest } = r;
  return { fileId, key, status, reasons, sha256, size, detectedType, stages, ...rest };
}

export function describeRecord(r: FileRecord): string {
  // Keys come from whoever dropped the file: shown with control characters escaped, never interpreted.
  const lines = [`${r.fileId}  ${r.status}  s3://${r.bucket}/${printable(r.key)}`];
  lines.push(
    `  source ${r.source}${r.owner ? ` (${r.owner})` : ""}, ${formatSize(r.size)}${r.detectedType ? `, ${r.detectedType.id}` : ""}`,
  );
  if (r.sha256) lines.push(`  sha256 ${r.sha256}`);
  for (const [stage, result] of Object.entries(r.stages)) lines.push(`  ${stage}: ${result?.status}`);
  const facts = r.stages.metadata?.facts;
  if (facts) lines.push(...describeFacts(facts).map((line) => `  ${line}`));
  if (r.cleanKey) lines.push(`  clean object: ${printable(r.cleanKey)} (clean bucket)`);
  if (r.textKey) lines.push(`  text object: ${r.textKey} (clean bucket)`);
  for (const reason of r.reasons) lines.push(`  - ${printable(describeReason(reason))}`);
  return lines.join("\n");
}

export function listRows(records: FileRecord[]): string {
  if (records.length === 0) return "No files.";
  return table(
    ["ID", "STATUS", "SIZE", "TYPE", "DATE", "NAME"],
    records.map((r) => [
      r.fileId,
      r.status,
      formatSize(r.size),
      r.detectedType?.id ?? "-",
      shortDate(r.updatedAt),
      printable(r.source === "drop" ? r.key.replace(/^drops\//, "") : fileName(r.key)),
    ]),
  );
}
