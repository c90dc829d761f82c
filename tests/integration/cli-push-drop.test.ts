/**
 * `airlock push` as direct drops (drops/<system>/…) on the local stack, run as a separate process: the journal,
 * deduplication within a run and against VERIFIED content, verdicts with --wait, retries of transient S3 errors
 * and refusals (injected by a proxy in front of the S3 emulator), resume after SIGKILL without sending again
 * what landed, and a file changing during its upload never landing.
 */
import { appendFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeKey } from "../../core/domain/keys.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { pdf } from "../fixtures/documents.ts";
import { airlock, STACK_LINE, startAirlock } from "../support/cli.ts";
import {
  type Fault,
  type FaultProxy,
  type SeenRequest,
  s3ErrorBody,
  startFaultProxy,
} from "../support/fault-proxy.ts";
import { clientsFor } from "../support/local.ts";

let stack: LocalStack;
let dir: string;
let home: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-push-drop-"));
  home = join(dir, "home");
  stack = await startLocalStack({
    stateFile: join(home, "local.json"),
    sweepIntervalMs: 3_600_000,
    maxSizeBytes: 16 * 1024 * 1024,
  });
});
afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function tree(name: string, files: Record<string, string | Uint8Array>): Promise<string> {
  const root = join(dir, name);
  for (const [rel, body] of Object.entries(files)) {
    await mkdir(join(root, rel, ".."), { recursive: true });
    await writeFile(join(root, rel), body);
  }
  return root;
}

/** A state folder whose S3 endpoint is a fault proxy in front of the emulator. */
async function proxiedHome(
  name: string,
  rule: (req: SeenRequest) => Fault | Promise<Fault>,
): Promise<{ home: string; proxy: FaultProxy }> {
  const proxy = await startFaultProxy(stack.state.endpoints.s3, rule);
  const proxied = join(dir, name);
  await mkdir(proxied, { recursive: true });
  const state = { ...stack.state, endpoints: { ...stack.state.endpoints, s3: proxy.url } };
  await writeFile(join(proxied, "local.json"), JSON.stringify(state));
  return { home: proxied, proxy };
}

