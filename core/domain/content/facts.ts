/**
 * Document facts in one streamed pass with memory bounded by a constant: sha256 and size over every byte, and
 * per type a streaming reader (text, PDF, zip/OOXML) or a bounded head (images). The text the readers extract
 * is kept up to a character cap. A parser that cannot read the content adds a warning; it never throws.
 */
import { createHash } from "node:crypto";
import type { DetectedType, Facts } from "../types.ts";
import { TEXT_FAMILY } from "./detect.ts";
import { textCapture } from "./extracted.ts";
import { IMAGE_TYPES, imageFacts } from "./image-facts.ts";
import { pdfFacts } from "./pdf-facts.ts";
import { textFacts } from "./text-facts.ts";
import { zipFacts } from "./zip-facts.ts";

export interface FactsOptions {
  /** The announced size of the object (the PDF reader sizes its buffer from it). */
  size: number;
  /** Characters of extracted text kept (and later written to the clean bucket). */
  textMaxChars: number;
  /** PDFs up to this size are parsed in memory for title, author and text; larger ones only streamed. */
  pdfMaxBytes: number;
}

export const DEFAULT_FACTS_LIMITS = { textMaxChars: 1_000_000, pdfMaxBytes: 50 * 1024 * 1024 } as const;

export interface FactsOutcome {
  facts: Facts;
  /** The extracted text (capped), when there was any. */
  text?: string;
}

export interface FactsCollector {
  update(chunk: Uint8Array): void;
  /** Bytes the collector holds right now (image head, PDF buffer, kept text): bounded by the limits, not the size. */
  buffered(): number;
  finish(): Promise<FactsOutcome>;
}

/** Text types whose content is the text itself (markup and scripts are described, not extracted). */
const PLAIN_TEXT = new Set(["txt", "csv", "json"]);
const ZIP_TYPES = new Set(["zip", "docx", "xlsx", "pptx"]);

export function createFactsCollector(
  detectedType: DetectedType | undefined,
  options: FactsOptions = { size: 0, ...DEFAULT_FACTS_LIMITS },
): FactsCollector {
  const hash = createHash("sha256");
  let size = 0;
  const id = detectedType?.id ?? "";
  const textFile = TEXT_FAMILY.includes(id);
  // A text file's words are counted by its own reader; the capture need not count them again.
  const capture = textCapture(options.textMaxChars, !textFile);
  const image = IMAGE_TYPES.has(id) ? imageFacts(id) : undefined;
  const pdf = id === "pdf" ? pdfFacts(options.size, options.pdfMaxBytes, options.textMaxChars) : undefined;
  const text = textFile
    ? textFacts(id === "csv", (t) => {
        if (PLAIN_TEXT.has(id)) capture.add(t);
      })
    : undefined;
  const zip = ZIP_TYPES.has(id) ? zipFacts(id, (t) => capture.add(t)) : undefined;

  return {
    update(chunk) {
      hash.update(chunk);
      size += chunk.byteLength;
      image?.update(chunk);
      pdf?.update(chunk);
      text?.update(chunk);
      zip?.update(chunk);
    },
    buffered() {
      return (
        (image?.buffered() ?? 0) +
        (pdf?.buffered() ?? 0) +
        (text?.buffered() ?? 0) +
        (zip?.buffered() ?? 0) +
        capture.kept * 2
      );
    },
    async finish() {
      const facts: Facts = { sha256: hash.digest("hex"), size };
      const warnings: string[] = [];
      if (detectedType) facts.detectedType = detectedType;
      let source: "text" | "pdf" | "office" = "text";
      if (image) {
        const out = await image.finish();
        facts.image = out.facts;
        warnings.push(...out.warnings);
      }
      if (pdf) {
        const out = await pdf.finish();
        facts.pdf = out.facts;
        if (out.facts.pages === 0) warnings.push("PDF page count not found");
        warnings.push(...out.warnings);
        if (out.text) capture.add(out.text);
        source = "pdf";
      }
      if (text) facts.text = text.finish(size);
      if (zip) {
        const out = zip.finish();
        if (out.archive) facts.archive = out.archive;
        if (out.office) {
          facts.office = out.office;
          source = "office";
        }
        warnings.push(...out.warnings);
      }
      const extracted = capture.summary(source);
      if (extracted && facts.text) extracted.words = facts.text.words;
      if (extracted) facts.extracted = extracted;
      if (warnings.length > 0) facts.warnings = warnings;
      return extracted ? { facts, text: capture.text } : { facts };
    },
  };
}
