import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DynamoRecordStore } from "../../../core/adapters/dynamo-records.ts";
import { DynamoOcrJobStore, DynamoTextStore } from "../../../core/adapters/dynamo-staging.ts";
import { S3ContentEraser, S3DownloadSigner, S3UploadStorage } from "../../../core/adapters/s3-uploads.ts";
import { tokenOwner } from "../../../core/domain/owners.ts";
import { createRoutes, multipartPlan, typeForContentType } from "../../../core/http/routes.ts";

const ddb = mockClient(DynamoDBDocumentClient);
const s3mock = mockClient(S3Client);
afterEach(() => {
  ddb.reset();
  s3mock.reset();
});

const ISSUER = "https://idp.example.com/";
const ALICE = tokenOwner(ISSUER, "alice");
const FID = "0123456789abcdefghjkmnpqrs";
const NOW = new Date("2026-11-22T10:00:00Z");

const s3 = new S3Client({
  region: "us-east-1",
  credentials: { accessKeyId: "a", secretAccessKey: "b" },
  requestChecksumCalculation: "WHEN_REQUIRED",
});
const documents = ddb as unknown as DynamoDBDocumentClient;
const logger = { warn: vi.fn() };
const handle = createRoutes({
  records: new DynamoRecordStore(documents, "files"),
  texts: new DynamoTextStore(documents, s3, "files"),
  ocrJobs: new DynamoOcrJobStore(documents, "files"),
  uploads: new S3UploadStorage(s3, "ingest"),
  downloads: new S3DownloadSigner(s3, "clean"),
  eraser: new S3ContentEraser(s3),
  cleanBucket: "clean",
  maxSizeBytes: 100 * 1024 * 1024,
  allowedTypes: ["pdf", "png", "txt"],
  uploadExpirySeconds: 300,
  downloadExpirySeconds: 60,
  multipartThresholdBytes: 500,
  cursorSecret: "c".repeat(40),
  logger,
  now: () => NOW,
});

function event(
  routeKey: string,
  options: {
    sub?: string;
    iss?: string | null;
    body?: unknown;
    rawBody?: string;
    id?: string;
    query?: Record<string, string>;
  } = {},
) {
  const claims: Record<string, string> = {};
  if (options.sub !== undefined) claims.sub = options.sub;
  if (options.iss !== null) claims.iss = options.iss ?? ISSUER;
  return {
    routeKey,
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    isBase64Encoded: false,
    pathParameters: options.id ? { id: options.id } : undefined,
    queryStringParameters: options.query,
    requestContext: {
      authorizer: options.sub === undefined ? undefined : { jwt: { claims, scopes: [] } },
    },
  } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
}

const result = async (e: APIGatewayProxyEventV2WithJWTAuthorizer) => {
  const r = (await handle(e)) as { statusCode: number; body?: string };
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined };
};

const key = `uploads/${FID}/a.pdf`;
const record = (overrides: Record<string, unknown> = {}) => ({
  pk: `FILE#${FID}`,
  sk: "META",
  fileId: FID,
  key,
  bucket: "ingest",
  owner: ALICE,
  source: "api",
  status: "VERIFIED",
  reasons: [],
  stages: {},
  size: 10,
  seq: "1",
  version: { bucket: "ingest", key, sequencer: "1", size: 10, versionId: "v-ingest" },
  cleanKey: key,
  detectedType: { id: "pdf", mime: "application/pdf", ext: "pdf" },
  createdAt: "t",
  updatedAt: "t",
  notifiedAt: "t",
  ...overrides,
});
const session = (overrides: Record<string, unknown> = {}) => ({
  pk: `UPLOAD#${FID}`,
  sk: "SESSION",
  fileId: FID,
  owner: ALICE,
  key: `uploads/${FID}/big.txt`,
  filename: "big.txt",
  contentType: "text/plain",
  size: 20 * 1024 * 1024,
  multipartUploadId: "mpu-1",
  expiresAt: Math.floor(NOW.getTime() / 1000) + 300,
  createdAt: NOW.toISOString(),
  ...overrides,
});
const onFile = (item: Record<string, unknown> | undefined) =>
  ddb.on(GetCommand, { Key: { pk: `FILE#${FID}`, sk: "META" } }).resolves({ Item: item });
const onSession = (item: Record<string, unknown> | undefined) =>
  ddb.on(GetCommand, { Key: { pk: `UPLOAD#${FID}`, sk: "SESSION" } }).resolves({ Item: item });
