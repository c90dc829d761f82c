/**
 * The port a push sends files through. Two adapters implement it: direct drops into `drops/<system>/` with S3
 * credentials (`drop-target.ts`) and uploads through the HTTP API with a bearer token (`api-target.ts`). The
 * run itself (`run.ts`) knows neither S3 nor HTTP.
 */
import type { Readable } from "node:stream";
import type { Fingerprint } from "./read.ts";

export interface UploadInput {
  path: string;
  rel: string;
  size: number;
  sha256: string;
  fingerprint: Fingerprint;
  /** A stream of exactly the hashed bytes; it fails before its last chunk if the file changed. */
  open(): Promise<Readable>;
  /** Called once the destination is known and before any byte is sent, so the journal can remember it. */
  planned(where: { key: string; fileId?: string }): void;
  signal: AbortSignal;
}

export interface Uploaded {
  key: string;
  fileId: string;
  /** The object's ETag, so a verdict is read for this very version. */
  eTag?: string;
}

export interface Verdict {
  status: string;
  reasons: string[];
  final: boolean;
}

export interface KnownContent {
  fileId: string;
  name: string;
}

export interface PushTarget {
  readonly mode: "drop" | "api";
  /** Where files go, as people read it. */
  readonly description: string;
  /** Fails with a clear error when the destination cannot be reached or refuses the credentials. */
  check(): Promise<void>;
  /** The key (drops) or file name (API) a file of the tree is sent as. */
  destination(rel: string): string;
  /** The SHA-256 of every file already VERIFIED for this system or owner. */
  verifiedDigests(): Promise<Map<string, KnownContent>>;
  upload(file: UploadInput): Promise<Uploaded>;
  /** For a file a stopped run was sending: whether exactly these bytes landed (then it is not sent again). */
  landed(file: { rel: string; sha256: string; key?: string; fileId?: string }): Promise<Uploaded | undefined>;
  verdict(fileId: string, eTag?: string): Promise<Verdict | undefined>;
}
