import { describe, expect, it } from "vitest";
import { describeKey } from "../../../core/domain/keys.ts";
import { formatNotification, notificationSubject } from "../../../core/domain/notification.ts";
import type { Facts, FileRecord } from "../../../core/domain/types.ts";

const at = "2026-11-22T00:00:00.000Z";
const CTX = { cleanBucket: "clean" };

function held(key: string, overrides: Partial<FileRecord> = {}): FileRecord {
  const { fileId, owner } = describeKey("ingest", key);
  return {
    fileId,
    key,
    bucket: "ingest",
    source: "drop",
    owner,
    status: "REJECTED",
    reasons: ["file name contains a control character (U+000D) [name-control-character]"],
    version: { bucket: "ingest", key, sequencer: "1", size: 10 },
    stages: {},
    size: 10,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  } as FileRecord;
}

describe("Function: formatNotification (names)", () => {
  it("keeps a name with CR/LF on its own line, escaped, and the drop owned by its system", () => {
    const key = "drops/billing/x\r\nStatus:    VERIFIED\r\nClean key: evil.txt";
    const message = formatNotification(held(key), CTX);
    const lines = message.body.split("\n");
    expect(lines.filter((l) => l.startsWith("Status:"))).toEqual(["Status:    REJECTED"]);
    expect(lines.some((l) => l.startsWith("Clean key:"))).toBe(false);
    expect(message.body).not.toMatch(/\r/);
    expect(message.body).toContain("x\\u{D}\\u{A}Status:    VERIFIED");
    expect(message.body).toContain("Source:    drop (system:billing)");
    expect(message.attributes.owner).toBe("system:billing");
    expect(message.subject).not.toMatch(/[\r\n]/);
  });

  it("shows bidi and invisible characters as escapes, in the body and the subject", () => {
    const message = formatNotification(held("drops/billing/invoice\u202Efdp.exe"), CTX);
    expect(message.body).not.toMatch(/\u202E/);
    expect(message.body).toContain('The file "invoice\\u{202E}fdp.exe"');
    expect(message.subject).toBe("[Airlock] REJECTED: invoice\\u{202E}fdp.exe");
  });

  it("escapes what the file itself says (a PDF title with a line break)", () => {
    const record = held("drops/billing/report.pdf", {
      stages: {
        metadata: {
          stage: "metadata",
          status: "ok",
          reasons: [],
          at,
          facts: {
            sha256: "ab".repeat(32),
            size: 10,
            pdf: { pages: 1, encrypted: false, title: "Q3\u2028Status:    VERIFIED", author: "A\u202Eda" },
          },
        },
      },
    });
    const { body } = formatNotification(record, CTX);
    expect(body.split("\n").filter((l) => l.startsWith("Status:"))).toEqual(["Status:    REJECTED"]);
    expect(body).not.toMatch(/[\u2028\u202E]/);
  });

  it("shows an ordinary accented name as it is", () => {
    const message = formatNotification(held("drops/billing/re\u0301sume\u0301.pdf"), CTX);
    expect(message.body).toContain('The file "résumé.pdf"');
  });
});

function withFacts(record: FileRecord, facts: Omit<Facts, "sha256" | "size">): FileRecord {
  return {
    ...record,
    stages: {
      metadata: {
        stage: "metadata",
        status: "ok",
        reasons: [],
        at,
        facts: { sha256: "ab".repeat(32), size: 1, ...facts },
      },
    },
  };
}

const PROSE =
  "The quarterly report shows that revenue grew in every region, and that the new office in the north " +
  "opened on time. The board thanks all staff for their work during a difficult year for the company.";