const s3Error = (name: string, status = 400) =>
  new S3ServiceException({ name, $fault: "client", $metadata: { httpStatusCode: status }, message: name });

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
      "x-amz-meta-owner": ALICE,
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
      owner: ALICE,
      key,
      size: 10,
      contentType: "application/pdf",
    });
    expect(session?.args[0].input.ConditionExpression).toBe("attribute_not_exists(pk)");
  });

  it.each([
    [{ filename: "a.exe", contentType: "application/x-msdownload", size: 10 }, 415],
    [{ filename: "a.pdf", contentType: "application/pdf", size: 100 * 1024 * 1024 + 1 }, 413],
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
    onFile(record());
    onSession(undefined);
    expect((await result(event("GET /files/{id}", { sub: "bob", id: FID }))).status).toBe(404);
    expect((await result(event("GET /files/{id}/download", { sub: "bob", id: FID }))).status).toBe(404);
    expect((await result(event("GET /files/{id}", { sub: "alice", id: FID }))).body.status).toBe("VERIFIED");
  });

  it("shows a file decided VERIFIED as PENDING until its promotion is recorded", async () => {
    ddb.on(GetCommand).resolves({ Item: record({ cleanKey: undefined, decidedAt: "t" }) });
    const shown = await result(event("GET /files/{id}", { sub: "alice", id: FID }));
    expect(shown.body).toMatchObject({ status: "PENDING" });
    expect(shown.body.decidedAt).toBeUndefined();
    expect(await result(event("GET /files/{id}/download", { sub: "alice", id: FID }))).toMatchObject({
      status: 409,
      body: { status: "PENDING" },
    });
  });

  it("refuses downloads of files that are not VERIFIED, and inline previews of non-previewable types", async () => {
    ddb.on(GetCommand).resolves({ Item: record({ status: "INFECTED", cleanKey: undefined }) });
    expect(await result(event("GET /files/{id}/download", { sub: "alice", id: FID }))).toEqual({
      status: 409,
      body: { message: "The file is INFECTED; only VERIFIED files can be downloaded", status: "INFECTED" },
    });
    ddb
      .on(GetCommand)
      .resolves({ Item: record({ detectedType: { id: "txt", mime: "text/plain", ext: "txt" } }) });
    expect(
      (await result(event("GET /files/{id}/download", { sub: "alice", id: FID, query: { inline: "1" } })))
        .status,
    ).toBe(409);
  });

  it("signs a download with an attachment disposition and the detected type", async () => {
    ddb.on(GetCommand).resolves({ Item: record() });
    ddb.on(PutCommand).resolves({});
    const r = await result(event("GET /files/{id}/download", { sub: "alice", id: FID }));
    const url = new URL(r.body.url);
    expect(url.searchParams.get("response-content-disposition")).toBe(
      `attachment; filename="a.pdf"; filename*=UTF-8''a.pdf`,
    );
    expect(url.searchParams.get("response-content-type")).toBe("application/pdf");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("60");
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
      action: "download",
      actor: ALICE,
    });
  });

  it("lets unexpected errors escape for the error middleware (no detail to the caller)", async () => {
    ddb.on(GetCommand).rejects(new Error("table is on fire"));
    await expect(handle(event("GET /files/{id}", { sub: "alice", id: FID }))).rejects.toThrow(
      "table is on fire",
    );
  });
});

describe("Route: POST /uploads (file names)", () => {
  it.each([
    ["invoice.js.", "text/plain", "name-trailing-dot-or-space"],
    ["run.bat.", "text/plain", "name-trailing-dot-or-space"],
    ["x\r\ny.txt", "text/plain", "name-control-character"],
    ["invoice\u202Etxt.js", "text/plain", "name-bidi-control"],
    ["in\u200Bvoice.pdf", "application/pdf", "name-invisible-character"],
    ["CON.txt", "text/plain", "name-reserved-device"],
    ["lpt1.pdf", "application/pdf", "name-reserved-device"],
    ["report.pdf:evil.exe", "application/pdf", "name-colon"],
    ["report.exe", "application/pdf", "name-extension-mismatch"],
    ["README", "text/plain", "name-extension-mismatch"],
  ])(
    "refuses the name %j with 422 and a plain message, writing nothing",
    async (filename, contentType, code) => {
      const r = await result(
        event("POST /uploads", { sub: "alice", body: { filename, contentType, size: 10 } }),
      );
      expect(r.status).toBe(422);
      expect(r.body.code).toBe(code);
      expect(r.body.message).toMatch(/^Invalid request: filename /);
      expect(r.body.message).not.toMatch(/[\r\n\u202E\u200B]/);
      expect(ddb.calls()).toHaveLength(0);
    },
  );

  it("stores a name sent in NFD as NFC, and only its last segment", async () => {
    ddb.on(PutCommand).resolves({});
    const r = await result(
      event("POST /uploads", {
        sub: "alice",
        body: { filename: "../Re\u0301sume\u0301 2026.pdf", contentType: "application/pdf", size: 10 },
      }),
    );
    expect(r.status).toBe(201);
    expect(r.body.key).toBe(`uploads/${r.body.fileId}/Résumé 2026.pdf`);
  });

  it("accepts the other names a type goes by (.jpeg-style aliases, .md as text)", async () => {
    ddb.on(PutCommand).resolves({});
    for (const [filename, contentType] of [
      ["notes.md", "text/markdown"],
      ["data.csv", "text/plain"],
      ["scan.PDF", "application/pdf"],
    ])
      expect(
        (await result(event("POST /uploads", { sub: "alice", body: { filename, contentType, size: 10 } })))
          .status,
      ).toBe(201);
  });
});

