import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DetectDocumentTextCommand,
  StartDocumentTextDetectionCommand,
  TextractClient,
} from "@aws-sdk/client-textract";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { TextractOcr } from "../../../core/adapters/textract-ocr.ts";
import type { FileRecord, MetadataResult, ObjectVersion, OcrMode } from "../../../core/domain/types.ts";
import { type MetadataOptions, metadataJudge, planOcr } from "../../../core/usecases/pipeline/metadata.ts";
import { pdf, png } from "../../fixtures/documents.ts";
import { pdfWithoutText } from "../../fixtures/metadata.ts";
import { MemoryObjects, MemoryOcrJobs, MemoryTexts } from "../../support/memory.ts";

const textract = mockClient(TextractClient);
afterEach(() => textract.reset());

const fileId = "f000000000000000000000000a";
const versionOf = (key: string, size: number): ObjectVersion => ({
  bucket: "ingest",
  key,
  versionId: "v1",
  sequencer: "0001",
  size,
});
const recordOf = (version: ObjectVersion) => ({ fileId, version }) as FileRecord;

function setup(key: string, bytes: Uint8Array, ocr: OcrMode, withEngine = true) {
  const objects = new MemoryObjects(new Map([[key, bytes]]), 1000);
  const texts = new MemoryTexts();
  const jobs = new MemoryOcrJobs();
  const options: MetadataOptions = {
    textMaxChars: 10_000,
    pdfMaxBytes: 1024 * 1024,
    ocr,
    texts,
    jobs,
    engine: withEngine
      ? new TextractOcr(new TextractClient({ region: "us-east-1" }), {
          topicArn: "arn:aws:sns:us-east-1:1:ocr",
          roleArn: "arn:aws:iam::1:role/textract",
          attempts: 2,
          sleep: async () => undefined,
        })
      : undefined,
  };
  const version = versionOf(key, bytes.length);
  const judge = metadataJudge(objects, options);
  return { objects, texts, jobs, version, run: () => judge(version, recordOf(version)) };
}

