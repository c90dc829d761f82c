/**
 * #9: with `objectLock: true`, S3 refuses a PutObject into the clean bucket that carries no checksum
 * (Content-MD5 or x-amz-checksum-*). Airlock's S3 client only sends checksums when asked
 * (requestChecksumCalculation: WHEN_REQUIRED), so every PutObject into the clean bucket must ask. This sends
 * the extracted-text PutObject through the real client and its middleware, and looks at the wire request.
 */

import { gzipSync } from "node:zlib";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient as DocumentClient,
  type DynamoDBDocumentClient,
  GetCommand,
} from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { DynamoTextStore } from "../../core/adapters/dynamo-staging.ts";
import { createClients } from "../../core/runtime/clients.ts";

/** The production S3 client, answering locally: the request it would put on the wire is kept. */
function capturingS3() {
  const sent: { method: string; path: string; headers: Record<string, string> }[] = [];
  const client = createClients({}, {}).s3;
  client.middlewareStack.add(
    () => async (args) => {
      const request = args.request as { method: string; path: string; headers: Record<string, string> };
      sent.push({ method: request.method, path: request.path, headers: request.headers });
      // Answered here, before the deserializer: nothing leaves the process.
      return { response: { statusCode: 200, headers: {} }, output: { $metadata: {} } as never };
    },
    { step: "finalizeRequest", priority: "low", name: "captureRequest" },
  );
  return { client, sent };
}

describe("#9 PutObject into an Object Lock bucket carries a checksum", () => {
  it("publishes extracted text with an x-amz-checksum-sha256 header", async () => {
    process.env.AWS_REGION ??= "us-east-1";
    process.env.AWS_ACCESS_KEY_ID ??= "test";
    process.env.AWS_SECRET_ACCESS_KEY ??= "test";
    const documents = DocumentClient.from(
      new DynamoDBClient({ region: "us-east-1" }),
    ) as DynamoDBDocumentClient;
    const dynamo = mockClient(documents);
    dynamo.on(GetCommand).resolves({ Item: { seq: "0A1B", body: gzipSync("hello") } });
    const { client, sent } = capturingS3();
    const store = new DynamoTextStore(documents, client, "files");
    await store.publish(
      "01j9zq3m4k5n6p7r8s9t0v1w2x",
      {
        bucket: "ingest",
        key: "uploads/01j9zq3m4k5n6p7r8s9t0v1w2x/a.pdf",
        sequencer: "0A1B",
        size: 5,
      } as never,
      "clean-bucket",
    );
    const put = sent.find((r) => r.method === "PUT");
    expect(put?.path).toBe("/text/01j9zq3m4k5n6p7r8s9t0v1w2x.txt");
    const headers = Object.fromEntries(
      Object.entries(put?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    expect(headers["x-amz-checksum-sha256"] ?? headers["content-md5"]).toBeTruthy();
    dynamo.restore();
  });
});
