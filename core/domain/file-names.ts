/**
 * The file-name policy, one for presigned names and dropped keys alike. A name must read as what it is: no
 * control characters, no bidi controls or invisible characters that make `invoice\u202Efdp.exe` show as
 * `invoiceexe.pdf`, no trailing dot or space (Windows drops them, so `invoice.js.` is saved as `invoice.js`
 * while its extension here is empty), no Windows device name (`CON`, `NUL.txt`) and no `:` (an NTFS alternate
 * data stream: `report.pdf:evil.exe`).
 *
 * What is normalised rather than refused: a presigned name keeps only its last path segment, is put in Unicode
 * NFC (macOS sends NFD; it is the same name) and loses surrounding white space. A dropped key cannot be renamed:
 * it is judged as it is, and only the name shown and downloaded is NFC. Everything else is refused: a presigned
 * name with a 422, a dropped object REJECTED with the problem's stable code.
 */

/** Stable codes for the problems a name or key can have; they end the reason text as `[code]`. */
export type NameProblemCode =
  | "name-empty"
  | "name-control-character"
  | "name-bidi-control"
  | "name-invisible-character"
  | "name-trailing-dot-or-space"
  | "name-reserved-device"
  | "name-colon"
  | "key-layout";

export interface NameProblem {
  code: NameProblemCode;
  /** Plain words, without the code. */
  message: string;
}

/** C0/C1 controls, line and paragraph separators, and lone surrogates (not valid UTF-8 once in a key). */
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}]/u;
const BIDI = /\p{Bidi_Control}/u;
const ALL_BIDI = /\p{Bidi_Control}/gu;
/**
 * Characters with no glyph (zero-width space and joiners, soft hyphen, word joiner, BOM, Hangul fillers, tag
 * characters, …): Unicode's default-ignorable set. The emoji and text presentation selectors (U+FE0E, U+FE0F)
 * are let through: they only choose how the emoji before them is drawn, and `❤️ notes.txt` is a real name.
 */
const INVISIBLE = /(?![\uFE0E\uFE0F])\p{Default_Ignorable_Code_Point}/u;
const TRAILING = /[.\s]$/u;
/** Device names Windows reserves whatever the extension (`nul.txt` is the null device too). */
const DEVICES = /^(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[0-9¹²³]|LPT[0-9¹²³])$/i;

const MAX_NAME_BYTES = 200;

const utf8 = new TextEncoder();
const byteLength = (text: string) => utf8.encode(text).length;

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** The problems of the characters anywhere in a name or key. */
function characterProblems(text: string): NameProblem[] {
  const problems: NameProblem[] = [];
  const control = CONTROL.exec(text);
  if (control)
    problems.push({
      code: "name-control-character",
      message: `contains a control character (${codePoint(control[0])})`,
    });
  const bidi = BIDI.exec(text);
  if (bidi)
    problems.push({
      code: "name-bidi-control",
      message: `contains a bidirectional text control (${codePoint(bidi[0])}) that can disguise its extension`,
    });
  const invisible = INVISIBLE.exec(text.replace(ALL_BIDI, ""));
  if (invisible)
    problems.push({
      code: "name-invisible-character",
      message: `contains an invisible character (${codePoint(invisible[0])})`,
    });
  return problems;
}

/** The problems of one file name (a last path segment), as given. */
export function nameProblems(name: string): NameProblem[] {
  if (name === "" || name === "." || name === "..")
    return [{ code: "name-empty", message: "has no usable name" }];
  const problems = characterProblems(name);
  if (TRAILING.test(name))
    problems.push({
      code: "name-trailing-dot-or-space",
      message: "ends with a dot or a space, which Windows drops (so its real extension is hidden)",
    });
  const stem = name.split(".")[0]?.trimEnd() ?? "";
  if (DEVICES.test(stem))
    problems.push({
      code: "name-reserved-device",
      message: `is a Windows device name (${stem.toUpperCase()}), whatever its extension`,
    });
  if (name.includes(":"))
    problems.push({
      code: "name-colon",
      message: "contains a colon, which Windows reads as an alternate data stream",
    });
  return problems;
}

/** Cuts a name to `maxBytes` of UTF-8 by whole code points, keeping a short extension. */
function truncate(name: string, maxBytes: number): string {
  if (byteLength(name) <= maxBytes) return name;
  const dot = name.lastIndexOf(".");
  const ext = dot > 0 && name.length - dot <= 10 ? name.slice(dot) : "";
  const stem = [...name.slice(0, name.length - ext.length)];
  const room = maxBytes - byteLength(ext);
  while (stem.length > 0 && byteLength(stem.join("")) > room) stem.pop();
  return stem.join("").trimEnd() + ext;
}

export type UploadName = { ok: true; name: string } | { ok: false; problems: NameProblem[] };

/**
 * The name a presigned upload is stored under: the last segment of what the client sent, NFC, trimmed and at
 * most 200 UTF-8 bytes (extension kept); refused when what is left breaks the policy.
 */
export function uploadName(requested: string): UploadName {
  const last = requested.normalize("NFC").split(/[/\\]/).pop() ?? "";
  const name = truncate(last.trim(), MAX_NAME_BYTES);
  const problems = nameProblems(name);
  return problems.length === 0 ? { ok: true, name } : { ok: false, problems };
}

const DROP_KEY = /^drops\/[A-Za-z0-9._-]{1,64}\/./su;

/**
 * The problems of an object key as the pipeline sees it: its characters anywhere (they show in the key line of
 * every notification and audit entry), its layout (drops live under `drops/<system>/`; API uploads are checked
 * against their session instead), no empty, `.` or `..` segment, and the file-name policy for its last segment.
 */
export function keyProblems(key: string): NameProblem[] {
  const problems = characterProblems(key);
  const segments = key.split("/");
  const upload = segments[0] === "uploads";
  if (!upload && !DROP_KEY.test(key))
    problems.push({ code: "key-layout", message: "is outside drops/<system>/ and uploads/" });
  else if (segments.slice(0, -1).some((s) => s === "" || s === "." || s === ".."))
    problems.push({ code: "key-layout", message: "has an empty, . or .. path segment" });
  const name = segments[segments.length - 1] ?? "";
  const seen = new Set(problems.map((p) => p.code));
  for (const problem of nameProblems(name)) if (!seen.has(problem.code)) problems.push(problem);
  return problems;
}

/** A problem as a verdict reason: plain words, then the stable code in brackets. */
export function nameReason(problem: NameProblem, subject = "file name"): string {
  return `${subject} ${problem.message} [${problem.code}]`;
}

const UNPRINTABLE = new RegExp(`${CONTROL.source}|${BIDI.source}|${INVISIBLE.source}`, "gu");

/**
 * Text safe to show in a line of plain text (mail bodies, logs read by people): control, bidi and invisible
 * characters become visible `\u{…}` escapes, so nothing can break the line, reorder what follows or hide.
 * Ordinary letters, accents and emoji are kept.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16).toUpperCase()}}`);
}

/** The name to show or download a key under: its last segment, in NFC. */
export function displayName(key: string): string {
  const i = key.lastIndexOf("/");
  return (i >= 0 ? key.slice(i + 1) : key).normalize("NFC");
}
