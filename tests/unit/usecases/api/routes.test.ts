/**
 * Every route on in-memory fakes: one acceptance and one rejection each, and the error table (every named error
 * has one status; anything else escapes for the middleware's bare 500).
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { ERROR_TABLE, errorResponse } from "../../../../core/http/error-table.ts";
import { type API_ROUTES, createRoutes } from "../../../../core/http/routes.ts";
import * as errors from "../../../../core/usecases/api/errors.ts";
import {
  FID,
  fileRecord,
  MemoryApiRecords,
  MemoryDownloads,
  MemoryEraser,
  MemoryStaged,
  MemoryUploadStorage,
  NOW,
  uploadSession,
} from "./fakes.ts";

const ISSUER = "https://idp.example.com/";

function setup() {
  const records = new MemoryApiRecords();
  const uploads = new MemoryUploadStorage();
  const staged = new MemoryStaged();
  const handle = createRoutes({
    records,
    texts: staged,
    ocrJobs: staged,
    uploads,
    downloads: new MemoryDownloads(),
    eraser: new MemoryEraser(),
    cleanBucket: "clean",
    maxSizeBytes: 1000,
    allowedTypes: ["pdf", "txt"],
    uploadExpirySeconds: 300,
    downloadExpirySeconds: 60,
    multipartThresholdBytes: 500,
    cursorSecret: "c".repeat(40),
    now: () => NOW,
  });
  const call = async (
    routeKey: (typeof API_ROUTES)[number],
    options: { id?: string; body?: unknown; query?: Record<string, string>; sub?: string } = {},
  ) => {
    const event = {
      routeKey,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      isBase64Encoded: false,
      pathParameters: options.id ? { id: options.id } : undefined,
      queryStringParameters: options.query,
      requestContext: {
        authorizer: { jwt: { claims: { iss: ISSUER, sub: options.sub ?? "alice" }, scopes: [] } },
      },
    } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
    const r = (await handle(event)) as { statusCode: number; body?: string };
    return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined };
  };
  return { records, uploads, call };
}

const parts = [
  { partNumber: 1, etag: '"e1"' },
  { partNumber: 2, etag: '"e2"' },
  { partNumber: 3, etag: '"e3"' },
];

describe("Routes on fakes", () => {
  it("GET /uploads/policy: 200 with the policy; 404 for a route that does not exist", async () => {
    const { call } = setup();
    expect((await call("GET /uploads/policy")).body).toMatchObject({ maxSizeBytes: 1000 });
    expect((await call("GET /nope" as (typeof API_ROUTES)[number])).status).toBe(404);
  });

  it("POST /uploads: 201 with the plan; 400 for a body that is not JSON, 422 for one off the contract", async () => {
    const { call } = setup();
    const ok = await call("POST /uploads", {
      body: { filename: "a.pdf", contentType: "application/pdf", size: 10 },
    });
    expect(ok).toMatchObject({
      status: 201,
      body: { fileId: expect.stringMatching(/^[a-z0-9]{26}$/), upload: { method: "POST" } },
    });
    expect((await call("POST /uploads", { body: "{" })).status).toBe(422);
    const notJson = await setup().call("POST /uploads", { body: undefined });
    expect(notJson).toEqual({ status: 400, body: { message: "The request body must be JSON" } });
    const bad = await call("POST /uploads", {
      body: { filename: "a.pdf", contentType: "application/pdf", size: -1 },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toMatch(/^Invalid request: size /);
  });

  it("POST /uploads: the file-name policy's code and the extension mismatch code reach the client", async () => {
    const { call } = setup();
    const mismatch = await call("POST /uploads", {
      body: { filename: "a.txt", contentType: "application/pdf", size: 10 },
    });
    expect(mismatch).toMatchObject({ status: 422, body: { code: "name-extension-mismatch" } });
    const large = await call("POST /uploads", {
      body: { filename: "a.pdf", contentType: "application/pdf", size: 2000 },
    });
    expect(large).toEqual({
      status: 413,
      body: { message: "The file is 2000 bytes; the limit is 1000 bytes" },
    });
  });

  it("GET /uploads/{id}/parts: 200 with the plan; 404 for an unknown upload", async () => {
    const { call, records } = setup();
    records.sessions.set(FID, uploadSession());
    expect((await call("GET /uploads/{id}/parts", { id: FID })).body.upload.parts).toHaveLength(3);
    expect(await call("GET /uploads/{id}/parts", { id: FID, sub: "bob" })).toEqual({
      status: 404,
      body: { message: "No such upload" },
    });
  });

  it("POST /uploads/{id}/complete: 200 PENDING; 422 when the storage service refuses a part", async () => {
    const { call, records, uploads } = setup();
    records.sessions.set(FID, uploadSession());
    uploads.refuse = new errors.InvalidPartError({ cause: new Error("InvalidPart") });
    const refused = await call("POST /uploads/{id}/complete", { id: FID, body: { parts } });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toMatch(/never uploaded/);
    expect(await call("POST /uploads/{id}/complete", { id: FID, body: { parts } })).toEqual({
      status: 200,
      body: { fileId: FID, status: "PENDING" },
    });
  });

  it("DELETE /uploads/{id}: 204; 409 when the storage service no longer knows the upload", async () => {
    const { call, records, uploads } = setup();
    records.sessions.set(FID, uploadSession());
    uploads.refuse = new errors.UploadNotOpenError({ cause: new Error("NoSuchUpload") });
    const gone = await call("DELETE /uploads/{id}", { id: FID });
    expect(gone.status).toBe(409);
    expect(gone.body.message).toMatch(/no longer open/);
    expect((await call("DELETE /uploads/{id}", { id: FID })).status).toBe(204);
  });

  it("GET /files: 200 with a cursor that works; 400 for a bad query and for an edited cursor", async () => {
    const { call, records } = setup();
    records.files.set(FID, fileRecord());
    records.files.set(`${FID.slice(0, 25)}z`, fileRecord({ fileId: `${FID.slice(0, 25)}z` }));
    const first = await call("GET /files", { query: { limit: "1" } });
    expect(first.body.files).toHaveLength(1);
    const second = await call("GET /files", { query: { limit: "1", cursor: first.body.nextCursor } });
    expect(second.body.files[0].fileId).toBe(`${FID.slice(0, 25)}z`);
    expect((await call("GET /files", { query: { status: "NOPE" } })).status).toBe(400);
    expect(await call("GET /files", { query: { cursor: `${first.body.nextCursor}x` } })).toEqual({
      status: 400,
      body: { message: "Invalid cursor" },
    });
  });

  it("GET /files/{id}: 200; 404 for another owner's file", async () => {
    const { call, records } = setup();
    records.files.set(FID, fileRecord());
    expect((await call("GET /files/{id}", { id: FID })).body.status).toBe("VERIFIED");
    expect(await call("GET /files/{id}", { id: FID, sub: "bob" })).toEqual({
      status: 404,
      body: { message: "No such file" },
    });
  });

  it("GET /files/{id}/download: 200 with a URL; 409 with the public status when not VERIFIED", async () => {
    const { call, records } = setup();
    records.files.set(FID, fileRecord());
    expect((await call("GET /files/{id}/download", { id: FID })).body.url).toMatch(
      /^https:\/\/clean\.example\//,
    );
    records.files.set(FID, fileRecord({ status: "INFECTED", cleanKey: undefined }));
    expect(await call("GET /files/{id}/download", { id: FID })).toEqual({
      status: 409,
      body: { message: "The file is INFECTED; only VERIFIED files can be downloaded", status: "INFECTED" },
    });
  });

  it("DELETE /files/{id}: 204; 409 PENDING while the pipeline still works on it", async () => {
    const { call, records } = setup();
    records.files.set(FID, fileRecord({ status: "PENDING" }));
    expect((await call("DELETE /files/{id}", { id: FID })).body).toEqual({
      message: "The file is still being checked; it can be deleted once it has a verdict",
      status: "PENDING",
    });
    records.files.set(FID, fileRecord());
    expect((await call("DELETE /files/{id}", { id: FID })).status).toBe(204);
  });
});

describe("The error table", () => {
  const named: [string, unknown][] = Object.entries(errors).filter(([name]) => name.endsWith("Error"));

  it("gives every named error exactly one 4xx status", () => {
    expect(named.length).toBeGreaterThan(20);
    for (const [name, type] of named) {
      const rows = ERROR_TABLE.filter((row) => Object.is(row.type, type));
      expect(rows, name).toHaveLength(1);
      expect(rows[0]?.status, name).toBeGreaterThanOrEqual(400);
      expect(rows[0]?.status, name).toBeLessThan(500);
    }
  });

  it("maps nothing else: an unexpected error is left to escape", () => {
    expect(errorResponse(new Error("boom"))).toBeUndefined();
    expect(errorResponse("boom")).toBeUndefined();
  });
});
