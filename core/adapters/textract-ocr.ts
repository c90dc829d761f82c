/**
 * OcrEngine on Amazon Textract. Images and single-page PDFs go through `DetectDocumentText`; multi-page PDFs
 * through `StartDocumentTextDetection`, whose completion Textract publishes to the OCR topic (through its
 * service role), and whose results are read page by page with `GetDocumentTextDetection` and `NextToken`.
 * Textract reads exactly the judged object version from S3. Throttling is retried with exponential backoff
 * on top of the SDK's own retries; any other service error becomes an OcrError.
 */
import { createHash } from "node:crypto";
import {
  type Block,
  DetectDocumentTextCommand,
  GetDocumentTextDetectionCommand,
  StartDocumentTextDetectionCommand,
  type TextractClient,
} from "@aws-sdk/client-textract";
import type { ObjectVersion } from "../domain/types.ts";
import { type OcrEngine, OcrError, type OcrJobResult, type OcrText } from "../ports/index.ts";

const THROTTLING = new Set([
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "LimitExceededException",
]);

export interface TextractOptions {
  /** The SNS topic Textract publishes job completions to, and the role it publishes with (to start jobs). */
  topicArn?: string;
  roleArn?: string;
  /** Attempts for a throttled call (the first included). */
  attempts?: number;
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The LINE blocks' text, a form feed between pages. */
export function linesText(blocks: readonly Block[]): { text: string; pages: number } {
  let text = "";
  let page = 1;
  let pages = 0;
  for (const block of blocks) {
    if (block.BlockType === "PAGE") pages++;
    if (block.BlockType !== "LINE" || !block.Text) continue;
    const at = block.Page ?? 1;
    if (at !== page) {
      text += "\f";
      page = at;
    }
    text += `${block.Text}\n`;
  }
  return { text, pages };
}

/** At most 64 characters of `[a-zA-Z0-9-_]`, unique per file and object version. */
export function requestToken(fileId: string, version: ObjectVersion): string {
  return createHash("sha256")
    .update(`${fileId}\n${version.sequencer}\n${version.versionId ?? ""}\n${version.eTag ?? ""}`)
    .digest("hex");
}

export class TextractOcr implements OcrEngine {
  constructor(
    private readonly client: TextractClient,
    private readonly options: TextractOptions,
  ) {}

  private async call<T>(what: string, send: () => Promise<T>): Promise<T> {
    const attempts = this.options.attempts ?? 5;
    const sleep = this.options.sleep ?? pause;
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        const name = error instanceof Error ? error.name : "";
        if (THROTTLING.has(name) && attempt < attempts) {
          await sleep((this.options.backoffMs ?? 200) * 2 ** (attempt - 1));
          continue;
        }
        throw new OcrError(`Textract ${what} failed: ${name || "error"}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
  }

  private document(version: ObjectVersion) {
    return { S3Object: { Bucket: version.bucket, Name: version.key, Version: version.versionId } };
  }

  async detect(version: ObjectVersion): Promise<OcrText> {
    const out = await this.call("DetectDocumentText", () =>
      this.client.send(new DetectDocumentTextCommand({ Document: this.document(version) })),
    );
    const { text } = linesText(out.Blocks ?? []);
    return { text, pages: out.DocumentMetadata?.Pages ?? 1 };
  }

  async start(version: ObjectVersion, fileId: string): Promise<string> {
    const { topicArn, roleArn } = this.options;
    if (!topicArn || !roleArn) throw new Error("Starting a Textract job needs the OCR topic and role");
    const out = await this.call("StartDocumentTextDetection", () =>
      this.client.send(
        new StartDocumentTextDetectionCommand({
          DocumentLocation: this.document(version),
          // The token makes a redelivered start return the same job instead of a second one; it names the exact
          // version, so a newer upload under the same key gets its own job.
          ClientRequestToken: requestToken(fileId, version),
          JobTag: fileId,
          NotificationChannel: { SNSTopicArn: topicArn, RoleArn: roleArn },
        }),
      ),
    );
    if (!out.JobId) throw new OcrError("Textract StartDocumentTextDetection returned no job id");
    return out.JobId;
  }

  async results(jobId: string, maxChars: number): Promise<OcrJobResult> {
    let text = "";
    let pages = 0;
    let nextToken: string | undefined;
    let lastPage = 0;
    do {
      const out = await this.call("GetDocumentTextDetection", () =>
        this.client.send(new GetDocumentTextDetectionCommand({ JobId: jobId, NextToken: nextToken })),
      );
      if (out.JobStatus === "IN_PROGRESS") return { status: "IN_PROGRESS" };
      if (out.JobStatus === "FAILED")
        return { status: "FAILED", message: out.StatusMessage ?? "Textract reported the job as failed" };
      pages = out.DocumentMetadata?.Pages ?? pages;
      for (const block of out.Blocks ?? []) {
        if (block.BlockType !== "LINE" || !block.Text || text.length >= maxChars) continue;
        const page = block.Page ?? 1;
        if (lastPage !== 0 && page !== lastPage) text += "\f";
        lastPage = page;
        text += `${block.Text}\n`;
      }
      nextToken = out.NextToken;
    } while (nextToken && text.length < maxChars);
    return { status: "SUCCEEDED", text: text.slice(0, maxChars), pages };
  }
}
