/**
 * The plain-language catalogue of verdict reasons, one for the console, the notification mail and the CLI.
 *
 * A reason as the pipeline stores it is technical: a scan finding (`Airlock.Pdf.JavaScript in a.zip/b.pdf`),
 * an engine that could not finish (`builtin: encrypted: entry secret.txt is encrypted`), a file-name problem
 * with its stable code (`file name ends with a dot or a space, … [name-trailing-dot-or-space]`) or a validation
 * rule in words (`type exe is not allowed`). `describeReason` turns each into one sentence a person reads, and
 * keeps the finding name or code at its end in parentheses, so that support can still search for it.
 *
 * Findings are looked up by their exact name first, then by family (`Airlock.Pdf.*`, `ClamAV.*`, `GuardDuty.*`,
 * …, longest prefix first), so a name added to an engine later still reads well before it has words of its own.
 * Pure and dependency-free apart from the size format: the web console bundles it.
 */
import { formatSize } from "./format.ts";

/** How the words of a finding were found. */
export type FindingMatch = "exact" | "family" | "generic";

export interface ExplainedReason {
  /** One sentence, ending with the finding name or code in parentheses when there is one. */
  text: string;
  kind: "finding" | "engine" | "name" | "rule";
  /** The finding name, engine code or name-problem code, kept for reference. */
  ref?: string;
  /** Findings only: whether the name has words of its own, its family's, or only the generic ones. */
  match?: FindingMatch;
}

/** Words for exact finding names: what was found, to follow "Found …". */
export const FINDING_WORDS: Readonly<Record<string, string>> = {
  "Airlock.Eicar": "the EICAR antivirus test signature",
  "Airlock.Executable.PE": "a Windows program (PE executable)",
  "Airlock.Executable.ELF": "a Linux program (ELF executable)",
  "Airlock.Executable.MachO": "a macOS program (Mach-O executable)",
  "Airlock.Executable.JavaClass": "compiled Java code (a class file)",
  "Airlock.Executable.Dex": "compiled Android code (Dalvik bytecode)",
  "Airlock.Executable.Apk": "an Android app (APK package)",
  "Airlock.Shortcut.Lnk": "a Windows shortcut, which can start programs",
  "Airlock.Script.Shebang": "a script that can be run directly (it starts with #!)",
  "Airlock.Script.Batch": "a Windows batch script",
  "Airlock.Script.PowerShell": "PowerShell commands that download or run code",
  "Airlock.Script.WindowsHost": "Windows Script Host calls that can run programs",
  "Airlock.Html.Script": "scripts in a web page",
  "Airlock.Html.Hta": "an HTML Application, which runs as a program on Windows",
  "Airlock.Svg.Script": "scripts in an SVG image",
  "Airlock.Xml.ExternalEntity": "an XML external entity, which can make a reader fetch or reveal other files",
  "Airlock.Pdf.JavaScript": "JavaScript inside the PDF",
  "Airlock.Pdf.Launch": "a PDF action that launches programs",
  "Airlock.Pdf.EmbeddedFile": "a file hidden inside the PDF",
  "Airlock.Pdf.AutoAction": "a PDF action that runs by itself when a page or a form field is opened",
  "Airlock.Pdf.OpenAction": "a PDF action that runs when the document is opened",
  "Airlock.Pdf.Active": "active content inside the PDF",
  "Airlock.Office.Macro": "Office macros (VBA)",
  "Airlock.Csv.Dde": "a spreadsheet formula that starts another program when the CSV is opened (DDE)",
  "Airlock.Ole2.Macro": "macros (VBA) in a legacy Office document",
  "Airlock.Rtf.EmbeddedObject": "an object embedded in an RTF document, a common way to deliver exploits",
  "Airlock.Archive.Bomb": "an archive bomb (a file that expands enormously)",
  "Airlock.Hash.Blocklisted": "a file whose SHA-256 is on the blocklist",
};

/**
 * Words for families of names, matched as prefixes (longest first). Only the engines' own namespaces and
 * Airlock's families are here: a bare `Airlock.` is not a family, so a name without words reads generically and
 * the catalogue's test notices it.
 */