describe("Function: formatNotification (words)", () => {
  it("puts every count in the plural its number needs", () => {
    const record = withFacts(held("drops/billing/a.pdf", { size: 1 }), {
      pdf: { pages: 1, encrypted: false },
      archive: { entries: 1, expandedBytes: 1 },
      text: { lines: 1, words: 1, csv: { columns: 1, header: ["a"] } },
      extracted: { source: "pdf", characters: 4, words: 1, preview: "word", truncated: false },
    });
    const { body } = formatNotification(record, CTX);
    expect(body).toContain("Size:      1 byte\n");
    expect(body).toContain("PDF:       1 page");
    expect(body).toContain("Archive:   1 entry, 1 byte expanded");
    expect(body).toContain("1 line, 1 word, 1 column");
    expect(body).toContain("Extracted: 1 word from");
    expect(body).not.toMatch(/\b1 (bytes|pages|entries|lines|words|columns)\b/);
    const many = withFacts(held("drops/billing/b.pdf", { size: 2 }), {
      office: { pages: 2, sheets: 0, slides: 12_345 },
    });
    expect(formatNotification(many, CTX).body).toContain("Document:  2 pages, 0 sheets, 12,345 slides");
  });

  it("gives the clean location of a VERIFIED file, and the quarantine location of a held one", () => {
    const key = "uploads/0123456789abcdefghjkmnpqrs/report.pdf";
    const verified = formatNotification(
      held(key, {
        status: "VERIFIED",
        reasons: [],
        cleanKey: key,
        textKey: "text/0123456789abcdefghjkmnpqrs.txt",
        bucket: "ingest",
      }),
      CTX,
    ).body;
    expect(verified).toContain(`Location:  s3://clean/${key}\n`);
    expect(verified).toContain("Text:      s3://clean/text/0123456789abcdefghjkmnpqrs.txt");
    expect(verified).not.toContain("s3://ingest/");
    const rejected = formatNotification(held("drops/billing/x.pdf"), CTX).body;
    expect(rejected).toContain("Location:  s3://ingest/drops/billing/x.pdf (quarantine)\n");
    expect(rejected).not.toContain("s3://clean/");
  });

  it("says the reasons in plain words, keeping the finding name and code", () => {
    const infected = held("drops/billing/e.txt", {
      status: "INFECTED",
      reasons: ["Airlock.Eicar in e.zip/e.txt"],
    });
    expect(formatNotification(infected, CTX).body).toContain(
      "  - Found the EICAR antivirus test signature in e.zip/e.txt (Airlock.Eicar).",
    );
    expect(formatNotification(held("drops/billing/a\rb.txt"), CTX).body).toContain(
      "  - The file name contains a control character (U+000D), which could break lines or hide text (name-control-character).",
    );
  });

  it("quotes none of a held file's own words: no preview, title, author or CSV header", () => {
    const facts = {
      pdf: { pages: 2, encrypted: false, title: "Pay now at evil.example", author: "Mallory" },
      text: { lines: 2, words: 4, csv: { columns: 2, header: ["wire to", "account 1234"] } },
      extracted: {
        source: "pdf" as const,
        characters: PROSE.length,
        words: 40,
        preview: PROSE,
        truncated: false,
      },
    };
    const heldBody = formatNotification(withFacts(held("drops/billing/p.pdf"), facts), CTX).body;
    for (const words of ["evil.example", "Mallory", "wire to", "account 1234", "quarterly report"])
      expect(heldBody).not.toContain(words);
    expect(heldBody).toContain("PDF:       2 pages");
    expect(heldBody).toContain("2 columns\n");
    const verified = held("drops/billing/p.pdf", {
      status: "VERIFIED",
      reasons: [],
      cleanKey: "drops/billing/p.pdf",
    });
    const verifiedBody = formatNotification(withFacts(verified, facts), CTX).body;
    expect(verifiedBody).toContain('title "Pay now at evil.example", author "Mallory"');
    expect(verifiedBody).not.toContain("quarterly report");
  });

  it("names the language of prose, and no language for text that is not prose", () => {
    const extracted = (preview: string, words: number) => ({
      extracted: {
        source: "text" as const,
        characters: preview.length,
        words,
        language: "eng",
        preview,
        truncated: false,
      },
    });
    const prose = formatNotification(withFacts(held("drops/billing/p.txt"), extracted(PROSE, 38)), CTX).body;
    expect(prose).toContain("Extracted: 38 words from the text, probably in English (eng)");
    const table = "12,13,14\n15,16,17\n".repeat(20);
    const numbers = formatNotification(
      withFacts(held("drops/billing/n.csv"), extracted(table, 40)),
      CTX,
    ).body;
    expect(numbers).toContain("Extracted: 40 words from the text\n");
    expect(numbers).not.toMatch(/English|eng\b/);
    const short = formatNotification(
      withFacts(held("drops/billing/s.txt"), extracted("Hello there, friend", 3)),
      CTX,
    );
    expect(short.body).not.toContain("English");
    const hex = "a3f9 c2d1 ".repeat(60);
    expect(
      formatNotification(withFacts(held("drops/billing/h.txt"), extracted(hex, 120)), CTX).body,
    ).not.toContain("English");
  });
});

describe("Function: notificationSubject", () => {
  const SNS_SUBJECT = /^[A-Za-z0-9\p{P}\p{S}][\x20-\x7e]*$/u;

  it.each([
    ["résumé.pdf", "[Airlock] REJECTED: resume.pdf"],
    ["Größe.pdf", "[Airlock] REJECTED: Groesse.pdf"],
    ["Отчёт.docx", "[Airlock] REJECTED: Otchyot.docx"],
    ["報告書 2026.pdf", "[Airlock] REJECTED: ___ 2026.pdf"],
    ["notes\u00a0\u2014 draft.txt", "[Airlock] REJECTED: notes - draft.txt"],
  ])("spells %j in printable ASCII", (name, subject) => {
    expect(notificationSubject("REJECTED", name)).toBe(subject);
    expect(notificationSubject("REJECTED", name)).toMatch(SNS_SUBJECT);
  });

  it("keeps a non-ASCII name as it is in the body", () => {
    const message = formatNotification(held("drops/billing/報告書 2026.pdf"), CTX);
    expect(message.subject).toMatch(SNS_SUBJECT);
    expect(message.body).toContain('The file "報告書 2026.pdf" was rejected');
  });

  it("stays under 100 characters and keeps the extension of a long name", () => {
    const subject = notificationSubject("VERIFIED", `${"quarterly-report-".repeat(20)}final.pdf`);
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^\[Airlock\] VERIFIED: quarterly-report-.*\.\.\..*final\.pdf$/);
    const wide = notificationSubject("VERIFIED", `${"報".repeat(150)}.pdf`);
    expect(wide.length).toBeLessThan(100);
    expect(wide).toMatch(SNS_SUBJECT);
  });

  it("leaves no line break or control character, whatever the name holds", () => {
    const subject = notificationSubject("REJECTED", "a\r\nb\t\u0000c\u202E\u200B.txt");
    expect(subject).toMatch(SNS_SUBJECT);
    expect(subject).toBe("[Airlock] REJECTED: a\\u{D}\\u{A}b\\u{9}\\u{0}c\\u{202E}\\u{200B}.txt");
  });
});
