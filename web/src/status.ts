/**
 * What a file's status means, in words a person reads: a badge label and a one-line summary per status. The
 * reasons are put in words by the catalogue the CLI and the notification mail share (core/domain/reasons.ts).
 */

export type ConsoleStatus =
  | "AWAITING_UPLOAD"
  | "PENDING"
  | "VERIFIED"
  | "REJECTED"
  | "INFECTED"
  | "FAILED"
  | "DELETED";

export const FINAL: readonly string[] = ["VERIFIED", "REJECTED", "INFECTED", "FAILED", "DELETED"];

export interface StatusWords {
  /** The badge text. */
  label: string;
  /** One sentence: what happened and what it means for the file. */
  summary: string;
  /** The badge's colour family, matched by a CSS class. */
  tone: "ok" | "bad" | "warn" | "busy";
}

const WORDS: Record<ConsoleStatus, StatusWords> = {
  AWAITING_UPLOAD: { label: "Uploading", summary: "Waiting for the upload to finish.", tone: "busy" },
  PENDING: { label: "Checking", summary: "Being checked: type, malware scan and facts.", tone: "busy" },
  VERIFIED: {
    label: "Verified",
    summary: "Checked and safe: it was moved to clean storage and can be downloaded.",
    tone: "ok",
  },
  REJECTED: {
    label: "Rejected",
    summary:
      "Refused: the file breaks the upload rules or could not be fully inspected. It stays in quarantine.",
    tone: "warn",
  },
  INFECTED: {
    label: "Infected",
    summary: "Malware or dangerous content was found. The file stays in quarantine and cannot be downloaded.",
    tone: "bad",
  },
  FAILED: {
    label: "Failed",
    summary: "The file could not be checked, so it was not released. Try uploading it again later.",
    tone: "bad",
  },
  DELETED: { label: "Deleted", summary: "The file was deleted.", tone: "warn" },
};

export function statusWords(status: string): StatusWords {
  return WORDS[status as ConsoleStatus] ?? { label: status, summary: `The file is ${status}.`, tone: "warn" };
}

export function isFinal(status: string): boolean {
  return FINAL.includes(status);
}
