import {
  DetectDocumentTextCommand,
  GetDocumentTextDetectionCommand,
  StartDocumentTextDetectionCommand,
  TextractClient,
} from "@aws-sdk/client-textract";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { requestToken, TextractOcr } from "../../../core/adapters/textract-ocr.ts";
import type { ObjectVersion } from "../../../core/domain/types.ts";
import { OcrError } from "../../../core/ports/index.ts";

const textract = mockClient(TextractClient);
afterEach(() => textract.reset());

const version: ObjectVersion = {
  bucket: "ingest",
  key: "drops/scanner/scan.pdf",
  versionId: "v7",
  sequencer: "00A1",
  size: 2048,
};
const slept: number[] = [];
const engine = () =>
  new TextractOcr(new TextractClient({ region: "us-east-1" }), {
    topicArn: "arn:aws:sns:us-east-1:1:ocr",
    roleArn: "arn:aws:iam::1:role/textract",
    attempts: 3,
    backoffMs: 10,
    sleep: async (ms) => {
      slept.push(ms);
    },
  });
const throttled = (name: string) => Object.assign(new Error("slow down"), { name });
const line = (text: string, page: number) => ({ BlockType: "LINE" as const, Text: text, Page: page });

describe("Class: TextractOcr", () => {
  describe("Method: detect", () => {
    it("reads exactly the judged version and returns its lines", async () => {
      textract.on(DetectDocumentTextCommand).resolves({
        DocumentMetadata: { Pages: 1 },
        Blocks: [
          { BlockType: "PAGE" },
          line("INVOICE 42", 1),
          { BlockType: "WORD", Text: "INVOICE" },
          line("Total 10 EUR", 1),
        ],
      });
      const found = await engine().detect(version);
      expect(found).toEqual({ text: "INVOICE 42\nTotal 10 EUR\n", pages: 1 });
      expect(textract.commandCalls(DetectDocumentTextCommand)[0]?.args[0].input).toEqual({
        Document: { S3Object: { Bucket: "ingest", Name: "drops/scanner/scan.pdf", Version: "v7" } },
      });
    });

    it.each(["ThrottlingException", "ProvisionedThroughputExceededException"])(
      "retries %s with exponential backoff",
      async (name) => {
        slept.length = 0;
        textract
          .on(DetectDocumentTextCommand)
          .rejectsOnce(throttled(name))
          .rejectsOnce(throttled(name))
          .resolves({ Blocks: [line("ok", 1)] });
        await expect(engine().detect(version)).resolves.toMatchObject({ text: "ok\n" });
        expect(slept).toEqual([10, 20]);
      },
    );

    it("gives up after the configured attempts with an OcrError", async () => {
      textract.on(DetectDocumentTextCommand).rejects(throttled("ThrottlingException"));
      await expect(engine().detect(version)).rejects.toBeInstanceOf(OcrError);
      expect(textract.commandCalls(DetectDocumentTextCommand)).toHaveLength(3);
    });

    it("does not retry other errors", async () => {
      textract.on(DetectDocumentTextCommand).rejects(throttled("UnsupportedDocumentException"));
      await expect(engine().detect(version)).rejects.toThrow(/UnsupportedDocumentException/);
      expect(textract.commandCalls(DetectDocumentTextCommand)).toHaveLength(1);
    });
  });

  describe("Method: start", () => {
    it("starts a job on the exact version with the completion channel, the file id as tag and an idempotency token", async () => {
      textract.on(StartDocumentTextDetectionCommand).resolves({ JobId: "job-1" });
      await expect(engine().start(version, "f000000000000000000000000a")).resolves.toBe("job-1");
      expect(textract.commandCalls(StartDocumentTextDetectionCommand)[0]?.args[0].input).toEqual({
        DocumentLocation: { S3Object: { Bucket: "ingest", Name: "drops/scanner/scan.pdf", Version: "v7" } },
        ClientRequestToken: requestToken("f000000000000000000000000a", version),
        JobTag: "f000000000000000000000000a",
        NotificationChannel: {
          SNSTopicArn: "arn:aws:sns:us-east-1:1:ocr",
          RoleArn: "arn:aws:iam::1:role/textract",
        },
      });
    });
  });

  describe("Function: requestToken", () => {
    it("is a valid Textract token that differs between versions of the same file", () => {
      const token = requestToken("f000000000000000000000000a", version);
      expect(token).toMatch(/^[a-zA-Z0-9-_]{1,64}$/);
      expect(requestToken("f000000000000000000000000a", { ...version, sequencer: "00A2" })).not.toBe(token);
      expect(requestToken("f000000000000000000000000a", { ...version })).toBe(token);
    });
  });

  describe("Method: results", () => {
    it("follows NextToken through every page of results", async () => {
      textract
        .on(GetDocumentTextDetectionCommand, { JobId: "job-1", NextToken: undefined })
        .resolves({
          JobStatus: "SUCCEEDED",
          DocumentMetadata: { Pages: 3 },
          Blocks: [line("one", 1)],
          NextToken: "t1",
        })
        .on(GetDocumentTextDetectionCommand, { JobId: "job-1", NextToken: "t1" })
        .resolves({
          JobStatus: "SUCCEEDED",
          DocumentMetadata: { Pages: 3 },
          Blocks: [line("two", 2)],
          NextToken: "t2",
        })
        .on(GetDocumentTextDetectionCommand, { JobId: "job-1", NextToken: "t2" })
        .resolves({ JobStatus: "SUCCEEDED", DocumentMetadata: { Pages: 3 }, Blocks: [line("three", 3)] });
      await expect(engine().results("job-1", 1000)).resolves.toEqual({
        status: "SUCCEEDED",
        text: "one\n\ftwo\n\fthree\n",
        pages: 3,
      });
      expect(textract.commandCalls(GetDocumentTextDetectionCommand)).toHaveLength(3);
    });

    it("stops reading at the character cap", async () => {
      textract
        .on(GetDocumentTextDetectionCommand)
        .resolves({ JobStatus: "SUCCEEDED", Blocks: [line("x".repeat(50), 1)], NextToken: "more" });
      const out = await engine().results("job-2", 20);
      expect(out).toMatchObject({ status: "SUCCEEDED", text: "x".repeat(20) });
      expect(textract.commandCalls(GetDocumentTextDetectionCommand)).toHaveLength(1);
    });

    it("reports a failed job with Textract's message", async () => {
      textract
        .on(GetDocumentTextDetectionCommand)
        .resolves({ JobStatus: "FAILED", StatusMessage: "bad PDF" });
      await expect(engine().results("job-3", 100)).resolves.toEqual({ status: "FAILED", message: "bad PDF" });
    });

    it("retries a throttled page read", async () => {
      textract
        .on(GetDocumentTextDetectionCommand)
        .rejectsOnce(throttled("ProvisionedThroughputExceededException"))
        .resolves({ JobStatus: "SUCCEEDED", Blocks: [line("fine", 1)] });
      await expect(engine().results("job-4", 100)).resolves.toMatchObject({ text: "fine\n" });
    });
  });
});
