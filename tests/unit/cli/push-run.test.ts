/** The push pipeline on a fake target (an in-memory implementation of the PushTarget port) and a real tree. */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SILENT } from "../../../local/cli/progress.ts";
import { Journal, type RunRow } from "../../../local/push/journal.ts";
import { HttpStatusError, RefusedError } from "../../../local/push/retry.ts";
import { type PushOptions, runPush } from "../../../local/push/run.ts";
import type { KnownContent, PushTarget, Uploaded, UploadInput, Verdict } from "../../../local/push/target.ts";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

class FakeTarget implements PushTarget {
  readonly mode = "drop" as const;
  readonly description = "fake://drops/";
  readonly stored = new Map<string, string>();
  readonly sends: string[] = [];
  verified = new Map<string, KnownContent>();
  /** Per path: errors to throw on the next sends. */
  failures = new Map<string, Error[]>();
  lookupError?: Error;
  verdicts = new Map<string, Verdict>();
  /** Called when a send starts (to interrupt half way). */
  onSend: (rel: string) => void = () => {};

  async check() {}
  destination(rel: string) {
    return `drops/fake/${rel}`;
  }
  async verifiedDigests() {
    if (this.lookupError) throw this.lookupError;
    return this.verified;
  }
  async upload(file: UploadInput): Promise<Uploaded> {
    this.sends.push(file.rel);
    this.onSend(file.rel);
    const key = this.destination(file.rel);
    file.planned({ key, fileId: `id-${file.rel}` });
    const queued = this.failures.get(file.rel);
    const failure = queued?.shift();
    if (failure) throw failure;
    const chunks: Buffer[] = [];
    for await (const c of await file.open()) chunks.push(c as Buffer);
    if (file.signal.aborted) throw new Error("aborted");
    this.stored.set(key, Buffer.concat(chunks).toString());
    return { key, fileId: `id-${file.rel}`, eTag: "e" };
  }
  async landed(file: { rel: string; sha256: string }) {
    const key = this.destination(file.rel);
    const body = this.stored.get(key);
    return body !== undefined && sha(body) === file.sha256 ? { key, fileId: `id-${file.rel}` } : undefined;
  }
  async verdict(fileId: string) {
    return this.verdicts.get(fileId) ?? { status: "VERIFIED", reasons: [], final: true };
  }
}

let root: string;
let journal: Journal;
let target: FakeTarget;
const FILES: Record<string, string> = {
  "a.txt": "alpha",
  "b.txt": "bravo",
  "sub/a-copy.txt": "alpha",
  "sub/c.txt": "charlie",
  "d.txt": "delta",
};

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "airlock-push-"));
  await mkdir(join(root, "sub"));
  for (const [rel, body] of Object.entries(FILES)) await writeFile(join(root, rel), body);
  journal = new Journal(":memory:");
  target = new FakeTarget();
});
afterEach(async () => {
  journal.close();
  await rm(root, { recursive: true, force: true });
});

const options = (over: Partial<PushOptions> = {}): PushOptions => ({
  root,
  include: [],
  exclude: [],
  hashConcurrency: 2,
  uploadConcurrency: 2,
  retries: 2,
  retryDelayMs: 1,
  dedup: true,
  wait: false,
  ...over,
});
let runs = 0;
const newRun = (): RunRow =>
  journal.createRun({
    runId: `run-${++runs}`,
    startedAt: new Date().toISOString(),
    root,
    mode: "drop",
    target: target.description,
    settings: {},
  });
const push = (run: RunRow, over: Partial<PushOptions> = {}, signal = new AbortController().signal) =>
  runPush(run, options(over), { journal, target, progress: SILENT, signal });
const outcomes = (run: RunRow) =>
  Object.fromEntries(journal.files(run.runId).map((f) => [f.path, f.outcome]));

