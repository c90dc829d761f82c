import { S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { DynamoRecordStore } from "../../../shared/adapters/dynamo-records.ts";
import { createRoutes, typeForContentType } from "../../../shared/http/routes.ts";

const ddb = mockClient(DynamoDBDocumentClient);
afterEach(() => ddb.reset());

const s3 = new S3Client({ region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
const handle = createRoutes({
  records: new DynamoRecordStore(ddb as unknown as DynamoDBDocumentClient, "files"),
  s3,
  ingestBucket: "ingest",
  cleanBucket: "clean",
  maxSizeBytes: 1000,
  allowedTypes: ["pdf", "png", "txt"],
  uploadExpirySeconds: 300,
  downloadExpirySeconds: 60,
  multipartThresholdBytes: 500,
  cursorSecret: "c".repeat(40),
  now: () => new Date("2026-11-22T10:00:00Z"),
});

function event(
  routeKey: string,
  options: { sub?: string; body?: unknown; id?: string; query?: Record<string, string> } = {},
) {
  return {
    routeKey,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    isBase64Encoded: false,
    pathParameters: options.id ? { id: options.id } : undefined,
    queryStringParameters: options.query,
    requestContext: {
      authorizer:
        options.sub === undefined ? undefined : { jwt: { claims: { sub: options.sub }, scopes: [] } },
    },
  } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
}

const result = async (e: APIGatewayProxyEventV2WithJWTAuthorizer) => {
  const r = (await handle(e)) as { statusCode: number; body?: string };
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined };
};

const record = (overrides: Record<string, unknown> = {}) => ({
  pk: "FILE#f",
  sk: "META",
  fileId: "f",
  key: "uploads/f/a.pdf",
  bucket: "ingest",
  owner: "alice",
  source: "api",
  status: "VERIFIED",
  reasons: [],
  stages: {},
  size: 10,
  version: { bucket: "ingest", key: "uploads/f/a.pdf", sequencer: "1", size: 10 },
  cleanKey: "uploads/f/a.pdf",
  detectedType: { id: "pdf", mime: "application/pdf", ext: "pdf" },
  createdAt: "t",
  updatedAt: "t",
  ...overrides,
});

describe("Handler: api routes", () => {
  it("presigns a POST pinned to the key, size, type and owner, and records the session", async () => {
    ddb.on(PutCommand).resolves({});
    const r = await result(
      event("POST /uploads", {
        sub: "alice",
        body: { filename: "a.pdf", contentType: "application/pdf", size: 10 },
      }),
    );
    expect(r.status).toBe(201);
    const key = `uploads/${r.body.fileId}/a.pdf`;
    expect(r.body.upload.fields).toMatchObject({
      key,
      "Content-Type": "application/pdf",
      "x-amz-meta-owner": "alice",
    });
    const policy = JSON.parse(Buffer.from(r.body.upload.fields.Policy, "base64").toString());
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ["content-length-range", 10, 10],
        ["eq", "$Content-Type", "application/pdf"],
        { key },
      ]),
    );
    const session = ddb
      .commandCalls(PutCommand)
      .find((c) => c.args[0].input.Item?.pk === `UPLOAD#${r.body.fileId}`);
    expect(session?.args[0].input.Item).toMatchObject({
      owner: "alice",
      key,
      size: 10,
      contentType: "application/pdf",
    });
    expect(session?.args[0].input.ConditionExpression).toBe("attribute_not_exists(pk)");
  });

  it.each([
    [{ filename: "a.exe", contentType: "application/x-msdownload", size: 10 }, 415],
    [{ filename: "a.pdf", contentType: "application/pdf", size: 1001 }, 413],
    [{ filename: "a.pdf", contentType: "application/pdf", size: -1 }, 422],
    [{ filename: "a.pdf", size: 1 }, 422],
  ])("refuses %j with %i", async (body, status) => {
    expect((await result(event("POST /uploads", { sub: "alice", body }))).status).toBe(status);
    expect(ddb.calls()).toHaveLength(0);
  });

  it("answers 401 when the authorizer passed no subject", async () => {
    expect(await result(event("GET /files"))).toEqual({ status: 401, body: { message: "Unauthorized" } });
  });

  it("answers 404 for another owner's file, as for a missing one", async () => {
    ddb.on(GetCommand, { Key: { pk: "FILE#f", sk: "META" } }).resolves({ Item: record() });
    ddb.on(GetCommand, { Key: { pk: "UPLOAD#f", sk: "SESSION" } }).resolves({});
    expect((await result(event("GET /files/{id}", { sub: "bob", id: "f" }))).status).toBe(404);
    expect((await result(event("GET /files/{id}/download", { sub: "bob", id: "f" }))).status).toBe(404);
    expect((await result(event("GET /files/{id}", { sub: "alice", id: "f" }))).body.status).toBe("VERIFIED");
  });

  it("shows a file decided VERIFIED as PENDING until its promotion is recorded", async () => {
    ddb.on(GetCommand).resolves({ Item: record({ cleanKey: undefined, decidedAt: "t" }) });
    const shown = await result(event("GET /files/{id}", { sub: "alice", id: "f" }));
    expect(shown.body).toMatchObject({ status: "PENDING" });
    expect(shown.body.decidedAt).toBeUndefined();
    expect(await result(event("GET /files/{id}/download", { sub: "alice", id: "f" }))).toMatchObject({
      status: 409,
      body: { status: "PENDING" },
    });
  });

  it("refuses downloads of files that are not VERIFIED, and inline previews of non-previewable types", async () => {
    ddb.on(GetCommand).resolves({ Item: record({ status: "INFECTED", cleanKey: undefined }) });
    expect(await result(event("GET /files/{id}/download", { sub: "alice", id: "f" }))).toEqual({
      status: 409,
      body: { message: "The file is INFECTED; only VERIFIED files can be downloaded", status: "INFECTED" },
    });
    ddb
      .on(GetCommand)
      .resolves({ Item: record({ detectedType: { id: "txt", mime: "text/plain", ext: "txt" } }) });
    expect(
      (await result(event("GET /files/{id}/download", { sub: "alice", id: "f", query: { inline: "1" } })))
        .status,
    ).toBe(409);
  });

  it("signs a download with an attachment disposition and the detected type", async () => {
    ddb.on(GetCommand).resolves({ Item: record() });
    ddb.on(PutCommand).resolves({});
    const r = await result(event("GET /files/{id}/download", { sub: "alice", id: "f" }));
    const url = new URL(r.body.url);
    expect(url.searchParams.get("response-content-disposition")).toBe(
      `attachment; filename="a.pdf"; filename*=UTF-8''a.pdf`,
    );
    expect(url.searchParams.get("response-content-type")).toBe("application/pdf");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("60");
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
      action: "download",
      actor: "alice",
    });
  });

  it("lets unexpected errors escape for the error middleware (no detail to the caller)", async () => {
    ddb.on(GetCommand).rejects(new Error("table is on fire"));
    await expect(handle(event("GET /files/{id}", { sub: "alice", id: "f" }))).rejects.toThrow(
      "table is on fire",
    );
  });
});

describe("Function: typeForContentType", () => {
  it.each([
    ["application/pdf", "pdf"],
    ["image/png", "png"],
    ["text/plain", "txt"],
    ["application/x-msdownload", undefined],
    ["image/svg+xml", undefined],
  ])("maps %s to %s", (mime, type) => {
    expect(typeForContentType(mime, ["pdf", "png", "txt"])).toBe(type);
  });
});