export const FAMILY_WORDS: Readonly<Record<string, string>> = {
  "Airlock.Executable.": "a program (executable file)",
  "Airlock.Script.": "a script that could be run",
  "Airlock.Shortcut.": "a shortcut, which can start programs",
  "Airlock.Html.": "active content in a web page",
  "Airlock.Svg.": "active content in an SVG image",
  "Airlock.Xml.": "a dangerous XML construct",
  "Airlock.Pdf.": "active content inside the PDF",
  "Airlock.Office.": "active content in an Office document",
  "Airlock.Ole2.": "active content in a legacy Office document",
  "Airlock.Rtf.": "active content in an RTF document",
  "Airlock.Archive.": "a dangerous archive structure",
  "Airlock.Polyglot.":
    "a file that is valid as two formats at once (a polyglot), which can fool the programs that open it",
  "Airlock.Hash.": "a file whose SHA-256 is on the blocklist",
  "ClamAV.": "malware known to ClamAV",
  "ClamAV.Eicar": "the EICAR antivirus test signature",
  "ClamAV.Win.Test.EICAR": "the EICAR antivirus test signature",
  "ClamAV.Heuristics.": "something ClamAV's heuristics flag as suspicious",
  "GuardDuty.": "malware reported by Amazon GuardDuty",
  "GuardDuty.EICAR": "the EICAR antivirus test signature",
  "Yara.": "content that matches a YARA rule",
  "Blocklist.": "a file on the blocklist",
};

const GENERIC_FINDING = "dangerous content";
const FAMILIES = Object.keys(FAMILY_WORDS).sort((a, b) => b.length - a.length);

/** What a finding name stands for, and whether it has its own words, its family's, or the generic ones. */
export function findingWords(name: string): { words: string; match: FindingMatch } {
  const exact = FINDING_WORDS[name];
  if (exact) return { words: exact, match: "exact" };
  const family = FAMILIES.find((prefix) => name.startsWith(prefix));
  if (family) return { words: FAMILY_WORDS[family] as string, match: "family" };
  return { words: GENERIC_FINDING, match: "generic" };
}

/** A finding as a sentence: `Found <what>[ in <path>] (<name>).` */
export function describeFinding(name: string, path?: string): string {
  const where = path ? ` in ${path}` : "";
  return `Found ${findingWords(name).words}${where} (${name}).`;
}

const ENGINES: Readonly<Record<string, string>> = {
  builtin: "The built-in scanner",
  clamav: "ClamAV",
  blocklist: "The SHA-256 blocklist",
  guardduty: "GuardDuty",
};

/** Why an engine stopped: content reasons (it could not look inside) and operational ones (it could not finish). */
const ENGINE_REASONS: Readonly<Record<string, { look: boolean; why: string }>> = {
  "limit-exceeded": { look: true, why: "it goes beyond a safety limit" },
  encrypted: { look: true, why: "it is encrypted or password-protected" },
  corrupt: { look: true, why: "it is damaged or truncated" },
  unsupported: { look: true, why: "it uses a format the scanner cannot open" },
  timeout: { look: false, why: "the scan took too long" },
  "engine-unavailable": { look: false, why: "the scanner was unavailable" },
  internal: { look: false, why: "the scanner hit an internal error" },
};

/** Sentences for the file-name policy's codes; `{subject}` is the file name or its path, `{detail}` the code point. */
const NAME_CODES: Readonly<Record<string, string>> = {
  "name-empty": "The file has no usable name",
  "name-control-character":
    "{Subject} contains a control character{detail}, which could break lines or hide text",
  "name-bidi-control":
    "{Subject} contains a bidirectional text control{detail}, which can make its extension look like another",
  "name-invisible-character": "{Subject} contains an invisible character{detail}",
  "name-trailing-dot-or-space":
    "{Subject} ends with a dot or a space, which Windows drops, so its real extension is hidden",
  "name-reserved-device": "{Subject} is a reserved Windows device name{detail}, whatever its extension",
  "name-colon": "{Subject} contains a colon, which Windows reads as a hidden alternate data stream",
  "name-extension-mismatch": "The file name's extension does not match its type",
  "key-layout": "The file was stored outside the folders files are taken from (drops/<system>/ and uploads/)",
};

const sentence = (text: string) => {
  const trimmed = text.trim();
  if (trimmed === "") return "";
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
};

/** Validation and verdict rules said in words already, phrased the way the catalogue speaks. */
const RULES: [pattern: RegExp, words: (m: RegExpExecArray) => string][] = [
  [/^empty file$/, () => "The file is empty."],
  [/^file is (.+), above the (.+) limit$/, (m) => `The file is ${m[1]}, above the ${m[2]} limit.`],
  [
    /^file type could not be determined from its content$/,
    () => "Its type could not be recognised from its content.",
  ],
  [
    /^type (\S+) is not allowed$/,
    (m) => `Files of this type (${(m[1] ?? "").toUpperCase()}) are not accepted.`,
  ],
  [/^no scan engine ran$/, () => "No malware scanner ran, so the file could not be checked."],
];

