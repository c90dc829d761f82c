/** File ids minted for uploads: 26 base32 characters, time-ordered (48-bit milliseconds) then random. */
import { randomBytes } from "node:crypto";
import { toBase32 } from "../domain/keys.ts";

export function newFileId(now = Date.now()): string {
  const bytes = Buffer.alloc(17);
  bytes.writeUIntBE(now, 0, 6);
  randomBytes(11).copy(bytes, 6);
  return toBase32(bytes, 26);
}

/**
 * A file name safe to put at the end of a key: the last path segment only, no control characters, NFC,
 * at most 200 UTF-8 bytes (the extension kept). Undefined when nothing usable is left.
 */
export function safeFileName(name: string): string | undefined {
  const last = name.normalize("NFC").split(/[/\\]/).pop() ?? "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed here
  let clean = last.replace(/[\u0000-\u001f\u007f]/g, "").trim();
  if (clean === "" || clean === "." || clean === "..") return undefined;
  while (Buffer.byteLength(clean, "utf8") > 200) {
    const dot = clean.lastIndexOf(".");
    const ext = dot > 0 && clean.length - dot <= 10 ? clean.slice(dot) : "";
    clean = clean.slice(0, clean.length - ext.length - 1) + ext;
  }
  return clean;
}
