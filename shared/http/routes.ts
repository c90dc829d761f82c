/**
 * The HTTP API's routes, on API Gateway payload v2 events. Every call is scoped to the JWT subject: another
 * owner's file answers 404, exactly like a file that does not exist.
 */

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from "aws-lambda";
import { z } from "zod";
import { contentTypeAgrees } from "../content/validate.ts";
import { fileName } from "../domain/keys.ts";
import { TYPE_MIMES } from "../domain/mime.ts";
import type { FileRecord, FileStatus } from "../domain/types.ts";
import type { RecordStore } from "../ports.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import {
  badRequest,
  conflict,
  HttpError,
  notFound,
  tooLarge,
  unprocessable,
  unsupportedType,
} from "./errors.ts";
import { newFileId, safeFileName } from "./ids.ts";

/** Every route of the HTTP API, as API Gateway route keys. */
export const API_ROUTES = [
  "POST /uploads",
  "POST /uploads/{id}/complete",
  "DELETE /uploads/{id}",
  "GET /files",
  "GET /files/{id}",
  "GET /files/{id}/download",
  "DELETE /files/{id}",
] as const;

export interface ApiDeps {
  records: RecordStore;
  s3: S3Client;
  ingestBucket: string;
  cleanBucket: string;
  maxSizeBytes: number;
  allowedTypes: readonly string[];
  uploadExpirySeconds: number;
  downloadExpirySeconds: number;
  multipartThresholdBytes: number;
  cursorSecret: string;
  now?: () => Date;
}

type Event = APIGatewayProxyEventV2WithJWTAuthorizer;
type Result = { statusCode: number; headers?: Record<string, string>; body?: string };

const PREVIEWABLE = new Set(["png", "jpg", "gif", "webp", "pdf"]);
const STATUSES: FileStatus[] = ["PENDING", "VERIFIED", "REJECTED", "INFECTED", "FAILED", "DELETED"];

/** The allowed type a declared Content-Type stands for, if any. */
export function typeForContentType(contentType: string, allowed: readonly string[]): string | undefined {
  return allowed.find((id) => {
    const mime = TYPE_MIMES[id];
    return mime !== undefined && contentTypeAgrees({ id, mime, ext: id }, contentType);
  });
}

const uploadRequest = z.object({
  filename: z.string().min(1).max(1024),
  contentType: z.string().min(1).max(255),
  size: z.number().int().positive(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/i)
    .optional(),
});
const completeRequest = z.object({
  parts: z
    .array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1) }))
    .min(1),
});
const listQuery = z.object({
  status: z.enum(STATUSES as [FileStatus, ...FileStatus[]]).optional(),
  /** A detected type id, as in the allow-list (`pdf`, `png`, `docx`, …). */
  type: z
    .string()
    .regex(/^[a-z0-9]{1,16}$/, "must be a type id such as pdf or png")
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(4096).optional(),
});

const json = (statusCode: number, body: unknown): Result => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

function parseBody<T>(event: Event, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    const text = event.isBase64Encoded
      ? Buffer.from(event.body ?? "", "base64").toString("utf8")
      : (event.body ?? "");
    raw = JSON.parse(text);
  } catch {
    throw badRequest("The request body must be JSON");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw unprocessable(
      `Invalid request: ${issue?.path.join(".") || "body"} ${issue?.message ?? "is invalid"}`,
    );
  }
  return parsed.data;
}

/**
 * What a caller sees of a file record. A file decided VERIFIED is shown PENDING until its promotion is recorded:
 * to a caller, VERIFIED means "downloadable now", and the copy to the clean bucket follows the decision.
 */
export function publicRecord(record: FileRecord) {
  const promoting = record.status === "VERIFIED" && !record.cleanKey;
  return {
    fileId: record.fileId,
    name: fileName(record.key),
    status: promoting ? "PENDING" : record.status,
    reasons: record.reasons,
    size: record.size,
    sha256: record.sha256,
    detectedType: record.detectedType,
    stages: record.stages,
    textKey: record.textKey,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    decidedAt: promoting ? undefined : record.decidedAt,
  };
}

