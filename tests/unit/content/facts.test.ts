import { Zip, ZipDeflate, ZipPassThrough } from "fflate";
import { describe, expect, it } from "vitest";
import { IMAGE_HEAD_BYTES } from "../../../core/domain/content/image-facts.ts";
import { createFactsCollector, detectType, HEAD_BYTES } from "../../../core/domain/content/index.ts";
import { DIRECTORY_TAIL_BYTES } from "../../../core/domain/content/zip-directory.ts";
import { pdf, png, text, zipOf } from "../../fixtures/documents.ts";
import {
  csvText,
  docxWith,
  encryptedPdf,
  jpegWithExif,
  pdfWithInfo,
  pdfWithoutText,
  pptxWith,
  utf16Text,
  xlsxWith,
} from "../../fixtures/metadata.ts";

/** A zip written as a stream (sizes in data descriptors), stored or deflated, of entries of the given sizes. */
function streamedZip(sizes: Record<string, number>, stored: boolean, first?: "docx"): Uint8Array {
  const chunks: Uint8Array[] = [];
  const zip = new Zip((error, data) => {
    if (error) throw error;
    chunks.push(data);
  });
  if (first === "docx") {
    const types = new ZipDeflate("[Content_Types].xml");
    zip.add(types);
    types.push(new TextEncoder().encode(DOCX_TYPES), true);
  }
  for (const [name, size] of Object.entries(sizes)) {
    const entry = stored ? new ZipPassThrough(name) : new ZipDeflate(name, { level: 1 });
    zip.add(entry);
    entry.push(new Uint8Array(size).fill(65), true);
  }
  zip.end();
  return new Uint8Array(Buffer.concat(chunks));
}
const DOCX_TYPES =
  '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';

const LIMITS = { textMaxChars: 10_000, pdfMaxBytes: 10 * 1024 * 1024 };

async function factsOf(bytes: Uint8Array, chunkSize = 4096, limits = LIMITS) {
  const type = await detectType(bytes.subarray(0, HEAD_BYTES), bytes.length > HEAD_BYTES);
  const collector = createFactsCollector(type, { size: bytes.length, ...limits });
  for (let i = 0; i < bytes.length; i += chunkSize) collector.update(bytes.subarray(i, i + chunkSize));
  return collector.finish();
}

