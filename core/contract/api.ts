/**
 * The HTTP API's contract, shared by the server (core/http), the CLI (local/cli/api-client.ts) and the web
 * console (web/src/api.ts): request bodies and queries as zod schemas, and the shape of every answer. The
 * console imports only the types, so zod stays out of its bundle.
 */
import { z } from "zod";
import type { DetectedType, FileStatus } from "../domain/types.ts";

export const FILE_STATUSES = ["PENDING", "VERIFIED", "REJECTED", "INFECTED", "FAILED", "DELETED"] as const;

/** `POST /uploads`. */
export const uploadRequestSchema = z.object({
  filename: z.string().min(1).max(1024),
  contentType: z.string().min(1).max(255),
  size: z.number().int().positive(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/i)
    .optional(),
});
export type UploadRequest = z.infer<typeof uploadRequestSchema>;

/** `POST /uploads/{id}/complete`. */
export const completeRequestSchema = z.object({
  parts: z
    .array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(256) }))
    .min(1)
    .max(10_000),
});
export type CompleteRequest = z.infer<typeof completeRequestSchema>;

/** `GET /files` query parameters. */
export const listQuerySchema = z.object({
  status: z.enum(FILE_STATUSES).optional(),
  /** A detected type id, as in the allow-list (`pdf`, `png`, `docx`, …). */
  type: z
    .string()
    .regex(/^[a-z0-9]{1,16}$/, "must be a type id such as pdf or png")
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(4096).optional(),
});
export type ListQuery = z.infer<typeof listQuerySchema>;

/** Every error answer: the message is written for the caller; `code` is a stable name where one exists. */
export interface ErrorBody {
  message: string;
  code?: string;
  status?: string;
}

export interface PostUpload {
  method: "POST";
  url: string;
  fields: Record<string, string>;
}

export interface MultipartUpload {
  method: "MULTIPART";
  uploadId: string;
  partSize: number;
  /** Each URL is signed for exactly `size` bytes (its Content-Length). */
  parts: { partNumber: number; size: number; url: string }[];
}

/** `POST /uploads` (201). */
export interface UploadPlan {
  fileId: string;
  key: string;
  expiresAt: string;
  upload: PostUpload | MultipartUpload;
}

/** `GET /uploads/{id}/parts`: `parts` are the ones still to send, `uploaded` the ones S3 holds. */
export interface ResumePlan {
  fileId: string;
  key: string;
  expiresAt: string;
  upload: MultipartUpload & { uploaded: { partNumber: number; size: number; etag: string }[] };
}

/** `POST /uploads/{id}/complete`. */
export interface CompleteResult {
  fileId: string;
  status: "PENDING";
}

/** `GET /uploads/policy`. */
export interface UploadPolicy {
  maxSizeBytes: number;
  multipartThresholdBytes: number;
  types: { id: string; contentType: string; extensions: string[] }[];
  /** The same in words: "PDF, images (PNG, …) and ZIP archives, up to 100 MiB each". */
  description: string;
}

/**
 * A file as `GET /files/{id}` and `GET /files` show it. A DELETED file is only its id, name, status and dates;
 * a presigned upload that has not landed is `AWAITING_UPLOAD` with its name and size.
 */
// A type literal (not an interface), so that it can be read as a plain record of fields.
export type FileView = {
  fileId: string;
  name?: string;
  status: FileStatus | "AWAITING_UPLOAD";
  reasons?: string[];
  size?: number;
  sha256?: string;
  detectedType?: DetectedType;
  stages?: Record<string, unknown>;
  textKey?: string;
  createdAt?: string;
  updatedAt?: string;
  decidedAt?: string;
  deletedAt?: string;
};

/** `GET /files`. */
export interface FileList {
  files: FileView[];
  nextCursor: string | null;
}

/** `GET /files/{id}/download`. */
export interface DownloadLink {
  url: string;
  expiresAt: string;
}
