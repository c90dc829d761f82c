/**
 * Document facts in one streamed pass with memory bounded by a constant: sha256 and size over every byte,
 * image dimensions from a bounded head, PDF page markers through a small sliding window, and word and line
 * counts by a streaming decoder. A parser that cannot read the content adds a warning; it never throws.
 */
import { createHash } from "node:crypto";
import { imageSize } from "image-size";
import type { DetectedType, Facts } from "../domain/types.ts";
import { TEXT_FAMILY } from "./detect.ts";

const IMAGE_HEAD_BYTES = 256 * 1024;
const IMAGE_TYPES = new Set(["png", "jpg", "gif", "webp", "bmp", "tif", "avif", "heic", "ico"]);
/** `/Type /Page` not followed by `s` (that would be the page-tree node). */
const PDF_PAGE = /\/Type\s*\/Page(?![a-zA-Z])/g;
const PDF_COUNT = /\/Count\s+(\d{1,7})/g;
const PDF_WINDOW = 64;

export interface FactsCollector {
  update(chunk: Uint8Array): void;
  finish(): Facts;
}

function pdfCounter() {
  let tail = "";
  let pages = 0;
  let maxCount = 0;
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
  };
  return {
    update: (chunk: Uint8Array) => {
      const window = tail + Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");
      scan(window, tail.length, false);
      tail = window.slice(-PDF_WINDOW);
    },
    finish: () => {
      scan(tail, 0, true);
      // Page objects inside compressed object streams are invisible here; the page tree's /Count is not.
      return Math.max(pages, maxCount);
    },
  };
}

function textCounter() {
  const decoder = new TextDecoder("utf-8");
  let words = 0;
  let newlines = 0;
  let inWord = false;
  let last = "";
  const count = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const space =
        c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a);
      if (c === 10) newlines++;
      if (space) inWord = false;
      else if (!inWord) {
        inWord = true;
        words++;
      }
    }
    if (text.length > 0) last = text[text.length - 1] ?? "";
  };
  return {
    update: (chunk: Uint8Array) => count(decoder.decode(chunk, { stream: true })),
    finish: (size: number) => {
      count(decoder.decode());
      const lines = size === 0 ? 0 : newlines + (last === "\n" ? 0 : 1);
      return { words, lines };
    },
  };
}

export function createFactsCollector(detectedType?: DetectedType): FactsCollector {
  const hash = createHash("sha256");
  let size = 0;
  const id = detectedType?.id;
  const imageHead: Uint8Array[] = [];
  let imageBytes = 0;
  const pdf = id === "pdf" ? pdfCounter() : undefined;
  const text = id && TEXT_FAMILY.includes(id) ? textCounter() : undefined;
  const image = id !== undefined && IMAGE_TYPES.has(id);

  return {
    update(chunk) {
      hash.update(chunk);
      size += chunk.byteLength;
      if (image && imageBytes < IMAGE_HEAD_BYTES) {
        const part = chunk.subarray(0, IMAGE_HEAD_BYTES - imageBytes);
        imageHead.push(Uint8Array.from(part));
        imageBytes += part.byteLength;
      }
      pdf?.update(chunk);
      text?.update(chunk);
    },
    finish() {
      const facts: Facts = { sha256: hash.digest("hex"), size };
      const warnings: string[] = [];
      if (detectedType) facts.detectedType = detectedType;
      if (image) {
        try {
          const dims = imageSize(Buffer.concat(imageHead));
          if (dims.width && dims.height) facts.image = { width: dims.width, height: dims.height };
          else warnings.push("image dimensions not found");
        } catch (error) {
          warnings.push(`image dimensions unreadable: ${(error as Error).message}`);
        }
      }
      if (pdf) {
        const pages = pdf.finish();
        if (pages > 0) facts.pdf = { pages };
        else warnings.push("PDF page count not found");
      }
      if (text) facts.text = text.finish(size);
      if (warnings.length > 0) facts.warnings = warnings;
      return facts;
    },
  };
}
