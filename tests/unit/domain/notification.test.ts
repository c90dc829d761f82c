import { describe, expect, it } from "vitest";
import { describeKey } from "../../../shared/domain/keys.ts";
import { formatNotification } from "../../../shared/domain/notification.ts";
import type { FileRecord } from "../../../shared/domain/types.ts";

const at = "2026-11-22T00:00:00.000Z";

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
    const message = formatNotification(held(key));
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
    const message = formatNotification(held("drops/billing/invoice\u202Efdp.exe"));
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
    const { body } = formatNotification(record);
    expect(body.split("\n").filter((l) => l.startsWith("Status:"))).toEqual(["Status:    REJECTED"]);
    expect(body).not.toMatch(/[\u2028\u202E]/);
  });

  it("shows an ordinary accented name as it is", () => {
    const message = formatNotification(held("drops/billing/re\u0301sume\u0301.pdf"));
    expect(message.body).toContain('The file "résumé.pdf"');
  });
});
