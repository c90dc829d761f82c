import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  displayName,
  keyProblems,
  nameProblems,
  printable,
  uploadName,
} from "../../../core/domain/file-names.ts";

const codes = (problems: { code: string }[]) => problems.map((p) => p.code);

describe("Function: uploadName", () => {
  it.each([
    ["../../etc/passwd.txt", "passwd.txt"],
    ["C:\\Users\\me\\report.pdf", "report.pdf"],
    ["  spaced name.txt  ", "spaced name.txt"],
    ["résumé.pdf", "résumé.pdf"],
    // NFD (as macOS sends it) is stored as NFC: the same name, one spelling.
    ["re\u0301sume\u0301.pdf", "résumé.pdf"],
    ["❤️ notes.txt", "❤️ notes.txt"],
    ["Meeting notes (final).txt", "Meeting notes (final).txt"],
    ["console.txt", "console.txt"],
    ["COM10.txt", "COM10.txt"],
  ])("normalises %j to %j", (input, expected) => {
    expect(uploadName(input)).toEqual({ ok: true, name: expected });
  });

  it.each([
    ["invoice.js.", "name-trailing-dot-or-space"],
    ["run.bat.", "name-trailing-dot-or-space"],
    ["x.exe. .", "name-trailing-dot-or-space"],
    ["tab\there.csv", "name-control-character"],
    ["line\r\nbreak.txt", "name-control-character"],
    ["nul\u0000.txt", "name-control-character"],
    ["c1\u0085.txt", "name-control-character"],
    ["sep\u2028.txt", "name-control-character"],
    ["lone\ud800.txt", "name-control-character"],
    ["invoice\u202Efdp.exe", "name-bidi-control"],
    ["report\u2066.pdf", "name-bidi-control"],
    ["a\u200Fb.pdf", "name-bidi-control"],
    ["zero\u200Bwidth.pdf", "name-invisible-character"],
    ["join\u200Der.pdf", "name-invisible-character"],
    ["bom\uFEFF.pdf", "name-invisible-character"],
    ["soft\u00ADhyphen.pdf", "name-invisible-character"],
    ["CON", "name-reserved-device"],
    ["con.txt", "name-reserved-device"],
    ["NUL.tar.gz", "name-reserved-device"],
    ["Aux .pdf", "name-reserved-device"],
    ["COM1.pdf", "name-reserved-device"],
    ["lpt9.txt", "name-reserved-device"],
    ["report.pdf:evil.exe", "name-colon"],
    ["10:30 notes.txt", "name-colon"],
    ["/", "name-empty"],
    ["..", "name-empty"],
    ["   ", "name-empty"],
  ])("refuses %j (%s)", (input, code) => {
    const out = uploadName(input);
    expect(out.ok).toBe(false);
    if (!out.ok) expect(codes(out.problems)).toContain(code);
  });

  it("cuts a long name to 200 UTF-8 bytes by whole characters, keeping the extension", () => {
    const out = uploadName(`${"€".repeat(150)}.pdf`);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.name.endsWith(".pdf")).toBe(true);
    expect(new TextEncoder().encode(out.name).length).toBeLessThanOrEqual(200);
    expect(out.name).not.toMatch(/\uFFFD/);
  });

  it("only ever accepts names the policy accepts, without separators (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (input) => {
        const out = uploadName(input);
        if (!out.ok) return;
        expect(nameProblems(out.name)).toEqual([]);
        expect(out.name).not.toMatch(/[/\\]/);
        expect(out.name).toBe(out.name.normalize("NFC"));
        expect(new TextEncoder().encode(out.name).length).toBeLessThanOrEqual(200);
      }),
    );
  });
});

describe("Function: keyProblems", () => {
  it.each([
    "drops/billing/invoice.pdf",
    "drops/billing/2026/11/rapport été.pdf",
    "drops/erp/Mu\u0308ller.pdf",
    "uploads/0123456789abcdefghjkmnpqrs/report.pdf",
  ])("accepts %j", (key) => {
    expect(keyProblems(key)).toEqual([]);
  });

  it.each([
    ["drops/billing/invoice.js.", "name-trailing-dot-or-space"],
    ["drops/billing/invoice.js ", "name-trailing-dot-or-space"],
    ["drops/billing/x\r\ny.txt", "name-control-character"],
    ["drops/billing/a\nb/c.txt", "name-control-character"],
    ["drops/billing/invoice\u202Efdp.exe", "name-bidi-control"],
    ["drops/billing/zero\u200B.pdf", "name-invisible-character"],
    ["drops/billing/CON.txt", "name-reserved-device"],
    ["drops/billing/a.pdf:x.exe", "name-colon"],
    ["drops/billing/", "name-empty"],
    ["drops/billing/../x.pdf", "key-layout"],
    ["drops/billing//x.pdf", "key-layout"],
    ["drops/bil ling/x.pdf", "key-layout"],
    ["random.pdf", "key-layout"],
    ["clean/x.pdf", "key-layout"],
  ])("finds the problem in %j (%s)", (key, code) => {
    expect(codes(keyProblems(key))).toContain(code);
  });
});

describe("Function: printable", () => {
  it.each([
    ["x\r\nSubject: hi", "x\\u{D}\\u{A}Subject: hi"],
    ["invoice\u202Efdp.exe", "invoice\\u{202E}fdp.exe"],
    ["a\u200Bb", "a\\u{200B}b"],
    ["C:\\temp", "C:\\temp"],
    ["résumé ❤️ 📄.pdf", "résumé ❤️ 📄.pdf"],
  ])("shows %j as %j", (input, shown) => {
    expect(printable(input)).toBe(shown);
  });

  it("never leaves a line break, a control or a bidi character (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
        expect(printable(text)).not.toMatch(/[\p{Cc}\p{Zl}\p{Zp}\p{Bidi_Control}\p{Cs}]/u);
      }),
    );
  });
});

describe("Function: displayName", () => {
  it("shows the last segment of a key in NFC", () => {
    expect(displayName("drops/erp/Mu\u0308ller.pdf")).toBe("Müller.pdf");
  });
});