describe("Function: metadataJudge", () => {
  it("records the sha256 that sha256sum and node:crypto compute for the same bytes", async () => {
    const bytes = pdf({ pages: 2, text: "Checksum me" });
    const dir = mkdtempSync(join(tmpdir(), "airlock-sha-"));
    try {
      const path = join(dir, "file.pdf");
      writeFileSync(path, bytes);
      const sha256sum = execFileSync("sha256sum", [path], { encoding: "utf8" }).split(" ")[0];
      const { run } = setup("drops/a/file.pdf", bytes, "off");
      const result = (await run()) as MetadataResult;
      expect(result.facts?.sha256).toBe(sha256sum);
      expect(result.facts?.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("cross-checks the S3 checksum and fails the stage when the bytes differ", async () => {
    const bytes = png(4, 4);
    const good = setup("drops/a/x.png", bytes, "off");
    good.objects.checksums.set("drops/a/x.png", createHash("sha256").update(bytes).digest("hex"));
    expect(((await good.run()) as MetadataResult).facts?.s3Checksum).toEqual({
      algorithm: "SHA256",
      matches: true,
    });
    // The checksum comes with the one read of the bytes: no HEAD of its own.
    expect(good.objects.checksummedReads).toBe(1);
    expect(good.objects.checksumHeads).toBe(0);

    const bad = setup("drops/a/x.png", bytes, "off");
    bad.objects.checksums.set("drops/a/x.png", "0".repeat(64));
    const result = (await bad.run()) as MetadataResult;
    expect(result.status).toBe("error");
    expect(result.reasons[0]).toMatch(/do not match the SHA-256 checksum/);
  });

  it("stages a PDF's text for promotion and keeps a preview in the facts", async () => {
    const { run, texts } = setup("drops/a/r.pdf", pdf({ pages: 3, text: "Quarterly numbers" }), "off");
    const result = (await run()) as MetadataResult;
    expect(result.facts?.pdf?.pages).toBe(3);
    expect(result.facts?.extracted?.preview).toMatch(/^Quarterly numbers - page 1/);
    expect(result.facts?.ocr).toMatchObject({ status: "skipped", reason: "OCR is off" });
    expect(texts.staged.get(fileId)?.text).toContain("Quarterly numbers - page 3");
  });

  it("records Textract as skipped where it is not available (the local stack)", async () => {
    const { run } = setup("drops/a/x.png", png(4, 4), "best-effort", false);
    const result = (await run()) as MetadataResult;
    expect(result.facts?.ocr).toMatchObject({
      status: "skipped",
      reason: "Textract is not available here (local stack)",
    });
  });

  it("reads an image synchronously with DetectDocumentText and uses its text", async () => {
    textract.on(DetectDocumentTextCommand).resolves({
      DocumentMetadata: { Pages: 1 },
      Blocks: [{ BlockType: "LINE", Text: "RECEIPT total 12.50", Page: 1 }],
    });
    const { run, texts } = setup("drops/a/x.png", png(4, 4), "required");
    const result = (await run()) as MetadataResult;
    expect(result.status).toBe("ok");
    expect(result.facts?.ocr).toMatchObject({ status: "done", mode: "required", words: 3, pages: 1 });
    expect(result.facts?.extracted).toMatchObject({ source: "ocr", preview: "RECEIPT total 12.50\n" });
    expect(texts.staged.get(fileId)?.text).toBe("RECEIPT total 12.50\n");
  });

  it("fails the stage when required OCR cannot run (throttled beyond its retries)", async () => {
    textract
      .on(DetectDocumentTextCommand)
      .rejects(Object.assign(new Error("slow"), { name: "ThrottlingException" }));
    const { run } = setup("drops/a/x.png", png(4, 4), "required");
    const result = (await run()) as MetadataResult;
    expect(result.status).toBe("error");
    expect(result.reasons[0]).toMatch(/^OCR failed: Textract DetectDocumentText failed: ThrottlingException/);
  });

  it("records a failed best-effort OCR and carries on", async () => {
    textract
      .on(DetectDocumentTextCommand)
      .rejects(Object.assign(new Error("bad"), { name: "InvalidS3ObjectException" }));
    const { run } = setup("drops/a/x.png", png(4, 4), "best-effort");
    const result = (await run()) as MetadataResult;
    expect(result.status).toBe("ok");
    expect(result.facts?.ocr).toMatchObject({ status: "failed" });
  });

  it("leaves the result to the continuation when required OCR runs asynchronously, and starts one job only", async () => {
    textract.on(StartDocumentTextDetectionCommand).resolves({ JobId: "job-9" });
    const { run, jobs } = setup("drops/a/scan.pdf", pdfWithoutText(3), "required");
    await expect(run()).resolves.toBeUndefined();
    expect(jobs.jobs.get(fileId)).toMatchObject({
      jobId: "job-9",
      mode: "required",
      facts: { pdf: { pages: 3 } },
    });
    // A re-driven event while the job runs neither starts another job nor records a result.
    await expect(run()).resolves.toBeUndefined();
    expect(textract.commandCalls(StartDocumentTextDetectionCommand)).toHaveLength(1);
  });

  it("records the facts at once in best-effort mode, with the job pending", async () => {
    textract.on(StartDocumentTextDetectionCommand).resolves({ JobId: "job-10" });
    const { run, jobs } = setup("drops/a/scan.pdf", pdfWithoutText(2), "best-effort");
    const result = (await run()) as MetadataResult;
    expect(result.facts?.ocr).toMatchObject({ status: "pending", jobId: "job-10" });
    expect(jobs.jobs.get(fileId)?.jobId).toBe("job-10");
  });
});

describe("Function: planOcr", () => {
  const facts = (id: string, extra: object = {}) => ({
    sha256: "",
    size: 1000,
    detectedType: { id, mime: "", ext: id },
    ...extra,
  });
  it.each([
    ["off", facts("png"), { kind: "skip", reason: "OCR is off" }],
    ["required", facts("png"), { kind: "sync" }],
    ["required", facts("png", { size: 20 * 1024 * 1024 }), { kind: "async" }],
    ["required", facts("pdf", { pdf: { pages: 1, encrypted: false, textLayer: false } }), { kind: "sync" }],
    ["required", facts("pdf", { pdf: { pages: 9, encrypted: false, textLayer: false } }), { kind: "async" }],
    [
      "required",
      facts("pdf", { pdf: { pages: 9, encrypted: false, textLayer: true } }),
      { kind: "skip", reason: "the PDF has a text layer" },
    ],
    [
      "required",
      facts("pdf", { pdf: { pages: 9, encrypted: true } }),
      { kind: "skip", reason: "the PDF is encrypted" },
    ],
    ["required", facts("csv"), { kind: "skip", reason: "not an image or PDF" }],
  ] as const)("in %s mode plans %j as %j", (mode, input, plan) => {
    expect(planOcr(input, mode, true)).toEqual(plan);
  });
});
