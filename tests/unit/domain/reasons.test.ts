import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nameProblems, nameReason } from "../../../core/domain/file-names.ts";
import {
  describeAccepted,
  describeReason,
  explainReason,
  FAMILY_WORDS,
  findingWords,
} from "../../../core/domain/reasons.ts";

const ROOT = join(import.meta.dirname, "../../..");
const NAMESPACE = /["'`]((?:Airlock|ClamAV|GuardDuty|Yara|Blocklist)\.[A-Za-z0-9._-]*)(\$\{)?/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every finding name written in core/, and the prefixes names are built from (`ClamAV.${signature}`). */
function namesInShared(): { names: Set<string>; prefixes: Set<string> } {
  const names = new Set<string>();
  const prefixes = new Set<string>();
  for (const file of sources(join(ROOT, "core"))) {
    if (file.endsWith("reasons.ts")) continue;
    for (const m of readFileSync(file, "utf8").matchAll(NAMESPACE)) {
      const [, name = "", template] = m;
      if (template) prefixes.add(name);
      else if (/\.[A-Za-z0-9]/.test(name)) names.add(name);
    }
  }
  return { names, prefixes };
}

/** The names of the README's findings table, `.ELF` shorthands expanded from the name before them. */
function namesInReadme(): string[] {
  const names: string[] = [];
  for (const line of readFileSync(join(ROOT, "README.md"), "utf8").split("\n")) {
    if (!line.startsWith("| `Airlock.")) continue;
    const cell = line.split("|")[1] ?? "";
    let family = "";
    for (const [, token = ""] of cell.matchAll(/`([^`]+)`/g)) {
      if (token.startsWith(".")) names.push(family + token.slice(1));
      else {
        names.push(token);
        family = token.slice(0, token.lastIndexOf(".") + 1);
      }
    }
  }
  return names;
}

describe("Catalogue: finding names", () => {
  const { names, prefixes } = namesInShared();

  it("finds the engines' names in core/ (the scan below is not empty)", () => {
    expect(names.size).toBeGreaterThan(20);
    expect(names).toContain("Airlock.Eicar");
    expect(prefixes).toContain("ClamAV.");
    expect(prefixes).toContain("GuardDuty.");
  });

  it("has words of its own or of its family for every finding name in core/", () => {
    const generic = [...names].filter((name) => findingWords(name).match === "generic");
    expect(generic).toEqual([]);
  });

  it("has family words for every prefix core/ builds names from", () => {
    const missing = [...prefixes].filter((prefix) => findingWords(`${prefix}Anything`).match !== "family");
    expect(missing).toEqual([]);
  });

  it("has words for every name in the README's findings table", () => {
    const readme = namesInReadme();
    expect(readme).toContain("Airlock.Executable.ELF");
    expect(readme.filter((name) => findingWords(name).match === "generic")).toEqual([]);
  });

  it.each([
    "Airlock.Pdf.",
    "Airlock.Office.",
    "Airlock.Archive.",
    "Airlock.Script.",
    "Airlock.Polyglot.",
    "ClamAV.",
    "GuardDuty.",
    "Yara.",
    "Blocklist.",
  ])("reads an unknown name of the %s family with its family's words", (prefix) => {
    const name = `${prefix}SomethingNew`;
    expect(findingWords(name)).toEqual({ words: FAMILY_WORDS[prefix], match: "family" });
    expect(describeReason(name)).toBe(`Found ${FAMILY_WORDS[prefix]} (${name}).`);
  });

  it("keeps Airlock. itself out of the families, so a new name without words shows as generic", () => {
    expect(findingWords("Airlock.Something.New").match).toBe("generic");
    expect(describeReason("Airlock.Something.New")).toBe("Found dangerous content (Airlock.Something.New).");
  });
});

describe("Function: describeReason", () => {
  it.each([
    ["Airlock.Eicar", "Found the EICAR antivirus test signature (Airlock.Eicar)."],
    [
      "Airlock.Executable.PE in a.zip/b.exe",
      "Found a Windows program (PE executable) in a.zip/b.exe (Airlock.Executable.PE).",
    ],
    ["Airlock.Pdf.JavaScript", "Found JavaScript inside the PDF (Airlock.Pdf.JavaScript)."],
    [
      "Airlock.Office.Macro in report.docx",
      "Found Office macros (VBA) in report.docx (Airlock.Office.Macro).",
    ],
    [
      "ClamAV.Win.Test.EICAR_HDB-1",
      "Found the EICAR antivirus test signature (ClamAV.Win.Test.EICAR_HDB-1).",
    ],
    [
      "ClamAV.Unix.Trojan.Mirai-1 in a.tar/bin",
      "Found malware known to ClamAV in a.tar/bin (ClamAV.Unix.Trojan.Mirai-1).",
    ],
    ["GuardDuty.EICAR-Test-File", "Found the EICAR antivirus test signature (GuardDuty.EICAR-Test-File)."],
    ["Airlock.Hash.known-bad", "Found a file whose SHA-256 is on the blocklist (Airlock.Hash.known-bad)."],
  ])("says what the finding %s is, keeping its name", (reason, words) => {
    expect(describeReason(reason)).toBe(words);
  });

  it("explains why a scanner could not look inside, or could not finish", () => {
    expect(describeReason("builtin: encrypted: entry secret.txt is encrypted")).toBe(
      "The built-in scanner could not look inside: it is encrypted or password-protected (entry secret.txt is encrypted).",
    );
    expect(explainReason("clamav: timeout: timeout")).toEqual({
      text: "ClamAV could not finish: the scan took too long.",
      kind: "engine",
      ref: "clamav: timeout",
    });
    expect(describeReason("yara: corrupt: bad header")).toBe(
      "The yara scanner could not look inside: it is damaged or truncated (bad header).",
    );
  });

  it.each([
    ["name.txt.", "name-trailing-dot-or-space", /ends with a dot or a space, which Windows drops/],
    ["a\rb.txt", "name-control-character", /^The file name contains a control character \(U\+000D\)/],
    ["invoice\u202Efdp.exe", "name-bidi-control", /bidirectional text control \(U\+202E\)/],
    ["zero\u200Bwidth.txt", "name-invisible-character", /invisible character \(U\+200B\)/],
    ["NUL.txt", "name-reserved-device", /reserved Windows device name \(NUL\)/],
    ["report.pdf:evil.exe", "name-colon", /colon, which Windows reads as a hidden alternate data stream/],
    ["..", "name-empty", /^The file has no usable name/],
  ])("turns the name problem of %j into a sentence ending with its code", (name, code, words) => {
    const problem = nameProblems(name).find((p) => p.code === code);
    expect(problem).toBeDefined();
    const explained = explainReason(nameReason(problem as NonNullable<typeof problem>));
    expect(explained).toMatchObject({ kind: "name", ref: code });
    expect(explained.text).toMatch(words);
    expect(explained.text.endsWith(`(${code}).`)).toBe(true);
    expect(explained.text).not.toContain("[");
  });

  it("says where a key is wrong", () => {
    expect(describeReason("key is outside drops/<system>/ and uploads/ [key-layout]")).toBe(
      "The file was stored outside the folders files are taken from (drops/<system>/ and uploads/) (key-layout).",
    );
    expect(describeReason("key has an empty, . or .. path segment [key-layout]")).toBe(
      "The file's path has an empty, . or .. folder (key-layout).",
    );
  });

  it("turns validation reasons into sentences", () => {
    expect(describeReason("type exe is not allowed")).toBe("Files of this type (EXE) are not accepted.");
    expect(describeReason("file is 2.0 MiB, above the 1.0 MiB limit")).toBe(
      "The file is 2.0 MiB, above the 1.0 MiB limit.",
    );
    expect(describeReason("empty file")).toBe("The file is empty.");
    expect(describeReason("extension .txt does not match the detected type pdf")).toBe(
      "Extension .txt does not match the detected type pdf.",
    );
    expect(describeReason("Already a sentence.")).toBe("Already a sentence.");
  });
});

describe("Function: describeAccepted", () => {
  it("names the default allow-list in groups, with the size limit", () => {
    const all = ["pdf", "png", "jpg", "gif", "webp", "txt", "csv", "json", "docx", "xlsx", "pptx", "zip"];
    expect(describeAccepted(all, 100 * 1024 * 1024)).toBe(
      "PDF, images (PNG, JPEG, GIF, WebP), Office documents (Word, Excel, PowerPoint), text (plain text, CSV, JSON) and ZIP archives, up to 100 MiB each",
    );
  });

  it("names only what is allowed, and a type it has no group for by its id", () => {
    expect(describeAccepted(["png", "txt", "tiff"], 1536 * 1024)).toBe(
      "images (PNG), text (plain text) and TIFF, up to 1.5 MiB each",
    );
    expect(describeAccepted(["pdf"])).toBe("PDF");
  });
});
