import { describe, expect, it } from "vitest";
import { describeFacts } from "../../../core/domain/facts.ts";
import { formatNotification } from "../../../core/domain/notification.ts";
import type { Facts, FileRecord } from "../../../core/domain/types.ts";

const at = "2026-11-22T00:00:00.000Z";
const facts: Facts = {
  sha256: "ab".repeat(32),
  size: 2048,
  detectedType: { id: "pdf", mime: "application/pdf", ext: "pdf" },
  pdf: { pages: 3, encrypted: false, textLayer: true, title: "Annual Report", author: "Ada" },
  extracted: {
    source: "pdf",
    characters: 60,
    words: 12,
    language: "eng",
    preview: "Invoice number 4711\n\ftotal due",
    truncated: false,
  },
  ocr: { engine: "textract", mode: "best-effort", status: "skipped", reason: "the PDF has a text layer", at },
};

describe("Function: describeFacts", () => {
  it("says what a PDF holds in lines people read", () => {
    expect(describeFacts(facts)).toEqual([
      'PDF:       3 pages, text layer, title "Annual Report", author "Ada"',
      // Twelve words of an invoice are not prose: no language is guessed.
      "Extracted: 12 words from the PDF's text layer",
      'Preview:   "Invoice number 4711 total due"',
      "OCR:       Textract skipped (best-effort): the PDF has a text layer",
    ]);
  });

  it("says whether an image has GPS data without giving any coordinates", () => {
    const lines = describeFacts({
      sha256: "",
      size: 1,
      image: { width: 4, height: 3, orientation: 6, exif: true, gps: true },
    });
    expect(lines).toEqual(["Image:     4x3, EXIF with GPS, orientation 6"]);
  });
});

describe("Function: formatNotification (facts)", () => {
  it("lists the facts and the text object of a verified file, without the text preview", () => {
    const record = {
      fileId: "f000000000000000000000000d",
      key: "drops/billing/report.pdf",
      bucket: "ingest",
      source: "drop",
      status: "VERIFIED",
      reasons: [],
      version: { bucket: "ingest", key: "drops/billing/report.pdf", sequencer: "1", size: 2048 },
      stages: { metadata: { stage: "metadata", status: "ok", facts, reasons: [], at } },
      size: 2048,
      cleanKey: "drops/billing/report.pdf",
      textKey: "text/f000000000000000000000000d.txt",
      createdAt: at,
      updatedAt: at,
    } as FileRecord;
    const { body } = formatNotification(record, { cleanBucket: "clean" });
    expect(body).toContain("Text:      s3://clean/text/f000000000000000000000000d.txt");
    expect(body).toContain('PDF:       3 pages, text layer, title "Annual Report", author "Ada"');
    expect(body).toContain("Extracted: 12 words from the PDF's text layer\n");
    // Mail goes to lists: the words are counted, the text itself is not sent.
    expect(body).not.toContain("Invoice number");
  });
});
