/**
 * PDF facts. The stream gives the page count (page objects and the page tree's /Count, through a small sliding
 * window) and whether the trailer names an /Encrypt dictionary, for a PDF of any size. Title, author, creation
 * date and the text layer need a real PDF parser (pdf.js through `unpdf`), which needs the whole document in
 * memory: that is done only up to `maxBytes` (the object is copied into one buffer of its announced size), and
 * larger PDFs keep the streamed facts with a warning.
 */
import type { PDFDocumentProxy } from "unpdf/pdfjs";
import type { PdfFacts } from "../types.ts";

/** `/Type /Page` not followed by `s` (that would be the page-tree node). */
const PDF_PAGE = /\/Type\s*\/Page(?![a-zA-Z])/g;
const PDF_COUNT = /\/Count\s+(\d{1,7})/g;
const PDF_ENCRYPT = /\/Encrypt\s*(?:\d+\s+\d+\s+R|<<)/g;
const PDF_WINDOW = 64;

function pdfScanner() {
  let tail = "";
  let pages = 0;
  let maxCount = 0;
  let encrypted = false;
  // A match is counted once: when it ends in the new part of a window and what follows it is known
  // (matches ending at the very end of a window wait for the next chunk, or for the end of the file).
  const scan = (window: string, from: number, final: boolean) => {
    const settled = (match: RegExpMatchArray) => {
      const end = (match.index ?? 0) + match[0].length;
      return final ? end === window.length : end >= from && end < window.length;
    };
    for (const match of window.matchAll(PDF_PAGE)) if (settled(match)) pages++;
    for (const match of window.matchAll(PDF_COUNT))
      if (settled(match)) maxCount = Math.max(maxCount, Number(match[1]));
    if (!encrypted) for (const _ of window.matchAll(PDF_ENCRYPT)) encrypted = true;
  };
  return {
    update(chunk: Uint8Array) {
      const window = tail + Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");
      scan(window, tail.length, false);
      tail = window.slice(-PDF_WINDOW);
    },
    finish() {
      scan(tail, 0, true);
      // Page objects inside compressed object streams are invisible here; the page tree's /Count is not.
      return { pages: Math.max(pages, maxCount), encrypted };
    },
  };
}

/** `D:YYYYMMDDHHmmSSOHH'mm` → ISO 8601, or undefined. */
export function pdfDate(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(Z|[+-]\d{2}'?\d{2}'?)?/.exec(value);
  if (!m) return undefined;
  const [, y, mo = "01", d = "01", h = "00", mi = "00", s = "00", zone] = m;
  let offset = "Z";
  if (zone && zone !== "Z") offset = `${zone.slice(0, 3)}:${zone.slice(-3, -1).replace("'", "") || "00"}`;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${offset}`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

const clean = (value: unknown) =>
  typeof value === "string" && value.trim() !== "" ? value.trim().slice(0, 500) : undefined;

export interface PdfOutcome {
  facts: PdfFacts;
  text?: string;
  warnings: string[];
}

/** Reads page text until `maxChars` characters are in hand: a long document is not parsed past the cap. */
async function pageTexts(doc: PDFDocumentProxy, maxChars: number): Promise<{ text: string; layer: boolean }> {
  let text = "";
  let layer = false;
  for (let number = 1; number <= doc.numPages && text.length < maxChars; number++) {
    const page = await doc.getPage(number);
    const content = await page.getTextContent();
    let pageText = "";
    for (const item of content.items) if ("str" in item) pageText += item.hasEOL ? `${item.str}\n` : item.str;
    page.cleanup();
    if (pageText.trim().length > 0) layer = true;
    text += number > 1 ? `\n\f${pageText}` : pageText;
  }
  return { text, layer };
}

export function pdfFacts(size: number, maxBytes: number, maxChars: number) {
  const scanner = pdfScanner();
  const whole = size <= maxBytes ? Buffer.allocUnsafe(size) : undefined;
  let at = 0;
  return {
    update(chunk: Uint8Array) {
      scanner.update(chunk);
      if (whole && at + chunk.byteLength <= size) whole.set(chunk, at);
      at += chunk.byteLength;
    },
    buffered: () => (whole ? Math.min(at, size) : 0) + PDF_WINDOW,
    async finish(): Promise<PdfOutcome> {
      const streamed = scanner.finish();
      const facts: PdfFacts = { pages: streamed.pages, encrypted: streamed.encrypted };
      const warnings: string[] = [];
      if (!whole) {
        warnings.push(`PDF larger than ${maxBytes} bytes: title, author and text not extracted`);
        return { facts, warnings };
      }
      if (at !== size) {
        warnings.push(
          `PDF of ${at} bytes where ${size} were announced: title, author and text not extracted`,
        );
        return { facts, warnings };
      }
      const { getDocumentProxy, getMeta } = await import("unpdf");
      let doc: PDFDocumentProxy;
      try {
        doc = await getDocumentProxy(new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength));
      } catch (error) {
        const name = (error as Error).name;
        if (name === "PasswordException") {
          facts.encrypted = true;
          warnings.push("PDF is password-protected: text not extracted");
        } else {
          facts.readable = false;
          warnings.push(`PDF unreadable: ${(error as Error).message}`);
        }
        return { facts, warnings };
      }
      try {
        facts.pages = doc.numPages;
        const meta = await getMeta(doc);
        const info = meta.info as Record<string, unknown>;
        const title = clean(info.Title);
        const author = clean(info.Author);
        const createdAt = pdfDate(info.CreationDate);
        if (title) facts.title = title;
        if (author) facts.author = author;
        if (createdAt) facts.createdAt = createdAt;
        if (info.EncryptFilterName) facts.encrypted = true;
        const { text, layer } = await pageTexts(doc, maxChars);
        facts.textLayer = layer;
        return { facts, text, warnings };
      } catch (error) {
        warnings.push(`PDF text unreadable: ${(error as Error).message}`);
        return { facts, warnings };
      } finally {
        await doc.destroy();
      }
    },
  };
}
