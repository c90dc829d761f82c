/**
 * The `airlock` command as a user runs it: a separate process against a local stack whose state file it reads,
 * dropping files, waiting for verdicts, listing by status and type, and saying plainly what went wrong.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { pdf, png } from "../fixtures/documents.ts";

const BIN = resolve("local/bin/airlock.mjs");
let stack: LocalStack;
let dir: string;

async function airlock(args: string[], stateDir = dir) {
  try {
    const out = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: { ...process.env, AIRLOCK_STATE_DIR: stateDir },
    });
    return { code: 0, stdout: out.stdout, stderr: out.stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-cli-"));
  stack = await startLocalStack({ stateFile: join(dir, "local.json"), sweepIntervalMs: 3_600_000 });
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
    const dropped = await Promise.all([report, image].map((f) => airlock(["drop", f, "--system", "cli"])));
    expect(dropped.map((d) => d.code)).toEqual([0, 0]);
    const [pdfId, pngId] = dropped.map((d) => JSON.parse(d.stdout).fileId as string);
    expect(JSON.parse(dropped[0]?.stdout ?? "").key).toBe("drops/cli/report 1+1 ✓.pdf");

    const status = await airlock(["status", String(pdfId), "--wait", "--json"]);
    expect(status.code).toBe(0);
    const record = JSON.parse(status.stdout);
    expect(record.status, JSON.stringify(record.reasons)).toBe("VERIFIED");
    expect(record.stages.metadata.facts.pdf.pages).toBe(2);
    expect((await airlock(["status", String(pngId), "--wait", "--json"])).code).toBe(0);

    const human = await airlock(["status", String(pdfId)]);
    expect(human.stdout).toMatch(/VERIFIED/);
    const pdfs = JSON.parse((await airlock(["list", "--type", "pdf", "--json"])).stdout) as {
      fileId: string;
    }[];
    expect(pdfs.map((r) => r.fileId)).toContain(pdfId);
    expect(pdfs.map((r) => r.fileId)).not.toContain(pngId);
    const verified = JSON.parse((await airlock(["list", "--status", "verified", "--json"])).stdout) as {
      fileId: string;
    }[];
    expect(verified.map((r) => r.fileId)).toEqual(expect.arrayContaining([pdfId, pngId]));
  });

  it("answers unknown ids, bad flags and a missing stack with a sentence and a non-zero exit", async () => {
    const unknown = await airlock(["status", "NOSUCHFILE"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/No file with id NOSUCHFILE/);
    const badStatus = await airlock(["list", "--status", "SHINY"]);
    expect(badStatus.code).not.toBe(0);
    expect(badStatus.stderr).toMatch(/Unknown status/);
    const noStack = await airlock(["list"], join(dir, "nowhere"));
    expect(noStack.code).not.toBe(0);
    expect(noStack.stderr).toMatch(/No local Airlock stack is running/);
  });
});