describe("Function: createFactsCollector", () => {
  describe("PDF", () => {
    it.each([1, 7, 4096])(
      "reads pages, title, author, creation date and text in chunks of %i bytes",
      async (size) => {
        const { facts, text: extracted } = await factsOf(pdfWithInfo(3, "Invoice total due"), size);
        expect(facts.pdf).toEqual({
          pages: 3,
          title: "Annual Report",
          author: "Ada Lovelace",
          createdAt: "2024-01-31T09:30:00.000Z",
          textLayer: true,
          encrypted: false,
        });
        expect(extracted).toContain("Invoice total due page3");
        expect(facts.extracted).toMatchObject({ source: "pdf", words: 12, truncated: false });
        expect(facts.extracted?.preview.startsWith("Invoice total due page1")).toBe(true);
      },
    );

    it("stops parsing pages once the text cap is reached", async () => {
      const { facts, text: extracted } = await factsOf(pdfWithInfo(40, "Lots of words on every page"), 4096, {
        ...LIMITS,
        textMaxChars: 100,
      });
      expect(facts.pdf?.pages).toBe(40);
      expect(extracted).toHaveLength(100);
      expect(facts.extracted).toMatchObject({ characters: 100, truncated: true });
      expect(facts.extracted?.words).toBeLessThan(40 * 7);
    });

    it("reports a PDF without a text layer and extracts nothing", async () => {
      const { facts, text: extracted } = await factsOf(pdfWithoutText(4));
      expect(facts.pdf).toMatchObject({ pages: 4, textLayer: false, encrypted: false });
      expect(facts.extracted).toBeUndefined();
      expect(extracted).toBeUndefined();
    });

    it("reports an encrypted PDF and says why its text was not extracted", async () => {
      const { facts } = await factsOf(encryptedPdf());
      expect(facts.pdf).toMatchObject({ pages: 1, encrypted: true });
      expect(facts.warnings).toContain("PDF is password-protected: text not extracted");
    });

    it("keeps the streamed facts of a PDF above the in-memory limit, with a warning", async () => {
      const bytes = pdf({ pages: 5, text: "big" });
      const { facts } = await factsOf(bytes, 512, { textMaxChars: 100, pdfMaxBytes: 100 });
      expect(facts.pdf).toEqual({ pages: 5, encrypted: false });
      expect(facts.warnings?.[0]).toMatch(/PDF larger than 100 bytes/);
    });
  });

  describe("OOXML", () => {
    it("reads a docx's properties, page count and paragraphs", async () => {
      const { facts, text: extracted } = await factsOf(
        docxWith(["Hello &amp; welcome", "Second paragraph"], 3),
        100,
      );
      expect(facts.office).toEqual({
        title: "Board minutes",
        author: "Grace Hopper",
        createdAt: "2023-05-04T10:00:00.000Z",
        pages: 3,
      });
      expect(extracted).toBe("Hello & welcome\nSecond paragraph\n");
      expect(facts.extracted).toMatchObject({ source: "office", words: 5 });
    });

    it("counts the sheets of an xlsx and extracts its shared strings", async () => {
      const { facts, text: extracted } = await factsOf(xlsxWith(["Q1", "Q2", "Q3"], ["Revenue", "Costs"]));
      expect(facts.office).toMatchObject({ sheets: 3, title: "Budget" });
      expect(extracted).toBe("Revenue\nCosts\n");
    });

    it("counts the slides of a pptx and extracts their text", async () => {
      const { facts, text: extracted } = await factsOf(pptxWith(["Intro", "Plan", "Close"]));
      expect(facts.office).toMatchObject({ slides: 3 });
      expect(extracted).toBe("Intro\nPlan\nClose\n");
    });
  });

  describe("images", () => {
    it("reports dimensions, orientation and EXIF with GPS, without copying GPS values", async () => {
      const { facts } = await factsOf(jpegWithExif(40, 30, { gps: true }), 16);
      expect(facts.image).toEqual({ width: 40, height: 30, orientation: 6, exif: true, gps: true });
      expect(JSON.stringify(facts)).not.toMatch(/latitude|GPSLatitude|48/i);
    });

    it("reports EXIF without GPS", async () => {
      const { facts } = await factsOf(jpegWithExif(40, 30, { gps: false }));
      expect(facts.image).toMatchObject({ exif: true, gps: false });
    });

    it("reports an image without EXIF", async () => {
      const { facts } = await factsOf(png(12, 8));
      expect(facts.image).toEqual({ width: 12, height: 8, exif: false, gps: false });
    });
  });

  describe("text", () => {
    it("reads a CSV's encoding, lines, words, columns and header", async () => {
      const bytes = csvText(["id", "name", '"city, country"'], [["1", "Ada", '"London, UK"']]);
      const { facts } = await factsOf(bytes, 3);
      expect(facts.text).toEqual({
        encoding: "utf-8",
        lines: 2,
        words: 4,
        csv: { columns: 3, header: ["id", "name", "city, country"] },
      });
    });

    it.each(["le", "be"] as const)("decodes UTF-16%s text split at odd offsets", async (endian) => {
      const { facts, text: extracted } = await factsOf(utf16Text("héllo wörld\nsecond line here", endian), 3);
      expect(facts.text).toEqual({ encoding: `utf-16${endian}`, lines: 2, words: 5 });
      expect(extracted).toBe("héllo wörld\nsecond line here");
    });

    it("caps the kept text but counts every word", async () => {
      const { facts, text: extracted } = await factsOf(text(5000), 1000, { ...LIMITS, textMaxChars: 100 });
      expect(extracted).toHaveLength(100);
      expect(facts.extracted).toMatchObject({ words: 5000, characters: 100, truncated: true });
    });

    it("guesses the language of enough text", async () => {
      const english =
        "The quarterly report shows that revenue grew in every region, while costs stayed within the budget that the board approved last year.";
      const { facts } = await factsOf(new TextEncoder().encode(english));
      expect(facts.extracted?.language).toBe("eng");
    });
  });

  describe("archives", () => {
    it("counts entries and their declared expanded size", async () => {
      const bytes = zipOf({ "a.txt": new Uint8Array(1000), "b/c.bin": new Uint8Array(2345) });
      const { facts } = await factsOf(bytes, 50);
      expect(facts.archive).toEqual({ entries: 2, expandedBytes: 3345 });
    });

    it("reads sizes from the central directory when entries carry them only after their data", async () => {
      const { facts } = await factsOf(streamedZip({ "a.bin": 5000, "b.bin": 70_000 }, false), 999);
      expect(facts.archive).toEqual({ entries: 2, expandedBytes: 75_000 });
    });

    it("holds only a bounded tail of a large streamed archive", async () => {
      const bytes = streamedZip({ "a.bin": 6 * 1024 * 1024, "b.bin": 6 * 1024 * 1024 }, true);
      const collector = createFactsCollector(
        { id: "zip", mime: "application/zip", ext: "zip" },
        {
          size: bytes.length,
          ...LIMITS,
        },
      );
      let peak = 0;
      for (let i = 0; i < bytes.length; i += 65536) {
        collector.update(bytes.subarray(i, i + 65536));
        peak = Math.max(peak, collector.buffered());
      }
      expect((await collector.finish()).facts.archive).toEqual({
        entries: 2,
        expandedBytes: 12 * 1024 * 1024,
      });
      expect(peak).toBeLessThanOrEqual(DIRECTORY_TAIL_BYTES + 65535 + 22 + 65536);
    });

    it("stops reading a package at a stored entry of unknown length, with a warning", async () => {
      const { facts } = await factsOf(streamedZip({ "word/document.xml": 100 }, true, "docx"));
      expect(facts.warnings?.[0]).toMatch(/stored with its length after its data/);
    });
  });

  describe("memory", () => {
    it("holds a bounded number of bytes however large the object is (256 MiB of text, streamed)", async () => {
      const line = new TextEncoder().encode(`${"lorem ipsum dolor sit amet ".repeat(40)}\n`);
      const chunk = new Uint8Array(1024 * 1024);
      for (let i = 0; i < chunk.length; i++) chunk[i] = line[i % line.length] ?? 32;
      const total = 256;
      const collector = createFactsCollector(await detectType(chunk.subarray(0, HEAD_BYTES), true), {
        size: total * chunk.length,
        ...LIMITS,
      });
      let peak = 0;
      for (let i = 0; i < total; i++) {
        collector.update(chunk);
        peak = Math.max(peak, collector.buffered());
      }
      const { facts } = await collector.finish();
      expect(facts.size).toBe(total * chunk.length);
      expect(facts.extracted?.truncated).toBe(true);
      expect(peak).toBeLessThanOrEqual(LIMITS.textMaxChars * 2 + IMAGE_HEAD_BYTES);
    });

    it("does not buffer a PDF above the in-memory limit", async () => {
      const bytes = pdf({ pages: 50, text: "page" });
      const collector = createFactsCollector(
        { id: "pdf", mime: "application/pdf", ext: "pdf" },
        {
          size: bytes.length,
          textMaxChars: 100,
          pdfMaxBytes: 1024,
        },
      );
      let peak = 0;
      for (let i = 0; i < bytes.length; i += 256) {
        collector.update(bytes.subarray(i, i + 256));
        peak = Math.max(peak, collector.buffered());
      }
      expect(peak).toBeLessThan(1024);
      expect((await collector.finish()).facts.pdf?.pages).toBe(50);
    });
  });
});