describe("Function: runPush", () => {
  it("uploads each distinct content once and records the rest as duplicates", async () => {
    target.verified.set(sha("delta"), { fileId: "old-d", name: "earlier/d.txt" });
    const run = newRun();
    const summary = await push(run);
    expect(summary).toMatchObject({
      files: 5,
      uploaded: 3,
      duplicate: 2,
      refused: 0,
      failed: 0,
      state: "finished",
    });
    expect(outcomes(run)).toEqual({
      "a.txt": "uploaded",
      "b.txt": "uploaded",
      "d.txt": "duplicate",
      "sub/a-copy.txt": "duplicate",
      "sub/c.txt": "uploaded",
    });
    expect(journal.file(run.runId, "d.txt")?.reason).toBe("already VERIFIED as earlier/d.txt (old-d)");
    expect(journal.file(run.runId, "sub/a-copy.txt")?.reason).toBe("same content as a.txt in this run");
    expect([...target.stored.values()].sort()).toEqual(["alpha", "bravo", "charlie"]);
    expect(journal.run(run.runId)?.state).toBe("finished");
  });

  it("retries transient failures and records the attempts; refusals are not retried", async () => {
    target.failures.set("a.txt", [new HttpStatusError(503, "busy"), new HttpStatusError(500, "oops")]);
    target.failures.set("b.txt", [new RefusedError("Files of type x are not accepted")]);
    target.failures.set(
      "sub/c.txt",
      [1, 2, 3].map(() => new HttpStatusError(503, "still busy")),
    );
    const run = newRun();
    const summary = await push(run, { dedup: false });
    expect(summary).toMatchObject({ uploaded: 2, refused: 1, failed: 1 });
    expect(journal.file(run.runId, "a.txt")).toMatchObject({ outcome: "uploaded", attempts: 3 });
    expect(journal.file(run.runId, "b.txt")).toMatchObject({
      outcome: "refused",
      attempts: 1,
      reason: "Files of type x are not accepted",
    });
    expect(journal.file(run.runId, "sub/c.txt")).toMatchObject({
      outcome: "failed",
      attempts: 3,
      reason: "still busy",
    });
    expect(summary.problems.map((p) => p.path).sort()).toEqual(["b.txt", "sub/c.txt"]);
  });

  it("uploads nothing when the lookup of VERIFIED content fails", async () => {
    target.lookupError = new Error("API unreachable");
    const run = newRun();
    await expect(push(run)).rejects.toThrow(/Could not look up content already VERIFIED: API unreachable/);
    expect(target.sends).toEqual([]);
    expect(journal.run(run.runId)?.state).toBe("interrupted");
  });

  it("resumes a stopped run: settled files are left alone, landed ones are not sent again", async () => {
    const run = newRun();
    const controller = new AbortController();
    target.onSend = () => {
      if (target.sends.length === 2) controller.abort();
    };
    const first = await push(run, { uploadConcurrency: 1, dedup: false }, controller.signal);
    expect(first.state).toBe("interrupted");
    expect(journal.run(run.runId)?.state).toBe("interrupted");
    const before = outcomes(run);
    expect(Object.values(before)).toContain("uploading");
    const settledBefore = Object.entries(before)
      .filter(([, o]) => o === "uploaded")
      .map(([p]) => p);

    target.onSend = () => {};
    const sendsBefore = target.sends.length;
    journal.resumeRun(run.runId);
    const second = await push(run, { uploadConcurrency: 1, dedup: false });
    expect(second.state).toBe("finished");
    const resent = target.sends.slice(sendsBefore);
    for (const path of settledBefore) expect(resent).not.toContain(path);
    expect(second.earlier).toBe(settledBefore.length);
    expect(Object.values(outcomes(run)).every((o) => o === "uploaded" || o === "duplicate")).toBe(true);
    expect(journal.run(run.runId)?.sessions).toBe(2);
  });

  it("records an interrupted upload that landed (and is VERIFIED by now) as uploaded, not as a duplicate", async () => {
    const run = newRun();
    // What the stopped run left: a.txt marked uploading, its object landed and already judged VERIFIED.
    journal.record(run.runId, "a.txt", {
      outcome: "uploading",
      key: "drops/fake/a.txt",
      sha256: sha("alpha"),
    });
    target.stored.set("drops/fake/a.txt", "alpha");
    target.verified.set(sha("alpha"), { fileId: "id-a.txt", name: "a.txt" });
    journal.resumeRun(run.runId);
    const summary = await push(run, { include: ["a.txt"] });
    expect(summary).toMatchObject({ uploaded: 1, recovered: 1, duplicate: 0 });
    expect(journal.file(run.runId, "a.txt")).toMatchObject({
      outcome: "uploaded",
      reason: expect.stringMatching(/landed before/),
    });
    expect(target.sends).toEqual([]);
  });

  it("records a file that changed after hashing as failed, never sent", async () => {
    const run = newRun();
    // Change b.txt after it is hashed: the upload stream must refuse it.
    const original = target.upload.bind(target);
    target.upload = async (file) => {
      if (file.rel === "b.txt") await writeFile(join(root, "b.txt"), "bravo, edited");
      return original(file);
    };
    const summary = await push(run, { dedup: false });
    expect(journal.file(run.runId, "b.txt")).toMatchObject({
      outcome: "failed",
      reason: expect.stringMatching(/changed/),
    });
    expect(target.stored.has("drops/fake/b.txt")).toBe(false);
    expect(summary.failed).toBe(1);
  });

  it("collects verdicts into the journal with wait", async () => {
    target.verdicts.set("id-b.txt", {
      status: "REJECTED",
      reasons: ["declared txt but is exe"],
      final: true,
    });
    const run = newRun();
    const summary = await push(run, { wait: true, dedup: false, exclude: ["sub"] });
    expect(summary.verdicts).toEqual({ VERIFIED: 2, REJECTED: 1 });
    expect(journal.file(run.runId, "b.txt")).toMatchObject({
      verdict: "REJECTED",
      verdictReasons: ["declared txt but is exe"],
    });
    expect(summary.problems).toEqual([
      { path: "b.txt", outcome: "REJECTED", reason: "declared txt but is exe" },
    ]);
  });

  it("stops waiting at the deadline and counts what is not final", async () => {
    target.verdict = async () => ({ status: "PENDING", reasons: [], final: false });
    const run = newRun();
    const summary = await push(run, {
      wait: true,
      dedup: false,
      include: ["a.txt"],
      waitTimeoutSeconds: 0.2,
    });
    expect(summary.pendingVerdicts).toBe(1);
  });
});
