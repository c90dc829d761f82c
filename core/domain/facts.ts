/**
 * The facts of a file as lines people read, for `airlock status` and the verdict notification. GPS values
 * are never in the facts; only whether the image carried them. Counts take the plural their number needs.
 *
 * Notifications leave out the text preview (`preview: false`): mail goes to lists of people who may not be the
 * file's owner. For a held file they also leave out every other word the file says about itself (PDF and Office
 * titles and authors, a CSV's header: `fileWords: false`), since those may be the very content that was refused.
 * A language is named only for real prose (see `proseLanguage`): on a table of numbers or a hex dump the
 * guess is noise.
 */
import { count, formatSize } from "./format.ts";
import type { ExtractedText, Facts } from "./types.ts";

const quote = (value: string) => JSON.stringify(value);

export interface DescribeOptions {
  /** The first words of the extracted text (default true). */
  preview?: boolean;
  /** Titles, authors and CSV headers: the file's own words (default true). */
  fileWords?: boolean;
}

/** Scripts written without spaces between words: their prose is judged by letters, not words. */
const SPACELESS =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/gu;

/**
 * The guessed language of the extracted text when it reads as prose, else undefined: the guess must be a
 * language (not `und`), the sample must be mostly letters (three in four visible characters), and either hold at
 * least 20 words of ordinary length (2–12 characters on average) or, in a script written without spaces, at
 * least 40 letters.
 */
export function proseLanguage(extracted: ExtractedText | undefined): string | undefined {
  const language = extracted?.language;
  if (!extracted || !language || language === "und") return undefined;
  const sample = extracted.preview ?? "";
  const letters = sample.match(/\p{L}/gu)?.length ?? 0;
  const visible = sample.match(/\S/gu)?.length ?? 0;
  if (visible === 0 || letters / visible < 0.75) return undefined;
  const spaceless = sample.match(SPACELESS)?.length ?? 0;
  if (spaceless / letters > 0.5) return letters >= 40 ? language : undefined;
  const words = sample.match(/\S+/gu)?.length ?? 0;
  if (extracted.words < 20 || words < 20) return undefined;
  const average = visible / words;
  return average >= 2 && average <= 12 ? language : undefined;
}

const LANGUAGE_NAMES = new Intl.DisplayNames(["en"], { type: "language", fallback: "none" });

/** `English (eng)` for an ISO 639-3 code, or the code alone when it has no English name. */
export function languageName(code: string): string {
  let name: string | undefined;
  try {
    name = LANGUAGE_NAMES.of(code);
  } catch {
    name = undefined;
  }
  return name && name !== code ? `${name} (${code})` : code;
}

const SOURCES: Record<ExtractedText["source"], string> = {
  text: "the text",
  pdf: "the PDF's text layer",
  office: "the document",
  ocr: "OCR",
};

export function describeFacts(facts: Facts, options: DescribeOptions = {}): string[] {
  const ownWords = options.fileWords !== false;
  const lines: string[] = [];
  const { image, pdf, office, text, archive, extracted, ocr } = facts;
  if (image) {
    const dims = image.width && image.height ? `${image.width}x${image.height}` : "size unknown";
    const exif = image.exif ? `EXIF${image.gps ? " with GPS" : ""}` : "no EXIF";
    lines.push(`Image:     ${dims}, ${exif}${image.orientation ? `, orientation ${image.orientation}` : ""}`);
  }
  if (pdf) {
    const parts = [count(pdf.pages, "page")];
    if (pdf.textLayer !== undefined) parts.push(pdf.textLayer ? "text layer" : "no text layer");
    if (pdf.encrypted) parts.push("encrypted");
    if (ownWords && pdf.title) parts.push(`title ${quote(pdf.title)}`);
    if (ownWords && pdf.author) parts.push(`author ${quote(pdf.author)}`);
    if (pdf.createdAt) parts.push(`created ${pdf.createdAt}`);
    lines.push(`PDF:       ${parts.join(", ")}`);
  }
  if (office) {
    const parts: string[] = [];
    if (office.pages !== undefined) parts.push(count(office.pages, "page"));
    if (office.sheets !== undefined) parts.push(count(office.sheets, "sheet"));
    if (office.slides !== undefined) parts.push(count(office.slides, "slide"));
    if (ownWords && office.title) parts.push(`title ${quote(office.title)}`);
    if (ownWords && office.author) parts.push(`author ${quote(office.author)}`);
    if (office.createdAt) parts.push(`created ${office.createdAt}`);
    if (parts.length > 0) lines.push(`Document:  ${parts.join(", ")}`);
  }
  if (text) {
    const header = ownWords && text.csv ? ` (${text.csv.header.slice(0, 5).join(", ")})` : "";
    const csv = text.csv ? `, ${count(text.csv.columns, "column")}${header}` : "";
    lines.push(
      `Text:      ${text.encoding ?? "utf-8"}, ${count(text.lines, "line")}, ${count(text.words, "word")}${csv}`,
    );
  }
  if (archive)
    lines.push(
      `Archive:   ${count(archive.entries, "entry", "entries")}, ${formatSize(archive.expandedBytes)} expanded`,
    );
  if (extracted) {
    const language = proseLanguage(extracted);
    const guess = language ? `, probably in ${languageName(language)}` : "";
    lines.push(
      `Extracted: ${count(extracted.words, "word")} from ${SOURCES[extracted.source] ?? extracted.source}${guess}${extracted.truncated ? " (truncated)" : ""}`,
    );
    const preview = extracted.preview.replace(/\s+/g, " ").trim().slice(0, 120);
    if (preview && ownWords && options.preview !== false) lines.push(`Preview:   ${quote(preview)}`);
  }
  if (ocr) {
    const detail = ocr.reason
      ? `: ${ocr.reason}`
      : ocr.words !== undefined
        ? `: ${count(ocr.words, "word")}`
        : "";
    lines.push(
      `OCR:       Textract ${ocr.status} (${ocr.mode})${detail}${ocr.jobId ? `, job ${ocr.jobId}` : ""}`,
    );
  }
  for (const warning of facts.warnings ?? []) lines.push(`Warning:   ${warning}`);
  return lines;
}
