/**
 * The HTTP API's routes, on API Gateway payload v2 events. Every call is scoped to its owner (issuer + subject
 * of the token, see owner.ts): another owner's file answers 404, exactly like a file that does not exist.
 * A client's mistake is a 4xx with a message written for the client; what went wrong inside goes to the log.
 */

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from "aws-lambda";
import { z } from "zod";
import { textKey } from "../adapters/dynamo-staging.ts";
import { type Erased, eraseKey } from "../adapters/s3-erase.ts";
import { contentTypeAgrees, extensionAgrees, extensionsOf } from "../domain/content/validate.ts";
import { displayName, uploadName } from "../domain/file-names.ts";
import { extensionOf, FILE_ID } from "../domain/keys.ts";
import { TYPE_MIMES } from "../domain/mime.ts";
import { describeAccepted } from "../domain/reasons.ts";
import type { FileRecord, FileStatus, UploadSession } from "../domain/types.ts";
import type { OcrJobStore, RecordStore, TextStore } from "../ports/index.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import {
  badRequest,
  conflict,
  gone,
  HttpError,
  notFound,
  tooLarge,
  unprocessable,
  unsupportedType,
} from "./errors.ts";
import { newFileId } from "./ids.ts";
import { ownerFromClaims } from "./owner.ts";
import { publicRecord } from "./public-record.ts";

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

/** Where the routes say what a client did wrong in S3 terms, for operators. */
export interface ApiLogger {
  warn(message: string, details: Record<string, unknown>): void;
}

export interface ApiDeps {
  records: RecordStore;
  /** Staged extracted text, dropped when its file is deleted. */
  texts: Pick<TextStore, "discard">;
  /** OCR jobs (they carry the facts found before OCR), dropped when their file is deleted. */
  ocrJobs?: Pick<OcrJobStore, "remove">;
  s3: S3Client;
  ingestBucket: string;
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

const PREVIEWABLE = new Set(["png", "jpg", "gif", "webp", "pdf"]);
const STATUSES: FileStatus[] = ["PENDING", "VERIFIED", "REJECTED", "INFECTED", "FAILED", "DELETED"];
/** Seconds a multipart upload may still be completed after its session expired (as the pipeline allows). */
const COMPLETE_GRACE_SECONDS = 60;

/** The allowed type a declared Content-Type stands for, if any. */
export function typeForContentType(contentType: string, allowed: readonly string[]): string | undefined {
  return typesForContentType(contentType, allowed)[0];
}

function typesForContentType(contentType: string, allowed: readonly string[]): string[] {
  return allowed.filter((id) => {
    const mime = TYPE_MIMES[id];
    return mime !== undefined && contentTypeAgrees({ id, mime, ext: id }, contentType);
  });
}

/**
 * How a multipart upload of `size` bytes is cut: parts of at least 8 MiB, at most 10,000 of them, the last one
 * the remainder. Each part URL is signed for exactly its length.
 */
export function multipartPlan(size: number): { partSize: number; sizes: number[] } {
  const partSize = Math.max(8 * 1024 * 1024, Math.ceil(size / 10_000));
  const count = Math.ceil(size / partSize);
  const sizes = Array.from({ length: count }, (_, i) =>
    i < count - 1 ? partSize : size - partSize * (count - 1),
  );
  return { partSize, sizes };
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
    .array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(256) }))
    .min(1)
    .max(10_000),
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

/** The `{id}` of the path, when it can be a file id at all; anything else is a file that does not exist. */
function pathId(event: Event, missing: () => HttpError): string {
  const id = event.pathParameters?.id;
  if (typeof id !== "string" || !FILE_ID.test(id)) throw missing();
  return id;
}

/** How long the record of a closed upload is kept: a day past its session, longer than any retry. */
const closedUntil = (session: UploadSession) => session.expiresAt + 86_400;

const errorName = (error: unknown) => (error instanceof Error ? error.name : "");

