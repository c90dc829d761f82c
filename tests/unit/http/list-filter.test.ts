import { S3Client } from "@aws-sdk/client-s3";
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { DynamoRecordStore } from "../../../core/adapters/dynamo-records.ts";
import { DynamoTextStore } from "../../../core/adapters/dynamo-staging.ts";
import { S3ContentEraser, S3DownloadSigner, S3UploadStorage } from "../../../core/adapters/s3-uploads.ts";
import { tokenOwner } from "../../../core/domain/owners.ts";
import { createRoutes } from "../../../core/http/routes.ts";

const ddb = mockClient(DynamoDBDocumentClient);
afterEach(() => ddb.reset());

const ISSUER = "https://idp.example.com/";
const ALICE = tokenOwner(ISSUER, "alice");
const s3 = new S3Client({ region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
const handle = createRoutes({
  records: new DynamoRecordStore(ddb as unknown as DynamoDBDocumentClient, "files"),
  texts: new DynamoTextStore(ddb as unknown as DynamoDBDocumentClient, s3, "files"),
  uploads: new S3UploadStorage(s3, "ingest"),
  downloads: new S3DownloadSigner(s3, "clean"),
  eraser: new S3ContentEraser(s3),
  cleanBucket: "clean",
  maxSizeBytes: 1000,
  allowedTypes: ["pdf", "png", "txt"],
  uploadExpirySeconds: 300,
  downloadExpirySeconds: 60,
  multipartThresholdBytes: 500,
  cursorSecret: "c".repeat(40),
});

async function list(query: Record<string, string>, sub = "alice") {
  const event = {
    routeKey: "GET /files",
    queryStringParameters: query,
    requestContext: { authorizer: { jwt: { claims: { sub, iss: ISSUER }, scopes: [] } } },
  } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
  const r = (await handle(event)) as { statusCode: number; body?: string };
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined };
}

const item = (fileId: string, type = "pdf", status = "VERIFIED") => ({
  pk: `FILE#${fileId}`,
  sk: "META",
  gsi1pk: `OWNER#${ALICE}`,
  gsi1sk: `t#${fileId}`,
  fileId,
  key: `uploads/${fileId}/a.${type}`,
  owner: ALICE,
  status,
  reasons: [],
  stages: {},
  detectedType: { id: type, mime: `application/${type}`, ext: type },
});
const keyOf = (i: { pk: string; sk: string }) => ({ pk: i.pk, sk: i.sk });

describe("Route: GET /files?type=", () => {
  it("filters the owner's files by detected type, combined with the status filter", async () => {
    // The owner index holds keys only: the page's records are read from the table, then filtered.
    const records = [item("a"), item("b", "png"), item("c", "pdf", "REJECTED")];
    ddb.on(QueryCommand).resolves({ Items: records.map(keyOf) });
    ddb.on(BatchGetCommand).resolves({ Responses: { files: records } });
    const r = await list({ type: "pdf", status: "VERIFIED" });
    expect(r.status).toBe(200);
    expect(r.body.files.map((f: { fileId: string }) => f.fileId)).toEqual(["a"]);
    const input = ddb.commandCalls(QueryCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      IndexName: "byOwner",
      KeyConditionExpression: "gsi1pk = :pk",
      ExpressionAttributeValues: { ":pk": `OWNER#${ALICE}` },
    });
    expect(input?.FilterExpression).toBeUndefined();
    expect(ddb.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.files?.Keys).toEqual(
      records.map(keyOf),
    );
  });

  it("pages with the signed cursor while filtering", async () => {
    const last = { pk: "FILE#a", sk: "META", gsi1pk: `OWNER#${ALICE}`, gsi1sk: "t#a" };
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [keyOf(item("a"))], LastEvaluatedKey: last })
      .resolves({ Items: [keyOf(item("b", "png"))] });
    ddb.on(BatchGetCommand).callsFake((input: { RequestItems: { files: { Keys: { pk: string }[] } } }) => ({
      Responses: {
        files: input.RequestItems.files.Keys.map((k) => (k.pk === "FILE#a" ? item("a") : item("b", "png"))),
      },
    }));
    const first = await list({ type: "pdf", limit: "1" });
    expect(first.body.files.map((f: { fileId: string }) => f.fileId)).toEqual(["a"]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await list({ type: "pdf", limit: "1", cursor: first.body.nextCursor });
    expect(second.status).toBe(200);
    expect(second.body.files).toEqual([]);
    expect(ddb.commandCalls(QueryCommand)[1]?.args[0].input).toMatchObject({
      ExclusiveStartKey: last,
      Limit: 1,
    });
    // The cursor stays bound to its owner, filter or not.
    expect((await list({ type: "pdf", cursor: first.body.nextCursor }, "mallory")).status).toBe(400);
  });

  it.each(["PDF", "p d f", "", "x".repeat(17), "pdf;drop"])("refuses the type %j with 400", async (type) => {
    const r = await list({ type });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/^Invalid query: type/);
    expect(ddb.calls()).toHaveLength(0);
  });
});
