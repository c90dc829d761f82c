/**
 * What a file's status and reasons mean, in words a person reads: a badge label, a one-line summary per status,
 * and scan findings (`Airlock.Eicar in a.zip/b.txt`) translated into what was found and where.
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

/** Scan findings by name prefix, longest first wins. */
const FINDINGS: [prefix: string, words: string][] = [
  ["Airlock.Eicar", "the EICAR antivirus test signature"],
  ["Airlock.Executable", "a program (executable file)"],
  ["Airlock.Script.Shebang", "a script that could be run"],
  ["Airlock.Html.Script", "scripts in a web page"],
  ["Airlock.Svg.Script", "scripts in an SVG image"],
  ["Airlock.Pdf.JavaScript", "JavaScript inside the PDF"],
  ["Airlock.Pdf.Launch", "a PDF action that launches programs"],
  ["Airlock.Pdf.EmbeddedFile", "a file hidden inside the PDF"],
  ["Airlock.Pdf", "active content inside the PDF"],
  ["Airlock.Office.Macro", "Office macros (VBA)"],
  ["Airlock.Archive.Bomb", "an archive bomb (a file that expands enormously)"],
];

/**
 * One reason in plain words. Findings (`Name` or `Name in path`) are translated and keep their technical name in
 * brackets so that support can search for it; anything else (validation reasons are sentences already) gets a
 * capital letter.
 */
export function reasonWords(reason: string): string {
  const match = /^(Airlock\.[A-Za-z0-9.]+)(?: in (.+))?$/.exec(reason.trim());
  if (match) {
    const [, name = "", path] = match;
    const entry = FINDINGS.filter(([prefix]) => name.startsWith(prefix)).sort(
      (a, b) => b[0].length - a[0].length,
    )[0];
    const what = entry ? entry[1] : "dangerous content";
    const where = path ? ` in ${path}` : "";
    return `Found ${what}${where} (${name}).`;
  }
  const engineError = /^([\w-]+): ([\w-]+): (.*)$/.exec(reason.trim());
  if (engineError) {
    const [, engine, code = "", detail] = engineError;
    const why: Record<string, string> = {
      "limit-exceeded": "it goes beyond a safety limit",
      encrypted: "it is encrypted or password-protected",
      corrupt: "it is damaged or truncated",
      unsupported: "it uses a format the scanner cannot open",
      timeout: "the scan took too long",
      "engine-unavailable": "the scanner was unavailable",
      internal: "the scanner hit an internal error",
    };
    return `The ${engine} scanner could not look inside: ${why[code] ?? code} (${detail}).`;
  }
  const sentence = reason.trim();
  if (sentence === "") return "";
  const capital = sentence.charAt(0).toUpperCase() + sentence.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