/** A stored reason explained: its sentence, what kind of reason it is, and the name or code it keeps. */
export function explainReason(reason: string): ExplainedReason {
  const text = reason.trim();
  const finding = /^((?:Airlock|ClamAV|GuardDuty|Yara|Blocklist)\.\S+)(?: in (.+))?$/s.exec(text);
  if (finding) {
    const [, name = "", path] = finding;
    return { text: describeFinding(name, path), kind: "finding", ref: name, match: findingWords(name).match };
  }
  const engine = /^([\w-]+): ([\w-]+): (.*)$/s.exec(text);
  if (engine && ENGINE_REASONS[engine[2] ?? ""]) {
    const [, id = "", code = "", detail = ""] = engine;
    const { look, why } = ENGINE_REASONS[code] as { look: boolean; why: string };
    const who = ENGINES[id] ?? `The ${id} scanner`;
    const more = detail && detail !== code ? ` (${detail})` : "";
    return {
      text: `${who} could not ${look ? "look inside" : "finish"}: ${why}${more}.`,
      kind: "engine",
      ref: `${id}: ${code}`,
    };
  }
  const named = /^(file name|key) (.*) \[([a-z0-9-]+)\]$/s.exec(text);
  if (named) {
    const [, subject = "", message = "", code = ""] = named;
    const template = NAME_CODES[code];
    const detail = /\(([^()]*)\)/.exec(message)?.[1];
    const Subject = subject === "key" ? "The file's path" : "The file name";
    const words = template
      ? template.replace("{Subject}", Subject).replace("{detail}", detail ? ` (${detail})` : "")
      : `${Subject} ${message}`;
    const variant =
      code === "key-layout" && /segment/.test(message)
        ? "The file's path has an empty, . or .. folder"
        : words;
    return { text: `${variant} (${code}).`, kind: "name", ref: code };
  }
  for (const [pattern, words] of RULES) {
    const m = pattern.exec(text);
    if (m) return { text: words(m), kind: "rule" };
  }
  return { text: sentence(text), kind: "rule" };
}

/** One stored reason as a sentence people read (the finding name or code kept at its end). */
export function describeReason(reason: string): string {
  return explainReason(reason).text;
}

/** How allowed type ids are grouped when a person is told what may be uploaded. */
const TYPE_GROUPS: { group: string; types: Readonly<Record<string, string>>; alone?: boolean }[] = [
  { group: "PDF", types: { pdf: "PDF" }, alone: true },
  { group: "images", types: { png: "PNG", jpg: "JPEG", gif: "GIF", webp: "WebP" } },
  { group: "Office documents", types: { docx: "Word", xlsx: "Excel", pptx: "PowerPoint" } },
  { group: "text", types: { txt: "plain text", csv: "CSV", json: "JSON" } },
  { group: "ZIP archives", types: { zip: "ZIP" }, alone: true },
];

const and = new Intl.ListFormat("en-GB", { type: "conjunction" });

/** A size limit as people say it: `100 MiB`, `1.5 GiB`. */
export function sizeLimit(bytes: number): string {
  return formatSize(bytes).replace(/\.0 /, " ");
}

/**
 * What may be uploaded, in words: `PDF, images (PNG, JPEG, GIF, WebP), Office documents (Word, Excel,
 * PowerPoint), text (plain text, CSV, JSON) and ZIP archives, up to 100 MiB each`.
 */
export function describeAccepted(allowedTypes: readonly string[], maxSizeBytes?: number): string {
  const allowed = new Set(allowedTypes);
  const items: string[] = [];
  for (const { group, types, alone } of TYPE_GROUPS) {
    const names = Object.entries(types)
      .filter(([id]) => allowed.has(id))
      .map(([, name]) => name);
    if (names.length > 0) items.push(alone ? group : `${group} (${names.join(", ")})`);
  }
  const known = new Set(TYPE_GROUPS.flatMap((g) => Object.keys(g.types)));
  for (const id of allowedTypes) if (!known.has(id)) items.push(id.toUpperCase());
  const list = items.length > 0 ? and.format(items) : "no file types";
  return maxSizeBytes === undefined ? list : `${list}, up to ${sizeLimit(maxSizeBytes)} each`;
}
