import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Journal, newRunId } from "../../../local/push/journal.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-journal-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const start = (journal: Journal, runId: string, startedAt = new Date().toISOString()) =>
  journal.createRun({
    runId,
    startedAt,
    root: "/data",
    mode: "drop",
    target: "drops/x/",
    settings: { retries: 2 },
  });

describe("Class: Journal", () => {
  it("keeps runs and file outcomes across reopenings (it is a file on disk)", () => {
    const file = join(dir, "push.sqlite");
    const first = new Journal(file);
    start(first, "run-1");
    first.record("run-1", "a.pdf", { outcome: "hashed", size: 10, mtimeMs: 1.5, sha256: "ab" });
    first.record("run-1", "a.pdf", { outcome: "uploading", key: "drops/x/a.pdf", attempts: 1 });
    first.close();
    const again = new Journal(file);
    expect(again.file("run-1", "a.pdf")).toMatchObject({
      outcome: "uploading",
      size: 10,
      mtimeMs: 1.5,
      sha256: "ab",
      key: "drops/x/a.pdf",
      attempts: 1,
    });
    expect(again.run("run-1")).toMatchObject({ state: "running", sessions: 1, settings: { retries: 2 } });
    again.close();
  });

  it("updates only the fields given, and clears those set to null", () => {
    const journal = new Journal(":memory:");
    start(journal, "r");
    journal.record("r", "f", { outcome: "uploading", reason: "attempt 1 failed; retrying" });
    journal.record("r", "f", { outcome: "uploaded", fileId: "id1", reason: null });
    journal.record("r", "f", {
      outcome: "uploaded",
      verdict: "REJECTED",
      verdictReasons: ["too big", "not a pdf"],
    });
    expect(journal.file("r", "f")).toMatchObject({
      outcome: "uploaded",
      fileId: "id1",
      reason: undefined,
      verdict: "REJECTED",
      verdictReasons: ["too big", "not a pdf"],
    });
  });

  it("counts outcomes and verdicts, finds the latest run and counts resumes", () => {
    const journal = new Journal(":memory:");
    start(journal, "old", "2026-01-01T00:00:00.000Z");
    start(journal, "new", "2026-02-01T00:00:00.000Z");
    journal.record("new", "a", { outcome: "uploaded", verdict: "VERIFIED" });
    journal.record("new", "b", { outcome: "uploaded", verdict: "VERIFIED" });
    journal.record("new", "c", { outcome: "duplicate" });
    journal.record("new", "d", { outcome: "refused", reason: "too large" });
    expect(journal.counts("new")).toEqual({
      outcomes: { uploaded: 2, duplicate: 1, refused: 1 },
      verdicts: { VERIFIED: 2 },
    });
    expect(journal.run("latest")?.runId).toBe("new");
    journal.endRun("new", "interrupted");
    journal.resumeRun("new");
    expect(journal.run("new")).toMatchObject({ state: "running", sessions: 2 });
    journal.endRun("new", "finished");
    expect(journal.run("new")?.finishedAt).toBeDefined();
    expect(journal.runs().map((r) => r.runId)).toEqual(["new", "old"]);
  });
});

describe("Function: newRunId", () => {
  it("is sortable by time and unique", () => {
    const a = newRunId(new Date("2026-12-01T19:42:33Z"));
    expect(a).toMatch(/^20261201-194233-[0-9a-f]{4}$/);
    expect(newRunId(new Date("2026-12-01T19:42:34Z")) > a).toBe(true);
  });
});
