/**
 * The verdict message people read in their mail, and the attributes subscribers filter on.
 *
 * Names, keys and what the file says about itself (a PDF title) are the sender's words: every line of the body
 * goes out through `printable`, so a line break or a bidi control in them shows as an escape and can neither add
 * a line nor disguise one. The body says where the file is now (the clean copy once VERIFIED, the quarantine
 * object otherwise), gives the reasons in the catalogue's plain words, and never quotes a held file's text.
 *
 * SNS subjects must be under 100 characters with no line breaks or control characters (the email transport
 * wants ASCII): the subject's name is transliterated (`résumé.pdf` → `resume.pdf`, `Отчёт.docx` →
 * `Otchyot.docx`), what has no ASCII spelling becomes `_`, and a long name is cut in the middle so that its
 * extension stays. The body keeps the name as it is.
 */
import transliterate from "@sindresorhus/transliterate";
import { describeFacts } from "./facts.ts";
import { displayName, printable } from "./file-names.ts";
import { formatSize } from "./format.ts";
import { describeReason } from "./reasons.ts";
import type { FileRecord } from "./types.ts";

const HEADLINES: Record<string, string> = {
  VERIFIED: "passed every check and was promoted to the clean bucket",
  REJECTED: "was rejected and is held in quarantine",
  INFECTED: "contains malware or blocked content and is held in quarantine",
  FAILED: "could not be checked and is held in quarantine",
};

/** SNS allows fewer than 100 characters. */
const SUBJECT_MAX = 99;

/** A name as printable ASCII: escapes for controls and bidi, transliteration, `_` for what is left. */
export function asciiName(name: string): string {
  const spaced = printable(name.normalize("NFC")).replace(/\p{Zs}/gu, " ");
  return transliterate(spaced).replace(/[^\x20-\x7e]/g, "_");
}

/** Cuts `text` to `max` characters in the middle, keeping its last characters (the extension). */
function cutMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const tail = Math.min(16, Math.floor(max / 3));
  return `${text.slice(0, max - tail - 3)}...${text.slice(text.length - tail)}`;
}

export function notificationSubject(status: string, name: string): string {
  const prefix = `[Airlock] ${asciiName(status)}: `;
  return prefix + cutMiddle(asciiName(name), SUBJECT_MAX - prefix.length);
}

export interface NotificationContext {
  /** The bucket a VERIFIED file was promoted to: its location is given there. */
  cleanBucket: string;
}

export function formatNotification(
  record: FileRecord,
  context: NotificationContext,
): {
  subject: string;
  body: string;
  attributes: Record<string, string>;
} {
  const name = displayName(record.key);
  const verified = record.status === "VERIFIED";
  const location =
    verified && record.cleanKey
      ? `s3://${context.cleanBucket}/${record.cleanKey}`
      : `s3://${record.bucket}/${record.key}${verified ? "" : " (quarantine)"}`;
  const lines = [
    `The file "${name}" ${HEADLINES[record.status] ?? `is ${record.status}`}.`,
    "",
    `Status:    ${record.status}`,
    `File id:   ${record.fileId}`,
    `Location:  ${location}`,
    `Source:    ${record.source}${record.owner ? ` (${record.owner})` : ""}`,
    `Size:      ${formatSize(record.size)}`,
  ];
  if (record.detectedType) lines.push(`Type:      ${record.detectedType.id} (${record.detectedType.mime})`);
  if (record.sha256) lines.push(`SHA-256:   ${record.sha256}`);
  if (verified && record.textKey) lines.push(`Text:      s3://${context.cleanBucket}/${record.textKey}`);
  const facts = record.stages.metadata?.facts;
  if (facts) lines.push(...describeFacts(facts, { preview: false, fileWords: verified }));
  if (record.reasons.length > 0)
    lines.push("", "Reasons:", ...record.reasons.map((r) => `  - ${describeReason(r)}`));
  const attributes: Record<string, string> = {
    status: record.status,
    source: record.source,
    fileId: record.fileId,
  };
  if (record.owner) attributes.owner = record.owner;
  return {
    subject: notificationSubject(record.status, name),
    body: `${lines.map(printable).join("\n")}\n`,
    attributes,
  };
}
