/**
 * The verdict message people read in their mail, and the attributes subscribers filter on.
 * SNS subjects must be ASCII, one line and under 100 characters. Names, keys and what the file says about itself
 * (a PDF title) are the sender's words: every line goes out through `printable`, so a line break or a bidi
 * control in them shows as an escape and can neither add a line nor disguise one.
 */
import { describeFacts } from "./facts.ts";
import { displayName, printable } from "./file-names.ts";
import { formatSize } from "./format.ts";
import type { FileRecord } from "./types.ts";

const HEADLINES: Record<string, string> = {
  VERIFIED: "passed every check and was promoted to the clean bucket",
  REJECTED: "was rejected and is held in quarantine",
  INFECTED: "contains malware or blocked content and is held in quarantine",
  FAILED: "could not be checked and is held in quarantine",
};

function asciiSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, "?");
  return ascii.length <= 99 ? ascii : `${ascii.slice(0, 96)}...`;
}

export function formatNotification(record: FileRecord): {
  subject: string;
  body: string;
  attributes: Record<string, string>;
} {
  const name = displayName(record.key);
  const lines = [
    `The file "${name}" ${HEADLINES[record.status] ?? `is ${record.status}`}.`,
    "",
    `Status:    ${record.status}`,
    `File id:   ${record.fileId}`,
    `Key:       s3://${record.bucket}/${record.key}`,
    `Source:    ${record.source}${record.owner ? ` (${record.owner})` : ""}`,
    `Size:      ${formatSize(record.size)}`,
  ];
  if (record.detectedType) lines.push(`Type:      ${record.detectedType.id} (${record.detectedType.mime})`);
  if (record.sha256) lines.push(`SHA-256:   ${record.sha256}`);
  if (record.cleanKey) lines.push(`Clean key: ${record.cleanKey}`);
  if (record.textKey) lines.push(`Text key:  ${record.textKey}`);
  const facts = record.stages.metadata?.facts;
  if (facts) lines.push(...describeFacts(facts, { preview: false }));
  if (record.reasons.length > 0) lines.push("", "Reasons:", ...record.reasons.map((r) => `  - ${r}`));
  const attributes: Record<string, string> = {
    status: record.status,
    source: record.source,
    fileId: record.fileId,
  };
  if (record.owner) attributes.owner = record.owner;
  return {
    subject: asciiSubject(printable(`[Airlock] ${record.status}: ${name}`)),
    body: `${lines.map(printable).join("\n")}\n`,
    attributes,
  };
}
