/**
 * The `airlock` command as a user runs it: a separate process against a local stack whose state file it finds
 * (from any folder below it, or through AIRLOCK_HOME), dropping files, waiting for verdicts, listing, reading
 * notifications, and saying plainly what went wrong.
 */
import { appendFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { pdf, png } from "../fixtures/documents.ts";
import { airlock, STACK_LINE } from "../support/cli.ts";

let stack: LocalStack;
let dir: string;
let home: string;
const run = (args: string[], options: { cwd?: string } = {}) =>
  airlock(args, options.cwd ? { cwd: options.cwd } : { home });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-cli-"));
  home = join(dir, ".airlock");
  await mkdir(home, { recursive: true });
  const outbox = join(home, "outbox.jsonl");
  await writeFile(outbox, "");
  stack = await startLocalStack({
    stateFile: join(home, "local.json"),
    sweepIntervalMs: 3_600_000,
    onNotification: (n) => appendFileSync(outbox, `${JSON.stringify(n)}\n`),
  });
});
afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("CLI: airlock against the local stack", () => {
  it("drops files, waits for their verdicts and lists them by type", async () => {
    const report = join(dir, "report 1+1 ✓.pdf");
    await writeFile(report, pdf({ pages: 2, text: "quarterly report" }));
    const image = join(dir, "pixel.png");
    await writeFile(image, png(40, 30));
    const dropped = await Promise.all(
      [report, image].map((f) => run(["drop", f, "--system", "cli", "--json"])),
    );
    expect(dropped.map((d) => d.code)).toEqual([0, 0]);
    const [pdfId, pngId] = dropped.map((d) => JSON.parse(d.stdout).fileId as string);
    expect(JSON.parse(dropped[0]?.stdout ?? "").key).toBe("drops/cli/report 1+1 ✓.pdf");

    const status = await run(["status", String(pdfId), "--wait", "--json"]);
    expect(status.code).toBe(0);
    const record = JSON.parse(status.stdout);
    expect(record.status, JSON.stringify(record.reasons)).toBe("VERIFIED");
    expect(record.stages.metadata.facts.pdf.pages).toBe(2);
    expect((await run(["status", String(pngId), "--wait", "--json"])).code).toBe(0);

    const human = await run(["status", String(pdfId)]);
    expect(human.stdout).toMatch(/VERIFIED/);
    const pdfs = JSON.parse((await run(["list", "--type", "pdf", "--json"])).stdout) as { fileId: string }[];
    expect(pdfs.map((r) => r.fileId)).toContain(pdfId);
    expect(pdfs.map((r) => r.fileId)).not.toContain(pngId);
    const verified = JSON.parse((await run(["list", "--status", "verified", "--json"])).stdout) as {
      fileId: string;
    }[];
    expect(verified.map((r) => r.fileId)).toEqual(expect.arrayContaining([pdfId, pngId]));
  });

  it("speaks in sentences and columns by default, and stays quiet on stderr when piped", async () => {
    const file = join(dir, "minutes.txt");
    await writeFile(file, "Minutes of the meeting\nAll present.\n");
    const dropped = await run(["drop", file, "--system", "board"]);
    expect(dropped.code).toBe(0);
    expect(dropped.stdout).toMatch(
      /^Dropped minutes\.txt \(\d+ bytes\) into s3:\/\/airlock-ingest\/drops\/board\/minutes\.txt\./,
    );
    const fileId = /File id ([a-z0-9]{26})/.exec(dropped.stdout)?.[1] as string;
    expect(fileId).toBeDefined();
    expect(dropped.stderr).toBe("");

    const waited = await run(["status", fileId, "--wait"]);
    expect(waited.code).toBe(0);
    expect(waited.stderr).toBe("");
    expect(waited.stdout).toMatch(new RegExp(`^${fileId}  VERIFIED  s3://`));

    const listed = await run(["list", "--system", "board"]);
    const [header, row] = listed.stdout.split("\n");
    expect(header).toMatch(/^ID +STATUS +SIZE +TYPE +DATE +NAME$/);
    expect(row).toMatch(
      new RegExp(
        `^${fileId}  VERIFIED +\\d+ bytes +txt +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d +board/minutes\\.txt$`,
      ),
    );

    await stack.idle();
    const notes = await run(["notifications", "--limit", "50"]);
    expect(notes.code).toBe(0);
    const entry = notes.stdout.split("\n\n").find((n) => n.includes("minutes.txt"));
    expect(entry, notes.stdout).toBeDefined();
    // The body is shown, indented under its subject.
    expect(entry?.split("\n")[1]).toMatch(/^ {4}\S/);
    expect(entry?.split("\n").length).toBeGreaterThan(2);
    const json = JSON.parse((await run(["notifications", "--json", "--limit", "1"])).stdout) as {
      message: string;
    }[];
    expect(json).toHaveLength(1);
    expect(json[0]?.message.length).toBeGreaterThan(0);
  });

  it("finds the stack from any folder below it, without AIRLOCK_HOME", async () => {
    const deep = join(dir, "projects", "a", "b");
    await mkdir(deep, { recursive: true });
    const listed = await run(["list", "--json"], { cwd: deep });
    expect(listed.code, listed.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(listed.stdout))).toBe(true);
  });

  it("drops a large file as a multipart upload and waits with --wait", async () => {
    const big = join(dir, "big.txt");
    const text = "All work and no play makes a dull report.\n".repeat(500_000);
    await writeFile(big, text);
    const out = await run(["drop", big, "--system", "bulk", "--wait", "--json"]);
    expect(out.code, out.stderr).toBe(0);
    const record = JSON.parse(out.stdout);
    expect(record).toMatchObject({ status: "VERIFIED", key: "drops/bulk/big.txt", size: text.length });
    expect(text.length).toBeGreaterThan(2 * 8 * 1024 * 1024);
  });

  it("mints a token the local API accepts, as text or JSON", async () => {
    const text = await run(["token", "--sub", "carol"]);
    expect(text.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const json = JSON.parse((await run(["token", "--sub", "carol", "--ttl", "60", "--json"])).stdout);
    expect(json).toMatchObject({ sub: "carol", issuer: stack.state.api.issuer });
    const res = await fetch(`${stack.state.api.url}/files`, {
      headers: { authorization: `Bearer ${json.token}` },
    });
    expect(res.status).toBe(200);
  });

  it("answers unknown ids, bad flags, a timeout and a missing stack with a sentence and a non-zero exit", async () => {
    const unknown = await run(["status", "NOSUCHFILE"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No file with id NOSUCHFILE/);
    const badStatus = await run(["list", "--status", "SHINY"]);
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toMatch(/Unknown status/);
    const timeout = await run(["status", "nosuchfileyet", "--wait", "--timeout", "0.5"]);
    expect(timeout.code).toBe(1);
    expect(timeout.stderr).toMatch(/timed out after 0\.5 s: nosuchfileyet is not registered yet/);
    const noStack = await airlock(["list"], { home: join(dir, "nowhere") });
    expect(noStack.code).toBe(1);
    expect(noStack.stderr).toMatch(/No local Airlock stack is running/);
    for (const out of [unknown, badStatus, timeout, noStack]) expect(out.stderr).not.toMatch(STACK_LINE);
  });
});