export function createRoutes(deps: ApiDeps) {
  const now = deps.now ?? (() => new Date());
  const noSuchUpload = () => notFound("No such upload");

  async function ownFile(owner: string, event: Event): Promise<FileRecord> {
    const record = await deps.records.get(pathId(event, notFound));
    if (!record || record.owner !== owner) throw notFound();
    return record;
  }

  async function ownSession(owner: string, event: Event) {
    const session = await deps.records.getUploadSession(pathId(event, noSuchUpload));
    if (!session || session.owner !== owner) throw noSuchUpload();
    return session;
  }

  /** A multipart call S3 refused because of what the client did: said plainly, the S3 error logged. */
  async function clientMistake(
    error: unknown,
    fileId: string,
    action: string,
  ): Promise<HttpError | undefined> {
    const name = errorName(error);
    let mistake: HttpError | undefined;
    if (name === "NoSuchUpload") {
      const landed = await deps.records.get(fileId);
      mistake = conflict(
        landed
          ? "This upload was already completed"
          : "This upload is no longer open: it was aborted or has expired; start a new upload",
      );
    } else if (name === "InvalidPart")
      mistake = unprocessable(
        "A part was never uploaded, or its ETag is not the one the storage service returned for it",
      );
    else if (name === "InvalidPartOrder")
      mistake = unprocessable("The parts must be listed in ascending order of part number");
    else if (name === "EntityTooSmall")
      mistake = unprocessable("Every part but the last must be the size the upload plan gave it");
    if (mistake)
      deps.logger?.warn("Multipart request refused by S3", {
        fileId,
        action,
        s3Error: name,
        s3Message: error instanceof Error ? error.message : String(error),
      });
    return mistake;
  }

  /**
   * Erases every stored copy of a file's content: all versions of its ingest and clean objects and of its
   * extracted text, the staged text and any OCR job. Idempotent, so a failed delete can be repeated. The buckets
   * are versioned exactly when the file's S3 event named a version id (see s3-erase.ts).
   */
  async function erase(record: FileRecord): Promise<Erased[]> {
    const versioned = record.version.versionId !== undefined;
    const targets = [
      { bucket: record.version.bucket, key: record.version.key },
      { bucket: deps.cleanBucket, key: record.cleanKey ?? record.version.key },
      { bucket: deps.cleanBucket, key: record.textKey ?? textKey(record.fileId) },
    ];
    const erased: Erased[] = [];
    for (const target of targets) erased.push(await eraseKey(deps.s3, { ...target, versioned }));
    await deps.texts.discard(record.fileId);
    await deps.ocrJobs?.remove(record.fileId);
    return erased;
  }

  /**
   * A part's upload URL. Content-Length is a signed header: S3 refuses a part of any other length, so the parts
   * together can never exceed the declared size, however often a URL is reused before it expires.
   */
  async function signPart(
    key: string,
    uploadId: string,
    part: { partNumber: number; size: number },
    expiresIn: number,
  ) {
    const url = await getSignedUrl(
      deps.s3,
      new UploadPartCommand({
        Bucket: deps.ingestBucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: part.partNumber,
        ContentLength: part.size,
      }),
      { expiresIn },
    );
    return { ...part, url };
  }

  /** The parts S3 holds for a multipart upload, by part number (ListParts, every page). */
  async function storedParts(session: UploadSession): Promise<Map<number, { etag: string; size: number }>> {
    const parts = new Map<number, { etag: string; size: number }>();
    let marker: string | undefined;
    // 10,000 parts at most, 1,000 a page: a marker that does not move on ends the walk.
    for (let page = 0; page < 11; page++) {
      const out = await deps.s3.send(
        new ListPartsCommand({
          Bucket: deps.ingestBucket,
          Key: session.key,
          UploadId: session.multipartUploadId,
          PartNumberMarker: marker,
          MaxParts: 1000,
        }),
      );
      for (const part of out.Parts ?? [])
        if (part.PartNumber !== undefined && part.ETag)
          parts.set(part.PartNumber, { etag: part.ETag, size: part.Size ?? -1 });
      const next = out.NextPartNumberMarker;
      if (!out.IsTruncated || next === undefined || next === marker) break;
      marker = next;
    }
    return parts;
  }

  const routes: Record<(typeof API_ROUTES)[number], (event: Event, owner: string) => Promise<Result>> = {
    async "POST /uploads"(event, owner) {
      const request = parseBody(event, uploadRequest);
      if (request.size > deps.maxSizeBytes) {
        throw tooLarge(`The file is ${request.size} bytes; the limit is ${deps.maxSizeBytes} bytes`);
      }
      const contentType = request.contentType.split(";")[0]?.trim().toLowerCase() ?? "";
      const types = typesForContentType(contentType, deps.allowedTypes);
      if (types.length === 0) throw unsupportedType(`Files of type ${contentType} are not accepted`);
      const named = uploadName(request.filename);
      if (!named.ok) {
        const [problem] = named.problems;
        throw new HttpError(422, `Invalid request: filename ${problem?.message ?? "is not usable"}`, {
          code: problem?.code,
        });
      }
      const name = named.name;
      if (!types.some((id) => extensionAgrees({ id, mime: contentType, ext: id }, name))) {
        const ext = extensionOf(name);
        throw new HttpError(
          422,
          ext === ""
            ? `Invalid request: filename needs an extension for ${contentType} (such as .${types[0]})`
            : `Invalid request: filename extension .${ext} does not match ${contentType} (such as .${types[0]})`,
          { code: "name-extension-mismatch" },
        );
      }
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
        const { partSize, sizes } = multipartPlan(request.size);
        const parts = await Promise.all(
          sizes.map((size, i) =>
            signPart(key, multipartUploadId ?? "", { partNumber: i + 1, size }, deps.uploadExpirySeconds),
          ),
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

    async "GET /uploads/policy"() {
      const types = deps.allowedTypes
        .filter((id) => TYPE_MIMES[id] !== undefined)
        .map((id) => ({ id, contentType: TYPE_MIMES[id], extensions: extensionsOf(id) }));
      return json(200, {
        maxSizeBytes: deps.maxSizeBytes,
        multipartThresholdBytes: deps.multipartThresholdBytes,
        types,
        description: describeAccepted(
          types.map((t) => t.id),
          deps.maxSizeBytes,
        ),
      });
    },

    async "GET /uploads/{id}/parts"(event, owner) {
      const session = await ownSession(owner, event);
      if (!session.multipartUploadId) throw conflict("This upload is not a multipart upload");
      const nowSeconds = Math.floor(now().getTime() / 1000);
      if (nowSeconds >= session.expiresAt)
        throw conflict(
          `This upload expired at ${new Date(session.expiresAt * 1000).toISOString()}; start a new upload`,
        );
      let stored: Map<number, { etag: string; size: number }>;
      try {
        stored = await storedParts(session);
      } catch (error) {
        throw (await clientMistake(error, session.fileId, "list-parts")) ?? error;
      }
      const { partSize, sizes } = multipartPlan(session.size);
      const uploaded: { partNumber: number; size: number; etag: string }[] = [];
      const missing: { partNumber: number; size: number }[] = [];
      sizes.forEach((size, i) => {
        const part = stored.get(i + 1);
        // A part of another length than planned cannot be completed: it is sent again.
        if (part && part.size === size) uploaded.push({ partNumber: i + 1, size, etag: part.etag });
        else missing.push({ partNumber: i + 1, size });
      });
      // The new URLs end with the session: an object landing after it is refused by the pipeline anyway.
      const expiresIn = Math.min(deps.uploadExpirySeconds, session.expiresAt - nowSeconds);
      const parts = await Promise.all(
        missing.map((part) => signPart(session.key, session.multipartUploadId ?? "", part, expiresIn)),
      );
      return json(200, {
        fileId: session.fileId,
        key: session.key,
        expiresAt: new Date(session.expiresAt * 1000).toISOString(),
        upload: { method: "MULTIPART", uploadId: session.multipartUploadId, partSize, parts, uploaded },
      });
    },

    async "POST /uploads/{id}/complete"(event, owner) {
      const session = await ownSession(owner, event);
      if (!session.multipartUploadId) throw conflict("This upload is not a multipart upload");
      const request = parseBody(event, completeRequest);
      if (now().getTime() / 1000 > session.expiresAt + COMPLETE_GRACE_SECONDS)
        throw conflict(
          `This upload expired at ${new Date(session.expiresAt * 1000).toISOString()}; start a new upload`,
        );
      const { sizes } = multipartPlan(session.size);
      const parts = [...request.parts].sort((a, b) => a.partNumber - b.partNumber);
      if (parts.length !== sizes.length || parts.some((p, i) => p.partNumber !== i + 1))
        throw unprocessable(
          `Invalid request: this upload has ${sizes.length} part${sizes.length === 1 ? "" : "s"}; list each of parts 1 to ${sizes.length} once`,
        );
      const closed = await deps.records.closeUploadSession(session.fileId, "completed", closedUntil(session));
      if (!closed.won)
        throw conflict(
          closed.how === "completed"
            ? "This upload was already completed"
            : "This upload was aborted; start a new upload",
        );
      try {
        await deps.s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: deps.ingestBucket,
            Key: session.key,
            UploadId: session.multipartUploadId,
            MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
          }),
        );
      } catch (error) {
        await deps.records.reopenUploadSession(session.fileId, "completed");
        throw (await clientMistake(error, session.fileId, "complete")) ?? error;
      }
      await deps.records.audit(session.fileId, {
        action: "upload",
        actor: owner,
        detail: { parts: parts.length },
      });
      return json(200, { fileId: session.fileId, status: "PENDING" });
    },

    async "DELETE /uploads/{id}"(event, owner) {
      const session = await ownSession(owner, event);
      if (!session.multipartUploadId) throw conflict("This upload is not a multipart upload");
      const closed = await deps.records.closeUploadSession(session.fileId, "aborted", closedUntil(session));
      if (!closed.won) {
        if (closed.how === "aborted") return { statusCode: 204 };
        throw conflict("This upload was already completed; delete the file instead");
      }
      try {
        await deps.s3.send(
          new AbortMultipartUploadCommand({
            Bucket: deps.ingestBucket,
            Key: session.key,
            UploadId: session.multipartUploadId,
          }),
        );
      } catch (error) {
        await deps.records.reopenUploadSession(session.fileId, "aborted");
        throw (await clientMistake(error, session.fileId, "abort")) ?? error;
      }
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
      const id = pathId(event, notFound);
      const record = await deps.records.get(id);
      if (record && record.owner === owner) return json(200, publicRecord(record));
      // Presigned but not landed yet: say so, to the uploader only.
      const session = record ? undefined : await deps.records.getUploadSession(id);
      if (session && session.owner === owner) {
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
      const record = await ownFile(owner, event);
      if (record.status === "DELETED") throw gone("The file was deleted");
      if (record.status !== "VERIFIED" || !record.cleanKey) {
        const { status } = publicRecord(record);
        throw conflict(`The file is ${status}; only VERIFIED files can be downloaded`, { status });
      }
      const inline = event.queryStringParameters?.inline === "1";
      const type = record.detectedType;
      if (inline && !(type && PREVIEWABLE.has(type.id)))
        throw conflict("Only images and PDF files can be previewed inline");
      const name = displayName(record.key);
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
      const record = await ownFile(owner, event);
      // While the pipeline still works on a file (or is promoting it) a delete would race its writes.
      if (publicRecord(record).status === "PENDING")
        throw conflict("The file is still being checked; it can be deleted once it has a verdict", {
          status: "PENDING",
        });
      if (record.status !== "DELETED") {
        // Marked first (and its facts dropped), so that nothing shows the content while it is erased; a delete
        // that fails half-way is repeated by deleting again.
        if (!(await deps.records.markDeleted(record.fileId, record.version)))
          throw conflict("The file changed while it was being deleted; try again");
      }
      const erased = await erase(record);
      await deps.records.audit(record.fileId, {
        action: record.status === "DELETED" ? "delete:repeat" : "delete",
        actor: owner,
        detail: { erased },
      });
      return { statusCode: 204 };
    },
  };

  /** Dispatches an API Gateway v2 event; known errors become JSON with their status, others a bare 500. */
  return async function handle(event: Event): Promise<APIGatewayProxyResultV2> {
    const route = routes[event.routeKey as (typeof API_ROUTES)[number]];
    if (!route) return json(404, { message: `No route ${event.routeKey}` });
    const owner = ownerFromClaims(event.requestContext?.authorizer?.jwt?.claims);
    if (!owner) return json(401, { message: "Unauthorized" });
    try {
      return await route(event, owner);
    } catch (error) {
      if (error instanceof HttpError) return json(error.status, { message: error.message, ...error.details });
      throw error;
    }
  };
}
