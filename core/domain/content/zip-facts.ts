/**
 * OOXML facts, streamed through `fflate`'s `Unzip` (local headers, front to back): for docx/xlsx/pptx the title,
 * author and creation date (docProps/core.xml), page and slide counts (docProps/app.xml), sheet count
 * (xl/workbook.xml) and the document text (paragraphs, shared strings, slide text). Only those parts are
 * inflated, each up to a fixed cap, so a crafted package cannot make this stage inflate without bound (the scan
 * stage judges bombs; this stage only describes). A stored entry whose length is only given after its data
 * would make the unzipper buffer it whole: reading stops there (the scan stage rejects such packages anyway).
 * Plain zip archives are described from their central directory (`zip-directory.ts`).
 */
import { Unzip, type UnzipFile, UnzipInflate } from "fflate";
import type { ArchiveFacts, OfficeFacts } from "../types.ts";
import { zipDirectory } from "./zip-directory.ts";

/** The most a described part may inflate to; a larger part is described partially, with a warning. */
export const PART_MAX_BYTES = 8 * 1024 * 1024;

const OFFICE_TYPES = new Set(["docx", "xlsx", "pptx"]);
const SLIDE = /^ppt\/slides\/slide\d+\.xml$/;

/** Which parts hold text, and the element that holds it. */
function textElement(name: string): RegExp | undefined {
  if (name === "word/document.xml") return /<w:t(?:\s[^>]*)?>([^<]*)<\/w:t>|<\/w:p>/g;
  if (name === "xl/sharedStrings.xml") return /<t(?:\s[^>]*)?>([^<]*)<\/t>|<\/si>/g;
  if (SLIDE.test(name)) return /<a:t(?:\s[^>]*)?>([^<]*)<\/a:t>|<\/a:p>/g;
  return undefined;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

export function decodeXml(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === "#") {
      const code =
        body[1] === "x" || body[1] === "X" ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1));
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[body.toLowerCase()] ?? whole;
  });
}

function element(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}(?:\\s[^>]*)?>([^<]*)</${name}>`).exec(xml);
  const value = m?.[1] ? decodeXml(m[1]).trim() : undefined;
  return value ? value.slice(0, 500) : undefined;
}

function count(xml: string, name: string): number | undefined {
  const value = element(xml, name);
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

export interface ZipOutcome {
  archive?: ArchiveFacts;
  office?: OfficeFacts;
  text?: string;
  warnings: string[];
}

export function zipFacts(typeId: string, onText: (text: string) => void) {
  const office = OFFICE_TYPES.has(typeId);
  const directory = office ? undefined : zipDirectory();
  const warnings: string[] = [];
  const parts = new Map<string, string>();
  let slides = 0;
  let failed: string | undefined;
  const unzip = new Unzip();
  unzip.register(UnzipInflate);

  const read = (file: UnzipFile, wanted: (xml: string) => void) => {
    const decoder = new TextDecoder("utf-8");
    let xml = "";
    let bytes = 0;
    file.ondata = (error, data, final) => {
      if (error) {
        warnings.push(`${file.name} unreadable: ${error.message}`);
        return;
      }
      bytes += data.byteLength;
      if (bytes > PART_MAX_BYTES) {
        warnings.push(`${file.name} larger than ${PART_MAX_BYTES} bytes: described partially`);
        file.terminate();
        wanted(xml);
        return;
      }
      xml += decoder.decode(data, { stream: !final });
      if (final) wanted(xml);
    };
    file.start();
  };

  const text = (file: UnzipFile, pattern: RegExp) =>
    read(file, (xml) => {
      let out = "";
      for (const m of xml.matchAll(pattern)) out += m[1] === undefined ? "\n" : decodeXml(m[1]);
      // Slides and shared strings arrive part by part; each ends a paragraph.
      onText(out.endsWith("\n") ? out : `${out}\n`);
    });

  unzip.onfile = (file) => {
    if (file.compression === 0 && file.size === undefined) {
      failed = `${file.name} is stored with its length after its data: parts after it not read`;
      return;
    }
    if (SLIDE.test(file.name)) slides++;
    const pattern = textElement(file.name);
    if (pattern) text(file, pattern);
    else if (["docProps/core.xml", "docProps/app.xml", "xl/workbook.xml"].includes(file.name))
      read(file, (xml) => parts.set(file.name, xml));
  };

  return {
    buffered: () => directory?.buffered() ?? 0,
    update(chunk: Uint8Array) {
      if (directory) {
        directory.update(chunk);
        return;
      }
      if (failed) return;
      try {
        unzip.push(chunk, false);
      } catch (error) {
        failed = (error as Error).message;
      }
    },
    finish(): ZipOutcome {
      if (directory) {
        const read = directory.finish();
        if (read.warning) warnings.push(read.warning);
        return read.archive ? { archive: read.archive, warnings } : { warnings };
      }
      if (!failed) {
        try {
          unzip.push(new Uint8Array(0), true);
        } catch (error) {
          failed = (error as Error).message;
        }
      }
      if (failed) warnings.push(`zip unreadable: ${failed}`);
      const outcome: ZipOutcome = { warnings };
      const core = parts.get("docProps/core.xml") ?? "";
      const app = parts.get("docProps/app.xml") ?? "";
      const facts: OfficeFacts = {};
      const title = element(core, "dc:title");
      const author = element(core, "dc:creator");
      const created = element(core, "dcterms:created");
      if (title) facts.title = title;
      if (author) facts.author = author;
      if (created && !Number.isNaN(Date.parse(created))) facts.createdAt = new Date(created).toISOString();
      if (typeId === "docx") {
        const pages = count(app, "Pages");
        if (pages !== undefined) facts.pages = pages;
      }
      if (typeId === "pptx") facts.slides = count(app, "Slides") ?? slides;
      if (typeId === "xlsx") {
        const workbook = parts.get("xl/workbook.xml");
        if (workbook !== undefined) facts.sheets = workbook.match(/<sheet\s/g)?.length ?? 0;
      }
      outcome.office = facts;
      return outcome;
    },
  };
}
