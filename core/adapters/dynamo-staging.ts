/**
 * Staged extracted text and OCR jobs, as items next to the file record (`pk = FILE#<fileId>`, `sk = TEXT` and
 * `sk = OCR`), so that nothing is written to either bucket before the verdict and no S3 event is raised for it.
 * Staged text is gzip-compressed; text that still does not fit in an item is shortened until it does (DynamoDB
 * items hold at most 400 KB). Publishing writes `text/<fileId>.txt` to the clean bucket, whose default
 * encryption (SSE-KMS with the Airlock key) applies to it as to the promoted file.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { textKey } from "../domain/keys.ts";
import { entityTag } from "../domain/pinning.ts";
import type { CleanCopy, Facts, ObjectVersion } from "../domain/types.ts";
import type { OcrJob, OcrJobStore, TextStore } from "../ports/index.ts";

const filePk = (fileId: string) => `FILE#${fileId}`;
/** Leaves room for the item's other attributes under DynamoDB's 400 KB item limit. */
export const STAGED_TEXT_MAX_BYTES = 350 * 1024;

/** The key layout of published text lives with the other layouts. */
export { textKey };

/** Gzips the text, cutting it until the result fits `maxBytes`. */
export function packText(text: string, maxBytes = STAGED_TEXT_MAX_BYTES): { body: Uint8Array; cut: boolean } {
  let current = text;
  for (;;) {
    const body = gzipSync(current);
    if (body.byteLength <= maxBytes) return { body: new Uint8Array(body), cut: current.length < text.length };
    current = current.slice(0, Math.floor(current.length * (maxBytes / body.byteLength) * 0.9));
  }
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

export class DynamoTextStore implements TextStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly s3: S3Client,
    private readonly table: string,
  ) {}

  async stage(fileId: string, version: ObjectVersion, text: string): Promise<{ cut: boolean }> {
    const { body, cut } = packText(text);
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: filePk(fileId), sk: "TEXT", seq: version.sequencer, body, cut },
      }),
    );
    return { cut };
  }

  async publish(fileId: string, version: ObjectVersion, cleanBucket: string): Promise<string | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: filePk(fileId), sk: "TEXT" },
        ConsistentRead: true,
      }),
    );
    const item = out.Item;
    if (!item || item.seq !== version.sequencer) return undefined;
    const key = textKey(fileId);
    const put = await this.s3.send(
      new PutObjectCommand({
        Bucket: cleanBucket,
        Key: key,
        Body: gunzipSync(item.body as Uint8Array),
        ContentType: "text/plain; charset=utf-8",
        // An Object Lock bucket refuses a PutObject without a checksum (Content-MD5 or x-amz-checksum-*); the
        // client only adds one when asked (requestChecksumCalculation: WHEN_REQUIRED).
        ChecksumAlgorithm: "SHA256",
      }),
    );
    const copy: CleanCopy = {
      key,
      ...(put.VersionId ? { versionId: put.VersionId } : {}),
      ...(put.ETag ? { eTag: put.ETag.replace(/"/g, "") } : {}),
    };
    try {
      // Recorded only next to the promoted copy of the same version; otherwise (a newer drop took the record
      // over, the file was deleted) the text just written is taken back, exactly that object.
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: filePk(fileId), sk: "META" },
          UpdateExpression: "SET textKey = :key, cleanCopy.#text = :copy",
          ConditionExpression: "seq = :seq AND #status = :verified AND cleanCopy.sequencer = :seq",
          ExpressionAttributeNames: { "#text": "text", "#status": "status" },
          ExpressionAttributeValues: {
            ":key": key,
            ":copy": copy,
            ":seq": version.sequencer,
            ":verified": "VERIFIED",
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      await this.s3
        .send(
          new DeleteObjectCommand({
            Bucket: cleanBucket,
            Key: key,
            ...(copy.versionId
              ? { VersionId: copy.versionId }
              : copy.eTag
                ? { IfMatch: entityTag(copy.eTag) }
                : {}),
          }),
        )
        .catch((cause: unknown) => {
          // 412: the key already holds newer text (a later version's), which stays.
          const status = (cause as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
          if (status !== 412 && status !== 404) throw cause;
        });
      return undefined;
    }
    await this.discard(fileId);
    return key;
  }

  async discard(fileId: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: filePk(fileId), sk: "TEXT" } }),
    );
  }
}

export class DynamoOcrJobStore implements OcrJobStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(job: OcrJob): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.table, Item: { pk: filePk(job.fileId), sk: "OCR", ...job } }),
    );
  }

  async get(fileId: string): Promise<OcrJob | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: filePk(fileId), sk: "OCR" }, ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, ...job } = out.Item;
    return job as OcrJob;
  }

  async remove(fileId: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: filePk(fileId), sk: "OCR" } }),
    );
  }

  async completeFacts(fileId: string, version: ObjectVersion, jobId: string, facts: Facts): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: filePk(fileId), sk: "META" },
          UpdateExpression: "SET stages.metadata.facts = :facts",
          ConditionExpression: "seq = :seq AND stages.metadata.facts.ocr.jobId = :job",
          ExpressionAttributeValues: { ":facts": facts, ":seq": version.sequencer, ":job": jobId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
