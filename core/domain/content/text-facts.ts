/**
 * Facts of text files, streamed: encoding (from the byte-order mark), line and word counts, and for CSV the
 * column count and header. The decoded text is handed on so that the extracted-text capture can keep it.
 */
import type { TextFacts } from "../types.ts";

const HEADER_CHARS = 64 * 1024;
const MAX_HEADER_COLUMNS = 200;

export function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a);
}

/** Counts words (runs of non-space characters) and newlines across chunk boundaries, in one pass. */
export function wordCounter() {
  let words = 0;
  let newlines = 0;
  let inWord = false;
  return {
    add(text: string) {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        // Most characters are printable ASCII: decide those with one comparison.
        if (c > 32 && c < 127) {
          if (!inWord) {
            inWord = true;
            words++;
          }
        } else if (isSpace(c)) {
          inWord = false;
          if (c === 10) newlines++;
        } else if (!inWord) {
          inWord = true;
          words++;
        }
      }
    },
    get words() {
      return words;
    },
    get newlines() {
      return newlines;
    },
  };
}

/** Splits one CSV line on the delimiter, honouring double quotes (`""` is a quote inside a field). */
export function splitCsvLine(line: string, delimiter: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) {
      fields.push(field);
      field = "";
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

function csvHeader(firstLine: string): TextFacts["csv"] {
  const line = firstLine.replace(/\r$/, "");
  const delimiter = [",", ";", "\t"].reduce((best, d) =>
    splitCsvLine(line, d).length > splitCsvLine(line, best).length ? d : best,
  );
  const header = splitCsvLine(line, delimiter).map((h) => h.trim().slice(0, 200));
  return { columns: header.length, header: header.slice(0, MAX_HEADER_COLUMNS) };
}

function encodingOf(head: Uint8Array): { label: string; decoder: string } {
  if (head[0] === 0xff && head[1] === 0xfe) return { label: "utf-16le", decoder: "utf-16le" };
  if (head[0] === 0xfe && head[1] === 0xff) return { label: "utf-16be", decoder: "utf-16be" };
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf)
    return { label: "utf-8-bom", decoder: "utf-8" };
  return { label: "utf-8", decoder: "utf-8" };
}

/** Streams a text object; `onText` receives the decoded text, chunk by chunk. */
export function textFacts(csv: boolean, onText: (text: string) => void) {
  let decoder: InstanceType<typeof TextDecoder> | undefined;
  let encoding = "utf-8";
  const counter = wordCounter();
  let last = "";
  let first = "";
  let firstDone = !csv;
  const take = (text: string) => {
    if (text.length === 0) return;
    counter.add(text);
    if (!firstDone) {
      const end = text.indexOf("\n");
      first += end === -1 ? text : text.slice(0, end);
      if (end !== -1 || first.length >= HEADER_CHARS) firstDone = true;
      first = first.slice(0, HEADER_CHARS);
    }
    last = text[text.length - 1] ?? "";
    onText(text);
  };
  return {
    update(chunk: Uint8Array) {
      if (!decoder) {
        const found = encodingOf(chunk);
        encoding = found.label;
        // The BOM is consumed by the decoder (ignoreBOM false), so it is neither text nor a word.
        decoder = new TextDecoder(found.decoder);
      }
      take(decoder.decode(chunk, { stream: true }));
    },
    /** The CSV header line held until it is complete. */
    buffered: () => first.length * 2,
    finish(size: number): TextFacts {
      if (decoder) take(decoder.decode());
      const newlines = counter.newlines;
      const lines = size === 0 || (newlines === 0 && last === "") ? 0 : newlines + (last === "\n" ? 0 : 1);
      const facts: TextFacts = { encoding, lines, words: counter.words };
      if (csv && first.length > 0) facts.csv = csvHeader(first);
      return facts;
    },
  };
}
