/**
 * The facts a file record carries, as label/value pairs for display. Known facts get their own labels and
 * units; any other field the record gains later (from the metadata stage or the record itself) is shown too,
 * labelled from its name, so new facts appear without a change here.
 */
import { languageName, proseLanguage } from "../../core/domain/facts.ts";
import { formatSize } from "../../core/domain/format.ts";
import type { ExtractedText } from "../../core/domain/types.ts";

export interface Fact {
  label: string;
  value: string;
  /** Long text (a preview, say): shown collapsed. */
  long?: boolean;
}

/** Record fields shown elsewhere on the card, or that are not facts about the content. */
const NOT_FACTS = new Set([
  "fileId",
  "name",
  "status",
  "reasons",
  "stages",
  "createdAt",
  "updatedAt",
  "decidedAt",
  "key",
  "bucket",
  "owner",
  "source",
  "version",
  "cleanKey",
  "promotedAt",
  "notifiedAt",
  "notificationId",
  "stageFailures",
  "declaredType",
]);

const LABELS: Record<string, string> = {
  detectedType: "Type",
  size: "Size",
  sha256: "SHA-256",
  "pdf.pages": "Pages",
  pages: "Pages",
  "text.words": "Words",
  words: "Words",
  "text.lines": "Lines",
  lines: "Lines",
  warnings: "Warnings",
  "extracted.language": "Language (a guess)",
};

/** `textPreview` or `text.preview` → "Text preview". */
export function humanize(path: string): string {
  const words = path
    .split(".")
    .flatMap((part) => part.replace(/([a-z0-9])([A-Z])/g, "$1 $2").split(/[\s_-]+/))
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function valueText(value: unknown): string | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  if (typeof value === "number") return Number.isInteger(value) ? value.toLocaleString("en") : String(value);
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    const items = value.map(valueText).filter((v): v is string => v !== undefined);
    return items.length > 0 ? items.join("; ") : undefined;
  }
  return undefined;
}

function special(path: string, value: unknown): string | undefined {
  if (path === "size" && typeof value === "number")
    return value < 1024 ? formatSize(value) : `${formatSize(value)} (${value.toLocaleString("en")} bytes)`;
  if (path === "detectedType" && value && typeof value === "object") {
    const t = value as { id?: string; mime?: string };
    return [t.id?.toUpperCase(), t.mime ? `(${t.mime})` : undefined].filter(Boolean).join(" ");
  }
  if (path === "extracted.language" && typeof value === "string") return languageName(value);
  if (path === "image" && value && typeof value === "object") {
    const i = value as { width?: number; height?: number };
    if (typeof i.width === "number" && typeof i.height === "number") return `${i.width} × ${i.height} px`;
  }
  return undefined;
}

/** Bookkeeping rather than facts about the file: OCR internals, where the text went, parser details. */
const HIDDEN = new Set([
  "ocr",
  "textKey",
  "s3Checksum",
  "extracted.source",
  "extracted.characters",
  "extracted.truncated",
]);

function collect(into: Map<string, Fact>, path: string, value: unknown, depth: number): void {
  if (HIDDEN.has(path)) return;
  const label = LABELS[path] ?? (path === "image" ? "Dimensions" : humanize(path));
  const shown = special(path, value);
  if (shown !== undefined) {
    if (!into.has(label)) into.set(label, { label, value: shown });
    return;
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    if (depth >= 3) return;
    for (const [key, inner] of Object.entries(value)) collect(into, `${path}.${key}`, inner, depth + 1);
    return;
  }
  const text = valueText(value);
  if (text === undefined || into.has(label)) return;
  into.set(label, { label, value: text, ...(text.length > 80 || text.includes("\n") ? { long: true } : {}) });
}

/** The facts of a record, in a stable order: type, size, known facts, then anything else; sha256 last. */
export function factsOf(record: Record<string, unknown>): Fact[] {
  const facts = new Map<string, Fact>();
  collect(facts, "detectedType", record.detectedType, 0);
  collect(facts, "size", record.size, 0);
  const stages = (record.stages ?? {}) as Record<string, { facts?: Record<string, unknown> } | undefined>;
  const metadata = stages.metadata?.facts ?? {};
  for (const [key, value] of Object.entries(record)) {
    if (!NOT_FACTS.has(key) && key !== "sha256") collect(facts, key, value, 0);
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (key === "sha256" || key === "size" || key === "detectedType") continue;
    if (key === "extracted" && value && typeof value === "object") {
      const { preview, language, ...rest } = value as Record<string, unknown>;
      // A language is named for prose only; a held file's words are not shown (they may be what was refused).
      const prose = proseLanguage(value as ExtractedText);
      collect(
        facts,
        key,
        {
          ...rest,
          ...(prose ? { language } : {}),
          ...(record.status === "VERIFIED" ? { preview } : {}),
        },
        0,
      );
    } else collect(facts, key, value, 0);
  }
  collect(facts, "sha256", record.sha256 ?? metadata.sha256, 0);
  return [...facts.values()];
}
