import { describe, expect, it } from "vitest";
import type { FileRecord } from "../../../core/domain/types.ts";
import { describeRecord, listRows } from "../../../local/cli/output.ts";

const record = (over: Partial<FileRecord>): FileRecord =>
  ({
    fileId: "f1",
    bucket: "airlock-ingest",
    key: "drops/billing/report.pdf",
    status: "INFECTED",
    source: "drop",
    owner: "system:billing",
    size: 68,
    stages: {},
    reasons: ["Airlock.Eicar"],
    createdAt: "2026-12-01T10:00:00.000Z",
    updatedAt: "2026-12-01T10:00:01.000Z",
    version: { bucket: "airlock-ingest", key: "drops/billing/report.pdf", sequencer: "1", size: 68 },
    ...over,
  }) as FileRecord;

describe("CLI output", () => {
  it("explains finding names in words and keeps the name", () => {
    const text = describeRecord(record({}));
    expect(text).toMatch(/Airlock\.Eicar/);
    expect(text).not.toMatch(/^ {2}- Airlock\.Eicar$/m);
  });

  it("never writes terminal control sequences that a key carries", () => {
    const key = "drops/billing/\u001b[2J\u001b]0;pwned\u0007x\r\n.txt";
    const text = describeRecord(record({ key }));
    const rows = listRows([record({ key })]);
    for (const out of [text, rows]) {
      const controls = [...out].filter((c) => (c < " " && c !== "\n") || c === "\u007f");
      expect(controls).toEqual([]);
      expect(out).toContain("\\u{1B}");
    }
  });
});