export function createRoutes(deps: ApiDeps) {
  const now = deps.now ?? (() => new Date());

  async function ownFile(owner: string, id: string | undefined): Promise<FileRecord> {
    if (!id) throw notFound();
    const record = await deps.records.get(id);
    if (!record || record.owner !== owner || record.status === "DELETED") throw notFound();
    return record;
  }

  async function ownSession(owner: string, id: string | undefined) {
    const session = id ? await deps.records.getUploadSession(id) : undefined;
    if (!session || session.owner !== owner) throw notFound("No such upload");
    return session;
  }

  const routes: Record<(typeof API_ROUTES)[number], (event: Event, owner: string) => Promise<Result>> = {
    async "POST /uploads"(event, owner) {
      const request = parseBody(event, uploadRequest);
      if (request.size > deps.maxSizeBytes) {
        throw tooLarge(`The file is ${request.size} bytes; the limit is ${deps.maxSizeBytes} bytes`);
      }
      const contentType = request.contentType.split(";")[0]?.trim().toLowerCase() ?? "";
      const type = typeForContentType(contentType, deps.allowedTypes);
      if (!type) throw unsupportedType(`Files of type ${contentType} are not accepted`);
      const name = safeFileName(request.filename);
      if (!name) throw unprocessable("Invalid request: filename has no usable name");
      const fileId = newFileId(now().getTime());
      const key = `uploads/${fileId}/${name}`;
      const expiresAt = Math.floor(now().getTime() / 1000) + deps.uploadExpirySeconds;
      const metadata = { "x-amz-meta-owner": owner, "x-amz-meta-upload-id": fileId };
      let multipartUploadId: string | undefined;
      let upload: Record<string, unknown>;
      if (request.size > deps.multipartThresholdBytes) {
        const created = await deps.s3.send(
          new CreateMultipartUploadCommand({
            Bucket: deps.ingestBucket,
            Key: key,
            ContentType: contentType,
            Metadata: { owner, "upload-id": fileId },
          }),
        );
        multipartUploadId = created.UploadId;
        const partSize = Math.max(8 * 1024 * 1024, Math.ceil(request.size / 10_000));
        const count = Math.ceil(request.size / partSize);
        const parts = await Promise.all(
          Array.from({ length: count }, async (_, i) => ({
            partNumber: i + 1,
            url: await getSignedUrl(
              deps.s3,
              new UploadPartCommand({
                Bucket: deps.ingestBucket,
                Key: key,
                UploadId: multipartUploadId,
                PartNumber: i + 1,
              }),
              { expiresIn: deps.uploadExpirySeconds },
            ),
          })),
        );
        upload = { method: "MULTIPART", uploadId: multipartUploadId, partSize, parts };
      } else {
        const post = await createPresignedPost(deps.s3, {
          Bucket: deps.ingestBucket,
          Key: key,
          Conditions: [
            ["content-length-range", request.size, request.size],
            ["eq", "$Content-Type", contentType],
            ["eq", "$x-amz-meta-owner", owner],
            ["eq", "$x-amz-meta-upload-id", fileId],
          ],
          Fields: { "Content-Type": contentType, ...metadata },
          Expires: deps.uploadExpirySeconds,
        });
        upload = { method: "POST", url: post.url, fields: post.fields };
      }
      // Independent writes: the session (conditional on a fresh id) and the audit entry go out together.
      await Promise.all([
        deps.records.putUploadSession({
          fileId,
          owner,
          key,
          filename: name,
          contentType,
          size: request.size,
          sha256: request.sha256,
          multipartUploadId,
          expiresAt,
          createdAt: now().toISOString(),
        }),
        deps.records.audit(fileId, {
          action: "presign",
          actor: owner,
          detail: { key, size: request.size, contentType },
        }),
      ]);
      return json(201, { fileId, key, expiresAt: new Date(expiresAt * 1000).toISOString(), upload });
    },

    async "POST /uploads/{id}/complete"(event, owner) {
      const session = await ownSession(owner, event.pathParameters?.id);
      if (!session.multipartUploadId) throw conflict("This upload is not a multipart upload");
      const request = parseBody(event, completeRequest);
      await deps.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: deps.ingestBucket,
          Key: session.key,
          UploadId: session.multipartUploadId,
          MultipartUpload: { Parts: request.parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
      await deps.records.audit(session.fileId, {
        action: "upload",
        actor: owner,
        detail: { parts: request.parts.length },
      });
      return json(200, { fileId: session.fileId, status: "PENDING" });
    },

    async "DELETE /uploads/{id}"(event, owner) {
      const session = await ownSession(owner, event.pathParameters?.id);
      if (!session.multipartUploadId) throw conflict("This upload is not a multipart upload");
      await deps.s3.send(
        new AbortMultipartUploadCommand({
          Bucket: deps.ingestBucket,
          Key: session.key,
          UploadId: session.multipartUploadId,
        }),
      );
      await deps.records.audit(session.fileId, { action: "abort", actor: owner });
      return { statusCode: 204 };
    },

    async "GET /files"(event, owner) {
      const parsed = listQuery.safeParse(event.queryStringParameters ?? {});
      if (!parsed.success)
        throw badRequest(
          `Invalid query: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`,
        );
      const { status, type, limit, cursor } = parsed.data;
      const after = cursor ? decodeCursor(cursor, owner, deps.cursorSecret) : undefined;
      const page = await deps.records.list({ owner, status, type, limit, after });
      const files = page.records
        .filter((r) => status === "DELETED" || r.status !== "DELETED")
        .map(publicRecord);
      return json(200, {
        files,
        nextCursor: page.last ? encodeCursor(page.last, owner, deps.cursorSecret) : null,
      });
    },

    async "GET /files/{id}"(event, owner) {
      const id = event.pathParameters?.id;
      const record = id ? await deps.records.get(id) : undefined;
      if (record && record.owner === owner && record.status !== "DELETED")
        return json(200, publicRecord(record));
      // Presigned but not landed yet: say so, to the uploader only.
      const session = id ? await deps.records.getUploadSession(id) : undefined;
      if (!record && session && session.owner === owner) {
        return json(200, {
          fileId: session.fileId,
          name: session.filename,
          status: "AWAITING_UPLOAD",
          size: session.size,
        });
      }
      throw notFound();
    },

    async "GET /files/{id}/download"(event, owner) {
      const record = await ownFile(owner, event.pathParameters?.id);
      if (record.status !== "VERIFIED" || !record.cleanKey) {
        const { status } = publicRecord(record);
        throw conflict(`The file is ${status}; only VERIFIED files can be downloaded`, { status });
      }
      const inline = event.queryStringParameters?.inline === "1";
      const type = record.detectedType;
      if (inline && !(type && PREVIEWABLE.has(type.id)))
        throw conflict("Only images and PDF files can be previewed inline");
      const name = fileName(record.key);
      const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
      const disposition = `${inline ? "inline" : "attachment"}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
      const url = await getSignedUrl(
        deps.s3,
        new GetObjectCommand({
          Bucket: deps.cleanBucket,
          Key: record.cleanKey,
          ResponseContentDisposition: disposition,
          ResponseContentType: type?.mime ?? "application/octet-stream",
        }),
        { expiresIn: deps.downloadExpirySeconds },
      );
      await deps.records.audit(record.fileId, { action: "download", actor: owner, detail: { inline } });
      return json(200, {
        url,
        expiresAt: new Date(now().getTime() + deps.downloadExpirySeconds * 1000).toISOString(),
      });
    },

    async "DELETE /files/{id}"(event, owner) {
      const record = await ownFile(owner, event.pathParameters?.id);
      const deleteClean = async (listed: FileRecord) => {
        if (listed.cleanKey)
          await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.cleanBucket, Key: listed.cleanKey }));
        if (listed.textKey)
          await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.cleanBucket, Key: listed.textKey }));
      };
      await deleteClean(record);
      await deps.s3.send(
        new DeleteObjectCommand({
          Bucket: record.version.bucket,
          Key: record.version.key,
          VersionId: record.version.versionId,
        }),
      );
      await deps.records.markDeleted(record.fileId);
      // A promotion that finished meanwhile recorded its copies before the delete: they go too. Nothing is
      // recorded on a DELETED file (promotion records only on a VERIFIED one), so this second look is the last.
      const after = await deps.records.get(record.fileId);
      if (after) await deleteClean(after);
      await deps.records.audit(record.fileId, { action: "delete", actor: owner });
      return { statusCode: 204 };
    },
  };

  /** Dispatches an API Gateway v2 event; known errors become JSON with their status, others a bare 500. */
  return async function handle(event: Event): Promise<APIGatewayProxyResultV2> {
    const route = routes[event.routeKey as (typeof API_ROUTES)[number]];
    if (!route) return json(404, { message: `No route ${event.routeKey}` });
    const owner = event.requestContext.authorizer?.jwt?.claims?.sub;
    if (typeof owner !== "string" || owner === "") return json(401, { message: "Unauthorized" });
    try {
      return await route(event, owner);
    } catch (error) {
      if (error instanceof HttpError) return json(error.status, { message: error.message, ...error.details });
      throw error;
    }
  };
}
