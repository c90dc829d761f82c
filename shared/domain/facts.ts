/**
 * The facts of a file as lines people read, for `airlock status` and the verdict notification. GPS values
 * are never in the facts; only whether the image carried them. The text preview is left out of notifications
 * (`preview: false`): mail goes to lists of people who may not be the file's owner.
 */
import { formatSize } from "./format.ts";
import type { Facts } from "./types.ts";

const quote = (value: string) => JSON.stringify(value);

export function describeFacts(facts: Facts, options: { preview?: boolean } = {}): string[] {
  const lines: string[] = [];
  const { image, pdf, office, text, archive, extracted, ocr } = facts;
  if (image) {
    const dims = image.width && image.height ? `${image.width}x${image.height}` : "size unknown";
    const exif = image.exif ? `EXIF${image.gps ? " with GPS" : ""}` : "no EXIF";
    lines.push(`Image:     ${dims}, ${exif}${image.orientation ? `, orientation ${image.orientation}` : ""}`);
  }
  if (pdf) {
    const parts = [`${pdf.pages} page${pdf.pages === 1 ? "" : "s"}`];
    if (pdf.textLayer !== undefined) parts.push(pdf.textLayer ? "text layer" : "no text layer");
    if (pdf.encrypted) parts.push("encrypted");
    if (pdf.title) parts.push(`title ${quote(pdf.title)}`);
    if (pdf.author) parts.push(`author ${quote(pdf.author)}`);
    if (pdf.createdAt) parts.push(`created ${pdf.createdAt}`);
    lines.push(`PDF:       ${parts.join(", ")}`);
  }
  if (office) {
    const parts: string[] = [];
    if (office.pages !== undefined) parts.push(`${office.pages} pages`);
    if (office.sheets !== undefined) parts.push(`${office.sheets} sheets`);
    if (office.slides !== undefined) parts.push(`${office.slides} slides`);
    if (office.title) parts.push(`title ${quote(office.title)}`);
    if (office.author) parts.push(`author ${quote(office.author)}`);
    if (office.createdAt) parts.push(`created ${office.createdAt}`);
    if (parts.length > 0) lines.push(`Document:  ${parts.join(", ")}`);
  }
  if (text) {
    const csv = text.csv ? `, ${text.csv.columns} columns (${text.csv.header.slice(0, 5).join(", ")})` : "";
    lines.push(`Text:      ${text.encoding ?? "utf-8"}, ${text.lines} lines, ${text.words} words${csv}`);
  }
  if (archive)
    lines.push(`Archive:   ${archive.entries} entries, ${formatSize(archive.expandedBytes)} expanded`);
  if (extracted) {
    const language =
      extracted.language && extracted.language !== "und" ? `, language ${extracted.language}` : "";
    lines.push(
      `Extracted: ${extracted.words} words from ${extracted.source}${language}${extracted.truncated ? " (truncated)" : ""}`,
    );
    const preview = extracted.preview.replace(/\s+/g, " ").trim().slice(0, 120);
    if (preview && options.preview !== false) lines.push(`Preview:   ${quote(preview)}`);
  }
  if (ocr) {
    const detail = ocr.reason ? `: ${ocr.reason}` : ocr.words !== undefined ? `: ${ocr.words} words` : "";
    lines.push(
      `OCR:       Textract ${ocr.status} (${ocr.mode})${detail}${ocr.jobId ? `, job ${ocr.jobId}` : ""}`,
    );
  }
  for (const warning of facts.warnings ?? []) lines.push(`Warning:   ${warning}`);
  return lines;
}
