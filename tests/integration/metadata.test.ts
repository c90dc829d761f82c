/**
 * Document facts and extracted text through the local stack: real emulators over HTTP, the same handlers as
 * in Lambda. Textract is not emulated, so OCR is recorded as skipped and only built-in extraction runs.
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { png } from "../fixtures/documents.ts";
import { EICAR } from "../fixtures/malicious.ts";
import { csvText, pdfWithInfo } from "../fixtures/metadata.ts";
import { clientsFor } from "../support/local.ts";

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;

beforeAll(async () => {
  stack = await startLocalStack({ sweepIntervalMs: 3_600_000 });
  io = clientsFor(stack);
});
afterAll(() => stack?.stop());

async function cleanText(fileId: string): Promise<string> {
  const out = await io.s3.send(
    new GetObjectCommand({ Bucket: stack.state.cleanBucket, Key: `text/${fileId}.txt` }),
  );
  return (await out.Body?.transformToString("utf-8")) ?? "";
}

async function stagedText(fileId: string) {
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: stack.state.region,
      credentials: stack.state.credentials,
      endpoint: stack.state.endpoints.dynamodb,
    }),
  );
  const out = await documents.send(
    new GetCommand({ TableName: stack.state.tableName, Key: { pk: `FILE#${fileId}`, sk: "TEXT" } }),
  );
  return out.Item;
}

describe("Local stack: metadata and extracted text", () => {
  it("records a dropped PDF's pages, words and preview, and puts its text next to it once VERIFIED", async () => {
    const bytes = pdfWithInfo(3, "Invoice number 4711 total due");
    const fileId = await io.drop("drops/billing/invoice.pdf", bytes, "application/pdf");
    const record = await io.waitFinal(fileId, 60_000);
    expect(record.status, record.reasons.join("; ")).toBe("VERIFIED");
    const dir = mkdtempSync(join(tmpdir(), "airlock-meta-"));
    try {
      writeFileSync(join(dir, "invoice.pdf"), bytes);
      const sum = execFileSync("sha256sum", [join(dir, "invoice.pdf")], { encoding: "utf8" }).split(" ")[0];
      expect(record.sha256).toBe(sum);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const facts = record.stages.metadata?.facts;
    expect(facts?.pdf).toMatchObject({
      pages: 3,
      textLayer: true,
      title: "Annual Report",
      author: "Ada Lovelace",
    });
    expect(facts?.extracted).toMatchObject({ source: "pdf", words: 18, truncated: false });
    expect(facts?.extracted?.preview).toMatch(/^Invoice number 4711 total due page1/);
    expect(facts?.ocr).toMatchObject({ status: "skipped", reason: "the PDF has a text layer" });
    expect(record.textKey).toBe(`text/${fileId}.txt`);
    const text = await cleanText(fileId);
    expect(text).toContain("Invoice number 4711 total due page3");
    expect(await stagedText(fileId)).toBeUndefined();
  });

  it("records Textract as skipped for an image, since it is not emulated", async () => {
    const fileId = await io.drop("drops/scanner/receipt.png", png(20, 10), "image/png");
    const record = await io.waitFinal(fileId, 60_000);
    expect(record.status).toBe("VERIFIED");
    expect(record.stages.metadata?.facts?.image).toEqual({ width: 20, height: 10, exif: false, gps: false });
    expect(record.stages.metadata?.facts?.ocr).toMatchObject({
      status: "skipped",
      reason: "Textract is not available here (local stack)",
    });
    expect(record.textKey).toBeUndefined();
  });

  it("records CSV facts and publishes the CSV's text", async () => {
    const fileId = await io.drop(
      "drops/erp/rows.csv",
      csvText(
        ["id", "amount"],
        [
          ["1", "10"],
          ["2", "20"],
        ],
      ),
      "text/csv",
    );
    const record = await io.waitFinal(fileId, 60_000);
    expect(record.stages.metadata?.facts?.text).toEqual({
      encoding: "utf-8",
      lines: 3,
      words: 3,
      csv: { columns: 2, header: ["id", "amount"] },
    });
    expect(await cleanText(fileId)).toBe("id,amount\n1,10\n2,20\n");
  });

  it("never puts the text of a held file in the clean bucket, and drops the staged copy", async () => {
    const fileId = await io.drop(
      "drops/erp/notes.txt",
      `meeting notes\n${Buffer.from(EICAR).toString("latin1")}\n`,
      "text/plain",
    );
    const record = await io.waitFinal(fileId, 60_000);
    expect(record.status).toBe("INFECTED");
    expect(record.stages.metadata?.facts?.extracted?.words).toBeGreaterThan(0);
    expect(record.textKey).toBeUndefined();
    await expect(
      io.s3.send(new HeadObjectCommand({ Bucket: stack.state.cleanBucket, Key: `text/${fileId}.txt` })),
    ).rejects.toThrow();
    await stack.idle();
    expect(await stagedText(fileId)).toBeUndefined();
  });
});
