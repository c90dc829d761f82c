import { describe, expect, it } from "vitest";
import { isFinal, reasonWords, statusWords } from "../../../web/src/status.ts";

describe("Function: statusWords", () => {
  it.each([
    ["VERIFIED", "Verified", "ok"],
    ["INFECTED", "Infected", "bad"],
    ["FAILED", "Failed", "bad"],
    ["REJECTED", "Rejected", "warn"],
    ["PENDING", "Checking", "busy"],
    ["AWAITING_UPLOAD", "Uploading", "busy"],
  ])("labels %s as %s with the %s tone", (status, label, tone) => {
    expect(statusWords(status)).toMatchObject({ label, tone });
    expect(statusWords(status).summary.length).toBeGreaterThan(10);
  });

  it("says why a held file cannot be downloaded", () => {
    expect(statusWords("INFECTED").summary).toContain("cannot be downloaded");
    expect(statusWords("FAILED").summary).toContain("not released");
  });

  it("keeps an unknown status readable instead of failing", () => {
    expect(statusWords("QUARANTINED")).toEqual({
      label: "QUARANTINED",
      summary: "The file is QUARANTINED.",
      tone: "warn",
    });
  });
});

describe("Function: isFinal", () => {
  it("treats verdicts and deletion as final and checking as not", () => {
    expect(["VERIFIED", "REJECTED", "INFECTED", "FAILED", "DELETED"].every(isFinal)).toBe(true);
    expect(isFinal("PENDING")).toBe(false);
    expect(isFinal("AWAITING_UPLOAD")).toBe(false);
  });
});

describe("Function: reasonWords", () => {
  it.each([
    ["Airlock.Eicar", "Found the EICAR antivirus test signature (Airlock.Eicar)."],
    [
      "Airlock.Executable.PE in a.zip/b.exe",
      "Found a program (executable file) in a.zip/b.exe (Airlock.Executable.PE).",
    ],
    ["Airlock.Pdf.JavaScript", "Found JavaScript inside the PDF (Airlock.Pdf.JavaScript)."],
    ["Airlock.Pdf.Active", "Found active content inside the PDF (Airlock.Pdf.Active)."],
    [
      "Airlock.Office.Macro in report.docx",
      "Found Office macros (VBA) in report.docx (Airlock.Office.Macro).",
    ],
    ["Airlock.Something.New", "Found dangerous content (Airlock.Something.New)."],
  ])("translates the finding %s", (reason, words) => {
    expect(reasonWords(reason)).toBe(words);
  });

  it("explains why a scanner could not look inside", () => {
    expect(reasonWords("builtin: encrypted: entry secret.txt is encrypted")).toBe(
      "The builtin scanner could not look inside: it is encrypted or password-protected (entry secret.txt is encrypted).",
    );
  });

  it("turns validation reasons into sentences", () => {
    expect(reasonWords("type exe is not allowed")).toBe("Type exe is not allowed.");
    expect(reasonWords("file is 2.0 MiB, above the 1.0 MiB limit")).toBe(
      "File is 2.0 MiB, above the 1.0 MiB limit.",
    );
    expect(reasonWords("Already a sentence.")).toBe("Already a sentence.");
  });
});
