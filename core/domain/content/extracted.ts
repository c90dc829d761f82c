/**
 * The extracted-text capture: keeps the text up to a character cap (the full text goes to the clean bucket once
 * the file is VERIFIED) and summarises it for the record: characters, words, a language guess and a preview.
 */
import { franc } from "franc-min";
import type { ExtractedText } from "../types.ts";
import { wordCounter } from "./text-facts.ts";

export const PREVIEW_CHARS = 500;
/** franc reads a sample; below `LANGUAGE_MIN_CHARS` its guesses are noise, so it answers `und`. */
const LANGUAGE_SAMPLE_CHARS = 4096;
const LANGUAGE_MIN_CHARS = 80;

export interface TextCapture {
  add(text: string): void;
  readonly text: string;
  /** Characters held (at most the cap). */
  readonly kept: number;
  summary(source: ExtractedText["source"]): ExtractedText | undefined;
}

/** `countWords: false` when the caller counts the words already (text files): the summary then has 0 words. */
export function textCapture(maxChars: number, countWords = true): TextCapture {
  const parts: string[] = [];
  let kept = 0;
  let truncated = false;
  const counter = wordCounter();
  return {
    add(text) {
      // Words are counted over everything; only the first `maxChars` characters are kept.
      if (countWords) counter.add(text);
      if (kept >= maxChars) {
        if (text.length > 0) truncated = true;
        return;
      }
      const part = text.slice(0, maxChars - kept);
      if (part.length < text.length) truncated = true;
      parts.push(part);
      kept += part.length;
    },
    get text() {
      return parts.join("");
    },
    get kept() {
      return kept;
    },
    summary(source) {
      const text = parts.join("");
      if (text.trim().length === 0) return undefined;
      const language = franc(text.slice(0, LANGUAGE_SAMPLE_CHARS), { minLength: LANGUAGE_MIN_CHARS });
      return {
        source,
        characters: text.length,
        words: counter.words,
        language,
        preview: text.slice(0, PREVIEW_CHARS),
        truncated,
      };
    },
  };
}