describe("Owners from tokens", () => {
  it("does not let a token whose subject is system:billing see the billing system's drops", async () => {
    const drop = record({
      key: "drops/billing/invoice.pdf",
      owner: "system:billing",
      source: "drop",
      cleanKey: "drops/billing/invoice.pdf",
    });
    onFile(drop);
    onSession(undefined);
    ddb.on(QueryCommand).resolves({ Items: [] });
    for (const route of ["GET /files/{id}", "GET /files/{id}/download", "DELETE /files/{id}"])
      expect((await result(event(route, { sub: "system:billing", id: FID }))).status, route).toBe(404);
    await result(event("GET /files", { sub: "system:billing" }));
    const pk = ddb.commandCalls(QueryCommand)[0]?.args[0].input.ExpressionAttributeValues?.[":pk"];
    expect(pk).toBe(`OWNER#${tokenOwner(ISSUER, "system:billing")}`);
    expect(pk).toMatch(/^OWNER#user:[0-9a-f]{16}:system:billing$/);
    expect(s3mock.calls()).toHaveLength(0);
  });

  it("keeps the same subject from two issuers apart", async () => {
    onFile(record());
    onSession(undefined);
    expect((await result(event("GET /files/{id}", { sub: "alice", id: FID }))).status).toBe(200);
    expect(
      (await result(event("GET /files/{id}", { sub: "alice", iss: "https://other.example/", id: FID })))
        .status,
    ).toBe(404);
  });

  it.each([
    ["no issuer", { sub: "alice", iss: null }],
    ["an empty subject", { sub: "" }],
    ["a subject with a line break", { sub: "alice\nbob" }],
    ["a subject longer than 255 characters", { sub: "a".repeat(256) }],
  ])("answers 401 for a token with %s", async (_what, claims) => {
    expect(await result(event("GET /files", claims))).toEqual({
      status: 401,
      body: { message: "Unauthorized" },
    });
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe("Route: POST /uploads (multipart)", () => {
  it("signs each part URL for exactly its Content-Length", async () => {
    s3mock.on(CreateMultipartUploadCommand).resolves({ UploadId: "mpu-1" });
    ddb.on(PutCommand).resolves({});
    const size = 20 * 1024 * 1024 + 5;
    const r = await result(
      event("POST /uploads", {
        sub: "alice",
        body: { filename: "big.txt", contentType: "text/plain", size },
      }),
    );
    expect(r.status).toBe(201);
    const { partSize, parts } = r.body.upload as {
      partSize: number;
      parts: { partNumber: number; size: number; url: string }[];
    };
    expect(parts.map((p) => p.size)).toEqual([partSize, partSize, size - 2 * partSize]);
    for (const part of parts) {
      const url = new URL(part.url);
      expect(url.searchParams.get("X-Amz-SignedHeaders")?.split(";")).toContain("content-length");
      expect(url.searchParams.get("partNumber")).toBe(String(part.partNumber));
    }
  });

  it("plans parts that cover the size exactly, within S3's limits (table)", () => {
    for (const size of [501, 8 * 1024 ** 2, 8 * 1024 ** 2 + 1, 5 * 1024 ** 4]) {
      const { partSize, sizes } = multipartPlan(size);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(size);
      expect(sizes.length).toBeLessThanOrEqual(10_000);
      expect(sizes.slice(0, -1).every((s) => s === partSize && s >= 5 * 1024 ** 2)).toBe(true);
      expect(sizes.at(-1)).toBeGreaterThan(0);
    }
  });
});

describe("Route: POST /uploads/{id}/complete and DELETE /uploads/{id} (client mistakes)", () => {
  const parts = [
    { partNumber: 1, etag: '"a"' },
    { partNumber: 2, etag: '"b"' },
    { partNumber: 3, etag: '"c"' },
  ];

  const onClosed = (how: string | undefined) => {
    if (how === undefined) ddb.on(PutCommand, { Item: { sk: "CLOSED" } }).resolves({});
    else {
      ddb
        .on(PutCommand, { Item: { sk: "CLOSED" } })
        .rejects(Object.assign(new Error("condition"), { name: "ConditionalCheckFailedException" }));
      ddb.on(GetCommand, { Key: { pk: `UPLOAD#${FID}`, sk: "CLOSED" } }).resolves({ Item: { how } });
    }
  };

  it("refuses a second completion with 409 without asking S3 again", async () => {
    onSession(session());
    onClosed("completed");
    const r = await result(event("POST /uploads/{id}/complete", { sub: "alice", id: FID, body: { parts } }));
    expect(r).toEqual({ status: 409, body: { message: "This upload was already completed" } });
    expect(s3mock.calls()).toHaveLength(0);
  });

  it("refuses to complete an aborted upload, and takes a second abort as done", async () => {
    onSession(session());
    onClosed("aborted");
    const r = await result(event("POST /uploads/{id}/complete", { sub: "alice", id: FID, body: { parts } }));
    expect(r.status).toBe(409);
    expect(r.body.message).toBe("This upload was aborted; start a new upload");
    expect((await result(event("DELETE /uploads/{id}", { sub: "alice", id: FID }))).status).toBe(204);
    expect(s3mock.calls()).toHaveLength(0);
  });

  it("refuses to abort a completed upload", async () => {
    onSession(session());
    onClosed("completed");
    const r = await result(event("DELETE /uploads/{id}", { sub: "alice", id: FID }));
    expect(r.status).toBe(409);
    expect(r.body.message).toMatch(/already completed; delete the file instead/);
    expect(s3mock.calls()).toHaveLength(0);
  });

  it("closes the session once for a completion, and re-opens it when S3 refused the parts", async () => {
    onSession(session());
    onClosed(undefined);
    ddb.on(DeleteCommand).resolves({});
    s3mock.on(CompleteMultipartUploadCommand).rejects(s3Error("InvalidPart"));
    const r = await result(event("POST /uploads/{id}/complete", { sub: "alice", id: FID, body: { parts } }));
    expect(r.status).toBe(422);
    const closed = ddb.commandCalls(PutCommand).find((c) => c.args[0].input.Item?.sk === "CLOSED");
    expect(closed?.args[0].input).toMatchObject({
      Item: { pk: `UPLOAD#${FID}`, how: "completed" },
      ConditionExpression: "attribute_not_exists(pk)",
    });
    expect(ddb.commandCalls(DeleteCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: `UPLOAD#${FID}`, sk: "CLOSED" },
      ExpressionAttributeValues: { ":how": "completed" },
    });
  });

  it("answers 409 when S3 no longer knows the upload and the file has landed", async () => {
    onSession(session());
    onClosed(undefined);
    ddb.on(DeleteCommand).resolves({});
    s3mock.on(CompleteMultipartUploadCommand).rejects(s3Error("NoSuchUpload", 404));
    onFile(record({ status: "PENDING" }));
    const r = await result(event("POST /uploads/{id}/complete", { sub: "alice", id: FID, body: { parts } }));
    expect(r).toEqual({ status: 409, body: { message: "This upload was already completed" } });
    expect(logger.warn).toHaveBeenCalledWith(
      "Multipart request refused by S3",
      expect.objectContaining({ s3Error: "NoSuchUpload", fileId: FID }),
    );
  });

  it("answers 409 when S3 no longer knows the upload (aborted or expired there)", async () => {
    onSession(session());
    onFile(undefined);
    onClosed(undefined);
    ddb.on(DeleteCommand).resolves({});
    s3mock.on(CompleteMultipartUploadCommand).rejects(s3Error("NoSuchUpload", 404));
    s3mock.on(AbortMultipartUploadCommand).rejects(s3Error("NoSuchUpload", 404));
    const done = await result(
      event("POST /uploads/{id}/complete", { sub: "alice", id: FID, body: { parts } }),
    );
    expect(done.status).toBe(409);
    expect(done.body.message).toMatch(/no longer open: it was aborted or has expired/);
    expect((await result(event("DELETE /uploads/{id}", { sub: "alice", id: FID }))).status).toBe(409);
  });

  it("answers 422 when a part was never uploaded (S3 InvalidPart)", async () => {
    onSession(session());
    onClosed(undefined);
    ddb.on(DeleteCommand).resolves({});
    s3mock.on(CompleteMultipartUploadCommand).rejects(s3Error("InvalidPart"));
    const r = await result(event("POST /uploads/{id}/complete", { sub: "alice", id: FID, body: { parts } }));
    expect(r.status).toBe(422);
    expect(r.body.message).toMatch(/never uploaded/);
    expect(JSON.stringify(r.body)).not.toMatch(/InvalidPart/);
  });

  it.each([
    ["a missing part", parts.slice(0, 2)],
    ["a part listed twice", [...parts, { partNumber: 3, etag: '"c"' }]],
    ["a part beyond the plan", [...parts, { partNumber: 4, etag: '"d"' }]],
  ])("answers 422 for %s without asking S3", async (_what, given) => {
    onSession(session());
    const r = await result(
      event("POST /uploads/{id}/complete", { sub: "alice", id: FID, body: { parts: given } }),
    );
    expect(r.status).toBe(422);
    expect(r.body.message).toMatch(/this upload has 3 parts/);
    expect(s3mock.calls()).toHaveLength(0);
  });

  it("sends the parts in order when the client listed them out of order", async () => {
    onSession(session());
    ddb.on(PutCommand).resolves({});
    onClosed(undefined);
    s3mock.on(CompleteMultipartUploadCommand).resolves({});
    const r = await result(
      event("POST /uploads/{id}/complete", { sub: "alice", id: FID, body: { parts: [...parts].reverse() } }),
    );
    expect(r.status).toBe(200);
    const sent = s3mock.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input;
    expect(sent?.MultipartUpload?.Parts?.map((p) => p.PartNumber)).toEqual([1, 2, 3]);
  });

  it("answers 409 to completing an upload whose session expired", async () => {
    onSession(session({ expiresAt: Math.floor(NOW.getTime() / 1000) - 61 }));
    const r = await result(event("POST /uploads/{id}/complete", { sub: "alice", id: FID, body: { parts } }));
    expect(r.status).toBe(409);
    expect(r.body.message).toMatch(/expired/);
    expect(s3mock.calls()).toHaveLength(0);
  });

  it.each([
    ["{not json", 400, /must be JSON/],
    ["", 400, /must be JSON/],
    ["[]", 422, /Invalid request/],
    ['{"parts":[{"partNumber":1,"etag":"x"}],"extra":true}', 422, /this upload has 3 parts/],
    [JSON.stringify({ parts: [{ partNumber: 1, etag: "x".repeat(300) }] }), 422, /etag/],
  ])("answers the body %j with %i", async (rawBody, status, message) => {
    onSession(session());
    const r = await result(event("POST /uploads/{id}/complete", { sub: "alice", id: FID, rawBody }));
    expect(r.status).toBe(status);
    expect(r.body.message).toMatch(message);
  });
});

describe("Route: GET /uploads/policy", () => {
  it("tells a signed-in client the size limit, the types with their extensions, and both in words", async () => {
    const r = await result(event("GET /uploads/policy", { sub: "alice" }));
    expect(r).toEqual({
      status: 200,
      body: {
        maxSizeBytes: 100 * 1024 * 1024,
        multipartThresholdBytes: 500,
        types: [
          { id: "pdf", contentType: "application/pdf", extensions: ["pdf"] },
          { id: "png", contentType: "image/png", extensions: ["png"] },
          { id: "txt", contentType: "text/plain", extensions: ["txt", "text", "log", "md", "csv", "json"] },
        ],
        description: "PDF, images (PNG) and text (plain text), up to 100 MiB each",
      },
    });
    expect((await result(event("GET /uploads/policy"))).status).toBe(401);
  });
});

describe("Route: GET /uploads/{id}/parts", () => {
  const MiB = 1024 * 1024;

  it("answers 404 for another owner's upload, an unknown one and an id that cannot exist", async () => {
    onSession(session({ owner: tokenOwner(ISSUER, "bob") }));
    expect(await result(event("GET /uploads/{id}/parts", { sub: "alice", id: FID }))).toEqual({
      status: 404,
      body: { message: "No such upload" },
    });
    ddb.reset();
    onSession(undefined);
    expect((await result(event("GET /uploads/{id}/parts", { sub: "alice", id: FID }))).status).toBe(404);
    expect((await result(event("GET /uploads/{id}/parts", { sub: "alice", id: "../x" }))).status).toBe(404);
    expect(s3mock.commandCalls(ListPartsCommand)).toHaveLength(0);
  });

  it("lists the parts S3 holds and signs only the missing ones, each for its length", async () => {
    onSession(session({ size: 20 * MiB }));
    s3mock.on(ListPartsCommand).resolves({
      IsTruncated: false,
      // Part 3 has another length than planned: it cannot be completed, so it is sent again.
      Parts: [
        { PartNumber: 1, ETag: '"e1"', Size: 8 * MiB },
        { PartNumber: 3, ETag: '"e3"', Size: 1 },
      ],
    });
    const r = await result(event("GET /uploads/{id}/parts", { sub: "alice", id: FID }));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      fileId: FID,
      key: `uploads/${FID}/big.txt`,
      upload: {
        method: "MULTIPART",
        uploadId: "mpu-1",
        partSize: 8 * MiB,
        uploaded: [{ partNumber: 1, size: 8 * MiB, etag: '"e1"' }],
      },
    });
    const parts = r.body.upload.parts as { partNumber: number; size: number; url: string }[];
    expect(parts.map(({ partNumber, size }) => ({ partNumber, size }))).toEqual([
      { partNumber: 2, size: 8 * MiB },
      { partNumber: 3, size: 4 * MiB },
    ]);
    for (const part of parts) {
      const url = new URL(part.url);
      expect(url.pathname).toBe(`/uploads/${FID}/big.txt`);
      expect(url.searchParams.get("partNumber")).toBe(String(part.partNumber));
      expect(url.searchParams.get("uploadId")).toBe("mpu-1");
      expect(url.searchParams.get("X-Amz-SignedHeaders")?.split(";")).toContain("content-length");
      expect(Number(url.searchParams.get("X-Amz-Expires"))).toBeLessThanOrEqual(300);
    }
    expect(s3mock.commandCalls(ListPartsCommand)[0]?.args[0].input).toMatchObject({
      Bucket: "ingest",
      Key: `uploads/${FID}/big.txt`,
      UploadId: "mpu-1",
    });
  });

  it("reads every page of parts, and signs URLs that end with the session", async () => {
    onSession(session({ size: 20 * MiB, expiresAt: Math.floor(NOW.getTime() / 1000) + 42 }));
    s3mock
      .on(ListPartsCommand, { PartNumberMarker: undefined })
      .resolves({
        IsTruncated: true,
        NextPartNumberMarker: "1",
        Parts: [{ PartNumber: 1, ETag: '"e1"', Size: 8 * MiB }],
      })
      .on(ListPartsCommand, { PartNumberMarker: "1" })
      .resolves({ IsTruncated: false, Parts: [{ PartNumber: 2, ETag: '"e2"', Size: 8 * MiB }] });
    const r = await result(event("GET /uploads/{id}/parts", { sub: "alice", id: FID }));
    expect(r.body.upload.uploaded.map((p: { partNumber: number }) => p.partNumber)).toEqual([1, 2]);
    expect(r.body.upload.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([3]);
    expect(new URL(r.body.upload.parts[0].url).searchParams.get("X-Amz-Expires")).toBe("42");
    expect(s3mock.commandCalls(ListPartsCommand)).toHaveLength(2);
  });

  it("answers 409 for an upload that is not multipart, has expired, or that S3 no longer knows", async () => {
    onSession(session({ multipartUploadId: undefined }));
    const single = await result(event("GET /uploads/{id}/parts", { sub: "alice", id: FID }));
    expect(single).toEqual({ status: 409, body: { message: "This upload is not a multipart upload" } });
    ddb.reset();
    onSession(session({ expiresAt: Math.floor(NOW.getTime() / 1000) - 1 }));
    const expired = await result(event("GET /uploads/{id}/parts", { sub: "alice", id: FID }));
    expect(expired.status).toBe(409);
    expect(expired.body.message).toMatch(/^This upload expired at .*; start a new upload$/);
    expect(s3mock.commandCalls(ListPartsCommand)).toHaveLength(0);
    ddb.reset();
    onSession(session());
    onFile(undefined);
    s3mock.on(ListPartsCommand).rejects(s3Error("NoSuchUpload", 404));
    const gone = await result(event("GET /uploads/{id}/parts", { sub: "alice", id: FID }));
    expect(gone.status).toBe(409);
    expect(gone.body.message).toMatch(/no longer open: it was aborted or has expired/);
  });
});

describe("Ids that cannot exist", () => {
  it.each([
    "GET /files/{id}",
    "GET /files/{id}/download",
    "DELETE /files/{id}",
    "POST /uploads/{id}/complete",
    "DELETE /uploads/{id}",
  ])("%s answers 404 to an 8,000-character id without asking the store", async (route) => {
    const r = await result(event(route, { sub: "alice", id: "a".repeat(8000), body: {} }));
    expect(r.status).toBe(404);
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe("Public records", () => {
  const failed = record({
    status: "FAILED",
    cleanKey: undefined,
    reasons: [
      "clamav: engine-unavailable: connect ECONNREFUSED 10.0.3.7:3310",
      "metadata stage failed: dead-lettered (last error: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/x is not authorized)",
    ],
    stageFailures: { metadata: "AccessDeniedException: arn:aws:sts::123456789012" },
    stages: {
      validate: {
        stage: "validate",
        status: "passed",
        reasons: [],
        size: 10,
        detectedType: { id: "pdf", mime: "application/pdf", ext: "pdf" },
        at: "t",
      },
      scan: {
        stage: "scan",
        status: "error",
        engines: [
          { engine: "builtin", status: "clean" },
          {
            engine: "clamav",
            status: "error",
            reason: "engine-unavailable",
            detail: "connect ECONNREFUSED 10.0.3.7:3310",
          },
        ],
        reasons: ["clamav: engine-unavailable: connect ECONNREFUSED 10.0.3.7:3310"],
        at: "t",
      },
      metadata: {
        stage: "metadata",
        status: "error",
        reasons: [
          "metadata stage failed: dead-lettered (last error: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/x is not authorized)",
        ],
        facts: {
          sha256: "ab".repeat(32),
          size: 10,
          ocr: {
            engine: "textract",
            mode: "best-effort",
            status: "failed",
            reason: "AccessDeniedException: arn:aws:sts::123456789012",
            jobId: "job-1",
            at: "t",
          },
        },
        at: "t",
      },
    },
  });

  it("keeps stage error details and last-error texts out of the response", async () => {
    onFile(failed);
    const r = await result(event("GET /files/{id}", { sub: "alice", id: FID }));
    expect(r.status).toBe(200);
    const text = JSON.stringify(r.body);
    for (const secret of ["ECONNREFUSED", "10.0.3.7", "last error", "arn:aws", "AccessDenied", "job-1"])
      expect(text).not.toContain(secret);
    expect(r.body.stageFailures).toBeUndefined();
    expect(r.body.reasons).toEqual([
      "clamav: engine-unavailable: details are in the service logs",
      "the file's facts could not be read",
    ]);
  });

  it("keeps the plain reasons of a content verdict", async () => {
    onFile(
      record({
        status: "REJECTED",
        cleanKey: undefined,
        reasons: ["extension .exe does not match the detected type pdf"],
        stages: {
          validate: {
            stage: "validate",
            status: "rejected",
            reasons: ["extension .exe does not match the detected type pdf"],
            size: 10,
            at: "t",
          },
          scan: {
            stage: "scan",
            status: "error",
            engines: [
              {
                engine: "builtin",
                status: "error",
                reason: "encrypted",
                detail: "entry a.docx is encrypted",
              },
            ],
            reasons: ["builtin: encrypted: entry a.docx is encrypted"],
            at: "t",
          },
          metadata: { stage: "metadata", status: "ok", reasons: [], at: "t" },
        },
      }),
    );
    const r = await result(event("GET /files/{id}", { sub: "alice", id: FID }));
    expect(r.body.reasons).toEqual([
      "extension .exe does not match the detected type pdf",
      "builtin: encrypted: entry a.docx is encrypted",
    ]);
  });
});

describe("Deleted files", () => {
  const preview = "the confidential words of the file";
  const deletedItem = record({
    status: "DELETED",
    deletedAt: "2026-11-22T09:00:00.000Z",
    stages: {
      metadata: {
        stage: "metadata",
        status: "ok",
        reasons: [],
        at: "t",
        facts: {
          sha256: "ab".repeat(32),
          size: 10,
          extracted: { source: "pdf", characters: 34, words: 5, preview, truncated: false },
        },
      },
    },
    sha256: "ab".repeat(32),
    textKey: `text/${FID}.txt`,
  });

  it("lists a deleted file as an audit stub only", async () => {
    // The owner index lists the key; the record comes from the table.
    ddb.on(QueryCommand).resolves({ Items: [{ pk: deletedItem.pk, sk: deletedItem.sk }] });
    ddb
      .on(BatchGetCommand)
      .resolves({ Responses: { files: [{ ...deletedItem, gsi1pk: `OWNER#${ALICE}` }] } });
    const r = await result(event("GET /files", { sub: "alice", query: { status: "DELETED" } }));
    expect(r.status).toBe(200);
    expect(r.body.files).toEqual([
      {
        fileId: FID,
        name: "a.pdf",
        status: "DELETED",
        createdAt: "t",
        updatedAt: "t",
        deletedAt: "2026-11-22T09:00:00.000Z",
      },
    ]);
    expect(JSON.stringify(r.body)).not.toContain(preview);
  });

  it("shows a deleted file as its stub, and answers 410 to its download", async () => {
    onFile(deletedItem);
    const r = await result(event("GET /files/{id}", { sub: "alice", id: FID }));
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual([
      "createdAt",
      "deletedAt",
      "fileId",
      "name",
      "status",
      "updatedAt",
    ]);
    expect((await result(event("GET /files/{id}/download", { sub: "alice", id: FID }))).status).toBe(410);
  });

  it("erases every version of the ingest object, the clean object and its text, and the staged text", async () => {
    onFile(record({ textKey: `text/${FID}.txt` }));
    ddb.on(UpdateCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});
    s3mock
      .on(ListObjectVersionsCommand, { Bucket: "ingest" })
      .resolves({ Versions: [{ Key: key, VersionId: "v-ingest" }] })
      .on(ListObjectVersionsCommand, { Bucket: "clean", Prefix: key })
      .resolves({
        Versions: [
          { Key: key, VersionId: "c2" },
          { Key: key, VersionId: "c1" },
          { Key: `${key}.txt`, VersionId: "other-file" },
        ],
        DeleteMarkers: [{ Key: key, VersionId: "m1" }],
      })
      .on(ListObjectVersionsCommand, { Bucket: "clean", Prefix: `text/${FID}.txt` })
      .resolves({ Versions: [{ Key: `text/${FID}.txt`, VersionId: "t1" }] });
    s3mock.on(DeleteObjectCommand).resolves({});

    expect((await result(event("DELETE /files/{id}", { sub: "alice", id: FID }))).status).toBe(204);

    const deleted = s3mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input);
    expect(deleted).toEqual([
      { Bucket: "ingest", Key: key, VersionId: "v-ingest" },
      { Bucket: "clean", Key: key, VersionId: "c2" },
      { Bucket: "clean", Key: key, VersionId: "c1" },
      { Bucket: "clean", Key: key, VersionId: "m1" },
      { Bucket: "clean", Key: `text/${FID}.txt`, VersionId: "t1" },
    ]);
    const mark = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(mark?.ConditionExpression).toBe("attribute_exists(pk) AND seq = :seq");
    expect(mark?.UpdateExpression).toMatch(/stages = :stages REMOVE sha256, detectedType/);
    expect(ddb.commandCalls(DeleteCommand).map((c) => c.args[0].input.Key)).toEqual([
      { pk: `FILE#${FID}`, sk: "TEXT" },
      { pk: `FILE#${FID}`, sk: "OCR" },
    ]);
    const audit = ddb.commandCalls(PutCommand).find((c) => c.args[0].input.Item?.action === "delete");
    expect(audit?.args[0].input.Item?.detail.erased[1]).toEqual({
      bucket: "clean",
      key,
      versionIds: ["c2", "c1", "m1"],
    });
  });

  it("sends plain deletes where the buckets have no versioning (the event named no version id)", async () => {
    onFile(
      record({
        status: "REJECTED",
        cleanKey: undefined,
        version: { bucket: "ingest", key, sequencer: "1", size: 10 },
      }),
    );
    ddb.on(UpdateCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});
    s3mock.on(DeleteObjectCommand).resolves({});
    expect((await result(event("DELETE /files/{id}", { sub: "alice", id: FID }))).status).toBe(204);
    expect(s3mock.commandCalls(ListObjectVersionsCommand)).toHaveLength(0);
    expect(s3mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: "ingest", Key: key },
      { Bucket: "clean", Key: key },
      { Bucket: "clean", Key: `text/${FID}.txt` },
    ]);
  });

  it("repeats the erasure when a deleted file is deleted again", async () => {
    onFile(deletedItem);
    ddb.on(PutCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});
    s3mock.on(ListObjectVersionsCommand).resolves({});
    expect((await result(event("DELETE /files/{id}", { sub: "alice", id: FID }))).status).toBe(204);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(s3mock.commandCalls(ListObjectVersionsCommand)).toHaveLength(3);
  });

  it("refuses to delete a file the pipeline still works on", async () => {
    for (const item of [
      record({ status: "PENDING", cleanKey: undefined }),
      record({ cleanKey: undefined }),
    ]) {
      onFile(item);
      const r = await result(event("DELETE /files/{id}", { sub: "alice", id: FID }));
      expect(r.status).toBe(409);
      expect(r.body.message).toMatch(/still being checked/);
    }
    expect(s3mock.calls()).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
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
