/**
 * `airlock push` through the HTTP API on the local stack: a bearer token or OAuth client credentials, the
 * journal and dedup against the user's VERIFIED files, the API's own refusal sentences, multipart uploads,
 * retries of transient API errors (injected by a proxy in front of the gateway), and resume after SIGKILL.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../../local/gateway.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { pdf } from "../fixtures/documents.ts";
import { airlock, STACK_LINE, startAirlock } from "../support/cli.ts";
import { pollDeadline } from "../support/deadline.ts";
import { type Fault, type FaultProxy, type SeenRequest, startFaultProxy } from "../support/fault-proxy.ts";

let stack: LocalStack;
let dir: string;
let home: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-push-api-"));
  home = join(dir, "home");
  stack = await startLocalStack({
    stateFile: join(home, "local.json"),
    sweepIntervalMs: 3_600_000,
    maxSizeBytes: 16 * 1024 * 1024,
    multipartThresholdBytes: 6 * 1024 * 1024,
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

const token = (sub: string) => mintToken(stack.state.api, { sub });

async function filesOf(sub: string): Promise<{ name: string; status: string; sha256?: string }[]> {
  const res = await fetch(`${stack.state.api.url}/files?limit=100`, {
    headers: { authorization: `Bearer ${await token(sub)}` },
  });
  return ((await res.json()) as { files: { name: string; status: string }[] }).files;
}

/**
 * A user's files once `done` holds for them. A push without `--wait` returns when its uploads landed; the
 * pipeline registers each file a moment later, so a listing right after it may not show them yet.
 */
async function filesOnceListed(sub: string, done: (files: { name: string }[]) => boolean) {
  const deadline = pollDeadline(30_000);
  for (;;) {
    const files = await filesOf(sub);
    if (done(files)) return files;
    if (deadline.passed()) return files; // the caller's assertion says what is missing
    await deadline.sleep(50);
  }
}

interface Report {
  run: { runId: string; state: string; sessions: number };
  files: {
    path: string;
    outcome: string;
    reason?: string;
    attempts: number;
    verdict?: string;
    fileId?: string;
  }[];
}
const report = async (h = home): Promise<Report> => {
  const out = await airlock(["push", "--report", "latest", "--format", "json"], { home: h });
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as Report;
};
const byPath = (r: Report) => Object.fromEntries(r.files.map((f) => [f.path, f]));

/** A proxy in front of the gateway that sees each POST /uploads with its file name. */
async function gatewayProxy(rule: (req: SeenRequest, filename?: string) => Fault | Promise<Fault>) {
  return startFaultProxy(
    stack.state.api.url,
    (req) => {
      const filename =
        req.method === "POST" && req.url === "/uploads" && req.body
          ? (JSON.parse(req.body) as { filename?: string }).filename
          : undefined;
      return rule(req, filename);
    },
    { captureBodies: true },
  );
}
const presigns = (proxy: FaultProxy, filename: string) =>
  proxy.requests.filter(
    (r) => r.method === "POST" && r.url === "/uploads" && r.body && JSON.parse(r.body).filename === filename,
  ).length;