const keyOf = (req: SeenRequest) =>
  decodeURIComponent(new URL(req.url, "http://x").pathname.replace(/^\/airlock-ingest\//, ""));
const puts = (proxy: FaultProxy, key: string) =>
  proxy.requests.filter((r) => r.method === "PUT" && keyOf(r) === key).length;

interface Report {
  run: { runId: string; state: string; sessions: number };
  files: {
    path: string;
    outcome: string;
    reason?: string;
    attempts: number;
    verdict?: string;
    verdictReasons?: string[];
    duplicateOf?: string;
  }[];
}
const report = async (args: string[], h = home): Promise<Report> => {
  const out = await airlock(["push", "--report", ...args, "--format", "json"], { home: h });
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as Report;
};
const byPath = (r: Report) => Object.fromEntries(r.files.map((f) => [f.path, f]));

describe("CLI: airlock push (direct drops)", () => {
  it("journals every file, deduplicates within the run and against VERIFIED content, and records verdicts", async () => {
    const root = await tree("journal", {
      "a.txt": "alpha report\n",
      "docs/b.pdf": pdf({ pages: 1, text: "bravo" }),
      "docs/copy-of-a.txt": "alpha report\n",
      "c.csv": "name,amount\nx,1\n",
      "fake.pdf": "this is not a PDF at all\n",
    });
    await symlink("/etc/hostname", join(root, "docs", "link.txt"));

    const first = await airlock(["push", root, "--system", "journal", "--wait", "--json"], { home });
    expect(first.code, first.stderr).toBe(1); // fake.pdf is REJECTED
    expect(first.stderr).toMatch(/^Run \d{8}-\d{6}-[0-9a-f]{4}: pushing /);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({ files: 5, uploaded: 4, duplicate: 1, refused: 0, failed: 0, skipped: 1 });
    expect(summary.verdicts).toEqual({ VERIFIED: 3, REJECTED: 1 });

    const files = byPath(await report([summary.runId]));
    // Of two files with the same content, the one whose hash is ready first is sent (files are hashed
    // concurrently), the other is its duplicate.
    const [original, copy] =
      files["a.txt"]?.outcome === "uploaded"
        ? ["a.txt", "docs/copy-of-a.txt"]
        : ["docs/copy-of-a.txt", "a.txt"];
    expect(files[copy]).toMatchObject({
      outcome: "duplicate",
      reason: `same content as ${original} in this run`,
    });
    expect(files["docs/link.txt"]).toMatchObject({
      outcome: "skipped",
      reason: "symbolic link, not followed",
    });
    expect(files["fake.pdf"]?.verdict).toBe("REJECTED");
    expect(files["fake.pdf"]?.verdictReasons?.length).toBeGreaterThan(0);
    expect(files[original]).toMatchObject({ outcome: "uploaded", verdict: "VERIFIED", attempts: 1 });
    const record = await clientsFor(stack).records.get(
      describeKey(stack.state.ingestBucket, "drops/journal/docs/b.pdf").fileId,
    );
    expect(record?.status).toBe("VERIFIED");

    // Again: what is VERIFIED for the system is not sent twice; the rejected file is.
    const second = await airlock(["push", root, "--system", "journal", "--json"], { home });
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ uploaded: 1, duplicate: 4 });
    const again = byPath(await report(["latest"]));
    expect(again["docs/b.pdf"]?.reason).toMatch(/^already VERIFIED as docs\/b\.pdf \([a-z0-9]{26}\)$/);
    expect(again["fake.pdf"]?.outcome).toBe("uploaded");

    // The human report and a CSV export of the same run.
    const text = await airlock(["push", "--report", summary.runId], { home });
    expect(text.stdout).toMatch(/^uploaded +REJECTED +\d+ bytes +fake\.pdf +\S/m);
    const csvFile = join(dir, "run.csv");
    expect((await airlock(["push", "--report", summary.runId, "--output", csvFile], { home })).code).toBe(0);
    const csv = (await readFile(csvFile, "utf8")).split("\r\n");
    expect(csv[0]).toMatch(/^path,outcome,reason,/);
    expect(csv.some((l) => l.startsWith(`${copy},duplicate,same content as ${original} in this run,`))).toBe(
      true,
    );
    const runs = await airlock(["push", "--runs"], { home });
    expect(runs.stdout).toContain(summary.runId);
  });

  it("retries transient S3 errors with backoff, and reports refusals without retrying them", async () => {
    const root = await tree("faults", {
      "flaky.txt": "flaky\n",
      "denied.txt": "denied\n",
      "down.txt": "down\n",
      "fine.txt": "fine\n",
    });
    const seen = new Map<string, number>();
    const { home: proxied, proxy } = await proxiedHome("faults-home", (req) => {
      if (req.method !== "PUT") return undefined;
      const key = keyOf(req);
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      if (key.endsWith("/flaky.txt") && n <= 4)
        return { status: 503, body: s3ErrorBody("SlowDown", "Please reduce your request rate.") };
      if (key.endsWith("/down.txt"))
        return { status: 503, body: s3ErrorBody("ServiceUnavailable", "Down for maintenance") };
      if (key.endsWith("/denied.txt"))
        return { status: 403, body: s3ErrorBody("AccessDenied", "Access Denied") };
      return undefined;
    });
    try {
      const out = await airlock(
        ["push", root, "--system", "faults", "--retries", "2", "--retry-delay", "20", "--json"],
        {
          home: proxied,
        },
      );
      expect(out.code).toBe(1);
      expect(out.stderr).not.toMatch(STACK_LINE);
      expect(JSON.parse(out.stdout)).toMatchObject({ uploaded: 2, refused: 1, failed: 1 });
      const files = byPath(await report(["latest"], proxied));
      // The SDK tries each request 3 times; the push retries the file on top of that.
      expect(files["flaky.txt"]).toMatchObject({ outcome: "uploaded", attempts: 2 });
      expect(files["denied.txt"]).toMatchObject({ outcome: "refused", attempts: 1 });
      expect(files["denied.txt"]?.reason).toMatch(/S3 refused the drop \(403 AccessDenied\): Access Denied/);
      expect(puts(proxy, "drops/faults/denied.txt")).toBe(1);
      expect(files["down.txt"]).toMatchObject({ outcome: "failed", attempts: 3 });
      expect(files["down.txt"]?.reason).toMatch(/Down for maintenance|ServiceUnavailable/);
      expect(puts(proxy, "drops/faults/down.txt")).toBe(9);
      const human = await airlock(["push", "--report", "latest"], { home: proxied });
      expect(human.stdout).toMatch(/^refused +\d+ bytes +denied\.txt +S3 refused the drop/m);
    } finally {
      await proxy.stop();
    }
  });

  it("resumes a run killed half way without sending again what had landed", {
    timeout: 120_000,
  }, async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 150; i++)
      files[`batch/${String(i).padStart(3, "0")}.txt`] = `line ${i}\n`.repeat(20 + i);
    const root = await tree("resume", files);
    const { home: proxied, proxy } = await proxiedHome("resume-home", (req) =>
      req.method === "PUT" ? { delayMs: 40 } : undefined,
    );
    try {
      const started = startAirlock(["push", root, "--system", "resume", "--upload-concurrency", "2"], {
        home: proxied,
      });
      const journalFile = join(proxied, "push.sqlite");
      const uploaded = () => {
        try {
          const db = new DatabaseSync(journalFile, { readOnly: true });
          try {
            return Number(
              (
                db.prepare("SELECT COUNT(*) AS n FROM files WHERE outcome = 'uploaded'").get() as {
                  n: number;
                }
              ).n,
            );
          } finally {
            db.close();
          }
        } catch {
          return 0;
        }
      };
      const deadline = Date.now() + 60_000;
      while (uploaded() < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      started.child.kill("SIGKILL");
      expect((await started.exited).signal).toBe("SIGKILL");

      const killed = await report(["latest"], proxied);
      expect(killed.run.state).toBe("running");
      const landed = killed.files.filter((f) => f.outcome === "uploaded").map((f) => f.path);
      expect(landed.length).toBeGreaterThanOrEqual(60);
      expect(landed.length).toBeLessThan(150);
      const putsBefore = proxy.requests.filter((r) => r.method === "PUT").length;

      const resumed = await airlock(["push", "--resume", "latest", "--json"], { home: proxied });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(/: resuming /);
      const summary = JSON.parse(resumed.stdout);
      expect(summary.runId).toBe(killed.run.runId);
      expect(summary.earlier).toBe(landed.length);
      expect(summary.uploaded).toBe(150 - landed.length);

      const after = await report(["latest"], proxied);
      expect(after.run).toMatchObject({ state: "finished", sessions: 2 });
      expect(after.files.every((f) => f.outcome === "uploaded")).toBe(true);
      for (const path of landed) expect(puts(proxy, `drops/resume/${path}`), path).toBe(1);
      // Only what was missing went out again: at most the two uploads in flight at the kill were sent twice.
      const putsAfter = proxy.requests.filter((r) => r.method === "PUT").length - putsBefore;
      expect(putsAfter).toBeGreaterThanOrEqual(150 - landed.length - 2);
      expect(putsAfter).toBeLessThanOrEqual(150 - landed.length);
    } finally {
      await proxy.stop();
    }
  });

  it("stops cleanly on Ctrl-C: journal closed as interrupted, exit 130, and says how to resume", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`s${i}.txt`] = `stop ${i}\n`;
    const root = await tree("interrupt", files);
    const { home: proxied, proxy } = await proxiedHome("interrupt-home", (req) =>
      req.method === "PUT" ? { delayMs: 100 } : undefined,
    );
    try {
      const started = startAirlock(["push", root, "--system", "interrupt", "--upload-concurrency", "1"], {
        home: proxied,
      });
      const deadline = Date.now() + 30_000;
      while (proxy.requests.filter((r) => r.method === "PUT").length < 3 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      started.child.kill("SIGINT");
      expect((await started.exited).code).toBe(130);
      const { stdout, stderr } = started.output();
      expect(stderr).toMatch(/Stopping: finishing the journal/);
      expect(stdout).toMatch(/^Interrupted \S+ to s3:\/\/airlock-ingest\/drops\/interrupt\/ in /);
      const runId = /Resume with: airlock push --resume (\S+)/.exec(stdout)?.[1];
      expect(runId).toBeDefined();
      const killed = await report([runId as string], proxied);
      expect(killed.run.state).toBe("interrupted");
      expect(killed.files.filter((f) => f.outcome === "uploaded").length).toBeLessThan(40);
    } finally {
      await proxy.stop();
    }
  });

  it("never lets a file that changes during its upload land", { timeout: 60_000 }, async () => {
    const root = await tree("torn", { "growing.log": Buffer.alloc(60 * 1024 * 1024, 0x61) });
    let appended = false;
    const { home: proxied, proxy } = await proxiedHome("torn-home", async (req) => {
      if (req.method === "PUT" && req.url.includes("partNumber=")) {
        if (!appended) {
          appended = true;
          await appendFile(join(root, "growing.log"), "another line\n");
        }
        return { delayMs: 200 };
      }
      return undefined;
    });
    try {
      const out = await airlock(["push", root, "--system", "torn", "--part-size", "5", "--json"], {
        home: proxied,
      });
      expect(out.code).toBe(1);
      expect(JSON.parse(out.stdout)).toMatchObject({ uploaded: 0, failed: 1 });
      const files = byPath(await report(["latest"], proxied));
      expect(files["growing.log"]?.reason).toMatch(/changed|grew/);
      expect(appended).toBe(true);
      // The multipart upload was aborted, never completed: no object.
      const completes = proxy.requests.filter((r) => r.method === "POST" && r.url.includes("uploadId="));
      expect(completes).toEqual([]);
      expect(proxy.requests.some((r) => r.method === "DELETE" && r.url.includes("uploadId="))).toBe(true);
      const { s3 } = clientsFor(stack);
      await expect(
        s3.send(new HeadObjectCommand({ Bucket: stack.state.ingestBucket, Key: "drops/torn/growing.log" })),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    } finally {
      await proxy.stop();
    }
  });
});
