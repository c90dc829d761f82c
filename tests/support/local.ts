/** Drives a local stack from tests: drop objects as a system would and wait for their verdicts. */

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoRecordStore } from "../../core/adapters/dynamo-records.ts";
import { describeKey } from "../../core/domain/keys.ts";
import { FINAL_STATUSES, type FileRecord } from "../../core/domain/types.ts";
import type { LocalStack } from "../../local/stack.ts";
import { pollDeadline } from "./deadline.ts";

export function clientsFor(stack: LocalStack) {
  const { state } = stack;
  const base = { region: state.region, credentials: state.credentials };
  const s3 = new S3Client({
    ...base,
    endpoint: state.endpoints.s3,
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const records = new DynamoRecordStore(
    DynamoDBDocumentClient.from(new DynamoDBClient({ ...base, endpoint: state.endpoints.dynamodb })),
    state.tableName,
  );

  /** The ETag of the last object dropped for each file, so waiting means waiting for that version. */
  const dropped = new Map<string, string>();

  async function drop(key: string, body: Uint8Array | string, contentType?: string): Promise<string> {
    const out = await s3.send(
      new PutObjectCommand({ Bucket: state.ingestBucket, Key: key, Body: body, ContentType: contentType }),
    );
    const { fileId } = describeKey(state.ingestBucket, key);
    if (out.ETag) dropped.set(fileId, out.ETag.replace(/"/g, ""));
    return fileId;
  }

  async function waitFinal(fileId: string, timeoutMs = 20_000): Promise<FileRecord> {
    const deadline = pollDeadline(timeoutMs);
    for (;;) {
      const record = await records.get(fileId);
      const expected = dropped.get(fileId);
      const sameVersion = expected === undefined || record?.version.eTag === expected;
      if (
        record &&
        sameVersion &&
        (FINAL_STATUSES as readonly string[]).includes(record.status) &&
        record.notifiedAt
      ) {
        return record;
      }
      if (deadline.passed()) {
        const activity = await stack.activity().catch((error: unknown) => String(error));
        throw new Error(
          `File ${fileId} not final after ${timeoutMs} ms (and ${deadline.stalledMs} ms stalled): ${JSON.stringify(record ?? null)}; the stack: ${JSON.stringify(activity)}`,
        );
      }
      await deadline.sleep(25);
    }
  }

  return { s3, records, drop, waitFinal };
}
