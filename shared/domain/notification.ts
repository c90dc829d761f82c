/**
 * The verdict message people read in their mail, and the attributes subscribers filter on.
 * SNS subjects must be ASCII, one line and under 100 characters.
 */
import { describeFacts } from "./facts.ts";
import { formatSize } from "./format.ts";
import { fileName } from "./keys.ts";
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
  const name = fileName(record.key);
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
    subject: asciiSubject(`[Airlock] ${record.status}: ${name}`),
    body: `${lines.join("\n")}\n`,
    attributes,
  };
}
