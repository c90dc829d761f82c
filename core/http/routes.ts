/**
 * The HTTP API's routes, on API Gateway payload v2 events. Each route parses its input against the contract
 * (core/contract/api.ts), makes one use-case call (core/usecases/api/) and shapes the answer; the use cases'
 * named errors become statuses in one table (error-table.ts). Every call is scoped to its owner (issuer +
 * subject of the token, see owner.ts). Anything not in the table escapes for the error middleware: a bare 500.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from "aws-lambda";
import type { z } from "zod";
import { completeRequestSchema, listQuerySchema, uploadRequestSchema } from "../contract/api.ts";
import type { AuditLog } from "../ports/audit-log.ts";
import type { FileDeletions, FileListing } from "../ports/file-records.ts";
import type { OcrJobStore, TextStore } from "../ports/text-and-ocr.ts";
import type { UploadSessions } from "../ports/upload-sessions.ts";
import type { ContentEraser, DownloadSigner, UploadStorage } from "../ports/uploads.ts";
import type { ApiLogger, FileDeps, FileLookup, UploadDeps } from "../usecases/api/deps.ts";
import { InvalidBodyError, InvalidQueryError, MalformedBodyError } from "../usecases/api/errors.ts";
import { deleteFile, downloadLink, getFile, listFiles } from "../usecases/api/files.ts";
import {
  abortUpload,
  completeUpload,
  listParts,
  requestUpload,
  uploadPolicy,
} from "../usecases/api/uploads.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { errorResponse } from "./error-table.ts";
import { newFileId } from "./ids.ts";
import { ownerFromClaims } from "./owner.ts";

export type { ApiLogger } from "../usecases/api/deps.ts";
export { multipartPlan, typeForContentType } from "../usecases/api/uploads.ts";

/** Every route of the HTTP API, as API Gateway route keys. */
export const API_ROUTES = [
  "GET /uploads/policy",
  "POST /uploads",
  "GET /uploads/{id}/parts",
  "POST /uploads/{id}/complete",
  "DELETE /uploads/{id}",
  "GET /files",
  "GET /files/{id}",
  "GET /files/{id}/download",
  "DELETE /files/{id}",
] as const;

export interface ApiDeps {
  /** The record ports the API uses (one DynamoDB table serves them all). */
  records: FileLookup & FileListing & FileDeletions & UploadSessions & AuditLog;
  texts: Pick<TextStore, "discard">;
  ocrJobs?: Pick<OcrJobStore, "remove">;
  uploads: UploadStorage;
  downloads: DownloadSigner;
  eraser: ContentEraser;
  cleanBucket: string;
  maxSizeBytes: number;
  allowedTypes: readonly string[];
  uploadExpirySeconds: number;
  downloadExpirySeconds: number;
  multipartThresholdBytes: number;
  cursorSecret: string;
  logger?: ApiLogger;
  now?: () => Date;
}

type Event = APIGatewayProxyEventV2WithJWTAuthorizer;
type Result = { statusCode: number; headers?: Record<string, string>; body?: string };

const json = (statusCode: number, body: unknown): Result => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
const noContent = (): Result => ({ statusCode: 204 });

function parseBody<T>(event: Event, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    const text = event.isBase64Encoded
      ? Buffer.from(event.body ?? "", "base64").toString("utf8")
      : (event.body ?? "");
    raw = JSON.parse(text);
  } catch (cause) {
    throw new MalformedBodyError("The request body must be JSON", { cause });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidBodyError(issue?.path.join(".") || "body", issue?.message ?? "is invalid", {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** The `{id}` of the path; the use cases answer "no such file/upload" for one that cannot be an id. */
const pathId = (event: Event) => event.pathParameters?.id ?? "";

export function createRoutes(deps: ApiDeps) {
  const now = deps.now ?? (() => new Date());
  const uploads: UploadDeps = {
    sessions: deps.records,
    files: deps.records,
    audit: deps.records,
    storage: deps.uploads,
    settings: deps,
    now,
    newFileId,
    logger: deps.logger,
  };
  const files: FileDeps = {
    files: deps.records,
    sessions: deps.records,
    listing: deps.records,
    deletions: deps.records,
    audit: deps.records,
    downloads: deps.downloads,
    eraser: deps.eraser,
    texts: deps.texts,
    ocrJobs: deps.ocrJobs,
    cleanBucket: deps.cleanBucket,
    downloadExpirySeconds: deps.downloadExpirySeconds,
    now,
  };

  const routes: Record<(typeof API_ROUTES)[number], (event: Event, owner: string) => Promise<Result>> = {
    async "GET /uploads/policy"() {
      return json(200, uploadPolicy(deps));
    },
    async "POST /uploads"(event, owner) {
      return json(201, await requestUpload(uploads, owner, parseBody(event, uploadRequestSchema)));
    },
    async "GET /uploads/{id}/parts"(event, owner) {
      return json(200, await listParts(uploads, owner, pathId(event)));
    },
    async "POST /uploads/{id}/complete"(event, owner) {
      const request = () => parseBody(event, completeRequestSchema);
      return json(200, await completeUpload(uploads, owner, pathId(event), request));
    },
    async "DELETE /uploads/{id}"(event, owner) {
      await abortUpload(uploads, owner, pathId(event));
      return noContent();
    },
    async "GET /files"(event, owner) {
      const parsed = listQuerySchema.safeParse(event.queryStringParameters ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new InvalidQueryError(issue?.path.join(".") ?? "", issue?.message ?? "is invalid", {
          cause: parsed.error,
        });
      }
      const { cursor, ...query } = parsed.data;
      const after = cursor ? decodeCursor(cursor, owner, deps.cursorSecret) : undefined;
      const page = await listFiles(files, owner, { ...query, after });
      return json(200, {
        files: page.files,
        nextCursor: page.last ? encodeCursor(page.last, owner, deps.cursorSecret) : null,
      });
    },
    async "GET /files/{id}"(event, owner) {
      return json(200, await getFile(files, owner, pathId(event)));
    },
    async "GET /files/{id}/download"(event, owner) {
      const inline = event.queryStringParameters?.inline === "1";
      return json(200, await downloadLink(files, owner, pathId(event), { inline }));
    },
    async "DELETE /files/{id}"(event, owner) {
      await deleteFile(files, owner, pathId(event));
      return noContent();
    },
  };

  /** Dispatches an API Gateway v2 event; named errors become JSON with their status, others escape (500). */
  return async function handle(event: Event): Promise<APIGatewayProxyResultV2> {
    const route = routes[event.routeKey as (typeof API_ROUTES)[number]];
    if (!route) return json(404, { message: `No route ${event.routeKey}` });
    const owner = ownerFromClaims(event.requestContext?.authorizer?.jwt?.claims);
    if (!owner) return json(401, { message: "Unauthorized" });
    try {
      return await route(event, owner);
    } catch (error) {
      const answer = errorResponse(error);
      if (answer) return json(answer.status, answer.body);
      throw error;
    }
  };
}
