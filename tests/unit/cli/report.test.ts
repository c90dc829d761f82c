import { describe, expect, it } from "vitest";
import { Journal } from "../../../local/push/journal.ts";
import { formatReport, runReport } from "../../../local/push/report.ts";

function journalWithRun() {
  const journal = new Journal(":memory:");
  const run = journal.createRun({
    runId: "r1",
    startedAt: "2026-12-01T10:00:00.000Z",
    root: "/data",
    mode: "drop",
    target: "s3://airlock-ingest/drops/x/",
    settings: {},
  });
  journal.record("r1", 'a, "quoted".pdf', { outcome: "uploaded", size: 10, verdict: "VERIFIED" });
  journal.record("r1", "=cmd.csv", { outcome: "refused", reason: "Files of type text/x are not accepted" });
  journal.record("r1", "b.exe", {
    outcome: "uploaded",
    size: 3,
    verdict: "INFECTED",
    verdictReasons: ["Airlock.Executable.PE"],
  });
  return { journal, run };
}

describe("Function: formatReport", () => {
  it("exports CSV with quoting and neutralised formulas", () => {
    const { journal, run } = journalWithRun();
    const lines = formatReport(runReport(journal, run), "csv").trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "path,outcome,reason,size,sha256,key,fileId,duplicateOf,attempts,verdict,verdictReasons,updatedAt",
    );
    expect(lines).toHaveLength(4);
    expect(lines.find((l) => l.startsWith('"a,'))).toMatch(/^"a, ""quoted"".pdf",uploaded,,10,/);
    expect(lines.find((l) => l.includes("cmd"))).toMatch(/^'=cmd\.csv,refused,Files of type/);
    expect(lines.find((l) => l.startsWith("b.exe"))).toMatch(/,INFECTED,Airlock\.Executable\.PE,/);
  });

  it("exports JSON with the run, counts and every file", () => {
    const { journal, run } = journalWithRun();
    const report = JSON.parse(formatReport(runReport(journal, run), "json"));
    expect(report.run.runId).toBe("r1");
    expect(report.outcomes).toEqual({ uploaded: 2, refused: 1 });
    expect(report.verdicts).toEqual({ VERIFIED: 1, INFECTED: 1 });
    expect(report.files).toHaveLength(3);
  });

  it("prints a table with the verdict's reasons for held files and the refusal's reason", () => {
    const { journal, run } = journalWithRun();
    const text = formatReport(runReport(journal, run), "text");
    expect(text).toMatch(/^Run r1 \(running\)/);
    expect(text).toMatch(/^uploaded +INFECTED +3 bytes +b\.exe +Airlock\.Executable\.PE$/m);
    expect(text).toMatch(/^refused +=cmd\.csv +Files of type text\/x are not accepted$/m);
  });
});