describe("CLI: airlock push (through the API)", () => {
  it("uploads with a token: journal, dedup, the API's refusal, multipart, verdicts", {
    timeout: 90_000,
  }, async () => {
    const root = await tree("token", {
      "x.txt": "x marks the spot\n",
      "y.pdf": pdf({ pages: 1, text: "why" }),
      "again/x-again.txt": "x marks the spot\n",
      "big.txt": "b".repeat(17 * 1024 * 1024),
      "mid.txt": "All work and no play makes a dull report.\n".repeat(300_000),
    });
    const jwt = await token("alice");
    const first = await airlock(["push", root, "--token", jwt, "--wait", "--json"], { home });
    expect(first.code, first.stderr).toBe(1); // big.txt is refused
    expect(first.stderr).toMatch(/\(API uploads as alice\)/);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({ mode: "api", uploaded: 3, duplicate: 1, refused: 1, failed: 0 });
    expect(summary.verdicts).toEqual({ VERIFIED: 3 });
    const files = byPath(await report());
    expect(files["big.txt"]).toMatchObject({ outcome: "refused", attempts: 1 });
    expect(files["big.txt"]?.reason).toMatch(/^The file is 17825792 bytes; the limit is 16777216 bytes$/);
    // Of two files with the same content, the one whose hash is ready first is sent (files are hashed
    // concurrently), the other is its duplicate.
    const [original, copy] =
      files["x.txt"]?.outcome === "uploaded"
        ? ["x.txt", "again/x-again.txt"]
        : ["again/x-again.txt", "x.txt"];
    expect(files[copy]).toMatchObject({
      outcome: "duplicate",
      reason: `same content as ${original} in this run`,
    });
    expect(files["mid.txt"]).toMatchObject({ outcome: "uploaded", verdict: "VERIFIED" });
    const owned = await filesOf("alice");
    expect(owned.map((f) => f.name).sort()).toEqual(
      ["mid.txt", original === "x.txt" ? "x.txt" : "x-again.txt", "y.pdf"].sort(),
    );

    const second = await airlock(["push", root, "--token", jwt, "--json"], { home });
    expect(JSON.parse(second.stdout)).toMatchObject({ uploaded: 0, duplicate: 4, refused: 1 });
    expect(byPath(await report())["y.pdf"]?.reason).toMatch(/^already VERIFIED as y\.pdf \([a-z0-9]{26}\)$/);
    // Another user's VERIFIED files are not theirs: bob uploads his own copies.
    const bob = await airlock(
      ["push", root, "--token", await token("bob"), "--exclude", "big.txt", "--json"],
      { home },
    );
    expect(JSON.parse(bob.stdout)).toMatchObject({ uploaded: 3, duplicate: 1 });
  });

  it("gets its tokens with OAuth client credentials, and says so when they are refused", async () => {
    let server: Server | undefined;
    try {
      server = createServer(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const form = new URLSearchParams(Buffer.concat(chunks).toString());
        const [id, secret] = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64")
          .toString()
          .split(":");
        res.setHeader("content-type", "application/json");
        if (form.get("grant_type") !== "client_credentials" || id !== "ingest-bot" || secret !== "s3cret") {
          res.writeHead(401).end(JSON.stringify({ error: "invalid_client" }));
          return;
        }
        const accessToken = await mintToken(stack.state.api, { sub: "ingest-bot", ttlSeconds: 300 });
        res.end(JSON.stringify({ access_token: accessToken, token_type: "Bearer", expires_in: 300 }));
      });
      await new Promise<void>((r) => server?.listen(0, "127.0.0.1", () => r()));
      const tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/token`;
      const root = await tree("bot", { "report.txt": `bot report ${randomBytes(4).toString("hex")}\n` });
      const args = ["push", root, "--client-id", "ingest-bot", "--token-url", tokenUrl, "--json"];
      const ok = await airlock(args, { home, env: { AIRLOCK_CLIENT_SECRET: "s3cret" } });
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({
        uploaded: 1,
        target: expect.stringContaining("as ingest-bot"),
      });
      const listed = await filesOnceListed("ingest-bot", (files) => files.length > 0);
      expect(listed.map((f) => f.name)).toEqual(["report.txt"]);
      const refused = await airlock(args, { home, env: { AIRLOCK_CLIENT_SECRET: "wrong" } });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^airlock: The token endpoint refused the client credentials \(401: invalid_client\)$/m,
      );
      expect(refused.stderr).not.toMatch(STACK_LINE);
    } finally {
      server?.closeAllConnections();
      await new Promise((r) => server?.close(r));
    }
  });

  it("retries transient API errors, reports refusals, fails after the retries", async () => {
    const root = await tree("api-faults", {
      "flaky.txt": "flaky\n",
      "teapot.txt": "teapot\n",
      "gone.txt": "gone\n",
      "fine.txt": "fine\n",
    });
    const seen = new Map<string, number>();
    const proxy = await gatewayProxy((_req, filename) => {
      if (!filename) return undefined;
      const n = (seen.get(filename) ?? 0) + 1;
      seen.set(filename, n);
      if (filename === "flaky.txt" && n <= 2)
        return { status: 503, contentType: "application/json", body: '{"message":"Service Unavailable"}' };
      if (filename === "teapot.txt")
        return {
          status: 422,
          contentType: "application/json",
          body: '{"message":"Invalid request: filename is not welcome"}',
        };
      if (filename === "gone.txt") return { reset: true };
      return undefined;
    });
    try {
      const out = await airlock(
        [
          "push",
          root,
          "--token",
          await token("carol"),
          "--api",
          proxy.url,
          "--retries",
          "2",
          "--retry-delay",
          "20",
          "--json",
        ],
        { home },
      );
      expect(out.code).toBe(1);
      expect(JSON.parse(out.stdout)).toMatchObject({ uploaded: 2, refused: 1, failed: 1 });
      const files = byPath(await report());
      expect(files["flaky.txt"]).toMatchObject({ outcome: "uploaded", attempts: 3 });
      expect(presigns(proxy, "flaky.txt")).toBe(3);
      expect(files["teapot.txt"]).toMatchObject({
        outcome: "refused",
        attempts: 1,
        reason: "Invalid request: filename is not welcome",
      });
      expect(presigns(proxy, "teapot.txt")).toBe(1);
      expect(files["gone.txt"]).toMatchObject({ outcome: "failed", attempts: 3 });
      expect(files["gone.txt"]?.reason).toMatch(/cannot be reached/);
    } finally {
      await proxy.stop();
    }
  });

  it("resumes a run killed half way without uploading again what had landed", {
    timeout: 120_000,
  }, async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 100; i++)
      files[`f${String(i).padStart(3, "0")}.txt`] = `api line ${i}\n`.repeat(10 + i);
    const root = await tree("api-resume", files);
    const proxy = await gatewayProxy((_req, filename) => (filename ? { delayMs: 50 } : undefined));
    const apiHome = join(dir, "api-resume-home");
    await mkdir(apiHome, { recursive: true });
    await writeFile(join(apiHome, "local.json"), JSON.stringify(stack.state));
    try {
      const jwt = await token("dave");
      const args = ["--token", jwt, "--api", proxy.url];
      const started = startAirlock(["push", root, ...args, "--upload-concurrency", "2"], { home: apiHome });
      const uploaded = () => {
        try {
          const db = new DatabaseSync(join(apiHome, "push.sqlite"), { readOnly: true });
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
      while (uploaded() < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      started.child.kill("SIGKILL");
      await started.exited;
      const killed = await report(apiHome);
      const landed = killed.files.filter((f) => f.outcome === "uploaded").map((f) => f.path);
      expect(landed.length).toBeGreaterThanOrEqual(40);
      expect(landed.length).toBeLessThan(100);

      // A resumed API run needs its credentials again: they are never kept in the journal.
      const noToken = await airlock(["push", "--resume", "latest"], { home: apiHome });
      expect(noToken.code).toBe(2);
      expect(noToken.stderr).toMatch(/give --token or --client-id again/);

      const before = proxy.requests.length;
      const resumed = await airlock(["push", "--resume", "latest", ...args, "--json"], { home: apiHome });
      expect(resumed.code, resumed.stderr).toBe(0);
      const summary = JSON.parse(resumed.stdout);
      expect(summary).toMatchObject({
        runId: killed.run.runId,
        earlier: landed.length,
        uploaded: 100 - landed.length,
      });
      const after = await report(apiHome);
      expect(after.files.every((f) => f.outcome === "uploaded")).toBe(true);
      for (const path of landed) expect(presigns(proxy, path), path).toBe(1);
      const newPresigns = proxy.requests
        .slice(before)
        .filter((r) => r.method === "POST" && r.url === "/uploads").length;
      expect(newPresigns).toBeLessThanOrEqual(100 - landed.length);
      // Each file is one of dave's files, once.
      const names = (await filesOnceListed("dave", (files) => files.length >= 100)).map((f) => f.name);
      expect(names.length).toBeGreaterThanOrEqual(100);
    } finally {
      await proxy.stop();
    }
  });
});
