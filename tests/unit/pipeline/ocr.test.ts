import { GetDocumentTextDetectionCommand, TextractClient } from "@aws-sdk/client-textract";
import type { Context, SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { TextractOcr } from "../../../core/adapters/textract-ocr.ts";
import type { Facts, FileRecord, OcrMode } from "../../../core/domain/types.ts";
import { parseOcrCompletion } from "../../../core/usecases/pipeline/ocr.ts";
import { setTestEnv } from "../../support/env.ts";
import {
  MemoryNotifier,
  MemoryObjects,
  MemoryOcrJobs,
  MemoryRecords,
  MemoryTexts,
} from "../../support/memory.ts";

setTestEnv();
const { ocrBatchHandler } = await import("../../../handlers/ocr.ts");

const textract = mockClient(TextractClient);
afterEach(() => textract.reset());

const fileId = "f000000000000000000000000b";
const at = "2026-11-22T00:00:00.000Z";
const version = {
  bucket: "ingest",
  key: "drops/scanner/scan.pdf",
  versionId: "v1",
  sequencer: "0002",
  size: 900,
};
const facts: Facts = {
  sha256: "ab".repeat(32),
  size: 900,
  detectedType: { id: "pdf", mime: "application/pdf", ext: "pdf" },
  pdf: { pages: 2, encrypted: false, textLayer: false },
};

function world(mode: OcrMode, record: Partial<FileRecord> = {}) {
  const records = new MemoryRecords();
  records.records.set(fileId, {
    fileId,
    key: version.key,
    bucket: "ingest",
    source: "drop",
    owner: "system:scanner",
    status: "PENDING",
    reasons: [],
    version,
    detectedType: { id: "pdf", mime: "application/pdf", ext: "pdf" },
    stages: {
      validate: {
        stage: "validate",
        status: "passed",
        reasons: [],
        size: 900,
        detectedType: { id: "pdf", mime: "application/pdf", ext: "pdf" },
        at,
      },
      scan: {
        stage: "scan",
        status: "clean",
        engines: [{ engine: "builtin", status: "clean" }],
        reasons: [],
        at,
      },
    },
    size: 900,
    createdAt: at,
    updatedAt: at,
    ...record,
  });
  const jobs = new MemoryOcrJobs(records);
  jobs.jobs.set(fileId, { fileId, version, jobId: "job-1", mode, facts, startedAt: at });
  const objects = new MemoryObjects(new Map());
  const notifier = new MemoryNotifier();
  const texts = new MemoryTexts();
  const handler = ocrBatchHandler({
    records,
    objects,
    notifier,
    texts,
    cleanBucket: "clean",
    jobs,
    textMaxChars: 10_000,
    engine: new TextractOcr(new TextractClient({ region: "us-east-1" }), { sleep: async () => undefined }),
  });
  return { records, jobs, objects, notifier, texts, handler };
}

/** Textract's completion as SQS delivers it from the SNS topic. */
function completion(status: string, jobId = "job-1"): SQSEvent {
  const message = JSON.stringify({
    JobId: jobId,
    Status: status,
    API: "StartDocumentTextDetection",
    JobTag: fileId,
  });
  return {
    Records: [
      {
        messageId: "m-1",
        body: JSON.stringify({ Type: "Notification", MessageId: "sns-1", Message: message }),
      } as SQSEvent["Records"][number],
    ],
  };
}
const context = {} as Context;

function twoPages() {
  textract
    .on(GetDocumentTextDetectionCommand, { JobId: "job-1", NextToken: undefined })
    .resolves({
      JobStatus: "SUCCEEDED",
      DocumentMetadata: { Pages: 2 },
      Blocks: [{ BlockType: "LINE", Text: "Scanned page one", Page: 1 }],
      NextToken: "next",
    })
    .on(GetDocumentTextDetectionCommand, { JobId: "job-1", NextToken: "next" })
    .resolves({
      JobStatus: "SUCCEEDED",
      DocumentMetadata: { Pages: 2 },
      Blocks: [{ BlockType: "LINE", Text: "Scanned page two", Page: 2 }],
    });
}

describe("Function: runStage (a result left to a continuation)", () => {
  it("records nothing and decides nothing while the metadata judge waits for OCR", async () => {
    const w = world("required");
    const { runStage } = await import("../../../core/usecases/pipeline/stage.ts");
    const event = { version, eventName: "ObjectCreated:Put" } as Parameters<typeof runStage>[1];
    const out = await runStage("metadata", event, async () => undefined, {
      records: w.records,
      objects: w.objects,
      notifier: w.notifier,
      cleanBucket: "clean",
    });
    expect(out.outcome).toBe("waiting");
    const record = w.records.records.get(fileId);
    expect(record?.stages.metadata).toBeUndefined();
    expect(record?.status).toBe("PENDING");
    expect(w.notifier.sent).toEqual([]);
  });
});

describe("Handler: ocr continuation", () => {
  it("records the waiting metadata result, settles VERIFIED, promotes and publishes the OCR text once", async () => {
    twoPages();
    const w = world("required");
    const response = await w.handler(completion("SUCCEEDED"), context);
    expect(response.batchItemFailures).toEqual([]);
    const record = w.records.records.get(fileId);
    expect(record?.status).toBe("VERIFIED");
    expect(record?.stages.metadata?.facts?.ocr).toMatchObject({
      status: "done",
      jobId: "job-1",
      pages: 2,
      words: 6,
    });
    expect(record?.stages.metadata?.facts?.extracted?.preview).toBe("Scanned page one\n\fScanned page two\n");
    expect(w.objects.promoted).toEqual([version.key]);
    expect(w.texts.published.get(`text/${fileId}.txt`)).toBe("Scanned page one\n\fScanned page two\n");
    expect(w.notifier.sent).toHaveLength(1);
    expect(w.jobs.jobs.has(fileId)).toBe(false);

    // The same completion delivered again changes nothing.
    await w.handler(completion("SUCCEEDED"), context);
    expect(w.notifier.sent).toHaveLength(1);
    expect(textract.commandCalls(GetDocumentTextDetectionCommand)).toHaveLength(2);
  });

  it("fails the file when a required job failed, and keeps no text", async () => {
    const w = world("required");
    await w.handler(completion("FAILED"), context);
    const record = w.records.records.get(fileId);
    expect(record?.status).toBe("FAILED");
    expect(record?.reasons).toEqual(["OCR failed: Textract job ended FAILED"]);
    expect(w.objects.promoted).toEqual([]);
    expect(w.texts.staged.size + w.texts.published.size).toBe(0);
  });

  it("fails the file when the results say the job failed", async () => {
    textract
      .on(GetDocumentTextDetectionCommand)
      .resolves({ JobStatus: "FAILED", StatusMessage: "corrupt page" });
    const w = world("required");
    await w.handler(completion("SUCCEEDED"), context);
    expect(w.records.records.get(fileId)?.reasons).toEqual(["OCR failed: corrupt page"]);
  });

  it("changes nothing for a file the sweeper already failed (the OCR timeout), and drops its text", async () => {
    twoPages();
    const w = world("required", {
      status: "FAILED",
      reasons: ["metadata stage failed: no result within 600 s"],
      notifiedAt: at,
    });
    const existing = w.records.records.get(fileId);
    if (existing)
      existing.stages.metadata = {
        stage: "metadata",
        status: "error",
        reasons: ["metadata stage failed: no result within 600 s"],
        at,
      };
    await w.handler(completion("SUCCEEDED"), context);
    const record = w.records.records.get(fileId);
    expect(record?.status).toBe("FAILED");
    expect(record?.stages.metadata?.status).toBe("error");
    expect(w.objects.promoted).toEqual([]);
    expect(w.texts.staged.size + w.texts.published.size).toBe(0);
    expect(w.jobs.jobs.has(fileId)).toBe(false);
  });

  it("completes best-effort facts of a file already promoted and publishes its text", async () => {
    twoPages();
    const w = world("best-effort", {
      status: "VERIFIED",
      promotedAt: at,
      cleanKey: version.key,
    });
    const existing = w.records.records.get(fileId);
    if (existing)
      existing.stages.metadata = {
        stage: "metadata",
        status: "ok",
        facts: {
          ...facts,
          ocr: { engine: "textract", mode: "best-effort", status: "pending", jobId: "job-1", at },
        },
        reasons: [],
        at,
      };
    await w.handler(completion("SUCCEEDED"), context);
    expect(w.records.records.get(fileId)?.stages.metadata?.facts?.ocr?.status).toBe("done");
    expect(w.texts.published.get(`text/${fileId}.txt`)).toContain("Scanned page two");
  });

  it("ignores a completion for a job it does not know", async () => {
    const w = world("required");
    const response = await w.handler(completion("SUCCEEDED", "job-other"), context);
    expect(response.batchItemFailures).toEqual([]);
    expect(w.records.records.get(fileId)?.stages.metadata).toBeUndefined();
    expect(textract.commandCalls(GetDocumentTextDetectionCommand)).toHaveLength(0);
  });

  it("reports an unreadable message as a batch item failure", async () => {
    const w = world("required");
    const response = await w.handler(
      { Records: [{ messageId: "bad", body: "{}" } as SQSEvent["Records"][number]] },
      context,
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "bad" }]);
    expect(() => parseOcrCompletion("not json")).toThrow(/Not a Textract completion message/);
  });
});
