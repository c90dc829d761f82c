/**
 * Push adapter for direct drops: objects go to `s3://<ingest>/drops/<system>/<path>` with the S3 credentials
 * (SigV4 on every request), small files in one PUT and large ones as a multipart upload through
 * `@aws-sdk/lib-storage`. Each object carries its SHA-256 as metadata, so a resumed run can tell whether an
 * interrupted upload landed. Verdicts and the dedup lookup read the file records (the owner `system:<name>`).
 */
import { HeadObjectCommand, type S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { describeKey, dropPrefix } from "../../core/domain/keys.ts";
import type { RecordStore } from "../../core/ports/index.ts";
import { isFinal } from "../cli/wait.ts";
import { contentTypeFor } from "./content-type.ts";
import { FileChangedError } from "./read.ts";
import { RefusedError } from "./retry.ts";
import { DEFAULT_PART_SIZE, putFile } from "./s3-upload.ts";
import type { KnownContent, PushTarget, Uploaded, UploadInput, Verdict } from "./target.ts";

export interface DropTargetOptions {
  s3: S3Client;
  records: RecordStore;
  bucket: string;
  system: string;
  /** A folder under `drops/<system>/` to put the tree in. */
  prefix?: string;
  runId: string;
  partSize?: number;
  /** Parts of one file in flight at once. */
  queueSize?: number;
}

const MAX_KEY_BYTES = 1024;

/** S3's answer to a request it will never accept as sent (4xx other than 408/429): a refusal. */
export function refusalOf(error: unknown): RefusedError | undefined {
  if (!(error instanceof S3ServiceException)) return undefined;
  const status = error.$metadata?.httpStatusCode ?? 0;
  if (status < 400 || status >= 500 || status === 408 || status === 429) return undefined;
  return new RefusedError(`S3 refused the drop (${status} ${error.name}): ${error.message}`);
}

export class DropTarget implements PushTarget {
  readonly mode = "drop" as const;
  readonly description: string;
  private readonly base: string;

  constructor(private readonly options: DropTargetOptions) {
    this.base = dropPrefix(options.system, options.prefix);
    this.description = `s3://${options.bucket}/${this.base}`;
  }

  /** A signed HEAD of a key that need not exist: 404 means reachable and the credentials accepted. */
  async check(): Promise<void> {
    try {
      await this.options.s3.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: `${this.base}.airlock-push-probe` }),
      );
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return;
      if (status === 403) throw new RefusedError(`S3 refused the credentials for ${this.description} (403)`);
      throw error;
    }
  }

  destination(rel: string): string {
    return `${this.base}${rel}`;
  }

  async verifiedDigests(): Promise<Map<string, KnownContent>> {
    const found = new Map<string, KnownContent>();
    let after: Record<string, string> | undefined;
    do {
      const page = await this.options.records.list({
        owner: `system:${this.options.system}`,
        status: "VERIFIED",
        limit: 1000,
        after,
      });
      for (const r of page.records)
        if (r.sha256 && r.status === "VERIFIED")
          found.set(r.sha256, { fileId: r.fileId, name: r.key.replace(/^drops\/[^/]+\//, "") });
      after = page.last;
    } while (after);
    return found;
  }

  async upload(file: UploadInput): Promise<Uploaded> {
    const key = this.destination(file.rel);
    if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES)
      throw new RefusedError(`its key would be longer than S3's ${MAX_KEY_BYTES} bytes`);
    const { fileId } = describeKey(this.options.bucket, key);
    file.planned({ key, fileId });
    const body = await file.open();
    try {
      const eTag = await putFile(this.options.s3, {
        bucket: this.options.bucket,
        key,
        body,
        contentType: contentTypeFor(file.rel),
        metadata: { sha256: file.sha256, "airlock-push-run": this.options.runId },
        partSize: this.options.partSize ?? DEFAULT_PART_SIZE,
        queueSize: this.options.queueSize,
        signal: file.signal,
      });
      return { key, fileId, eTag };
    } catch (error) {
      body.destroy();
      if (error instanceof FileChangedError) throw error;
      throw refusalOf(error) ?? error;
    }
  }

  async landed(file: { rel: string; sha256: string }): Promise<Uploaded | undefined> {
    const key = this.destination(file.rel);
    const { fileId } = describeKey(this.options.bucket, key);
    try {
      const head = await this.options.s3.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }),
      );
      if (head.Metadata?.sha256 === file.sha256) return { key, fileId, eTag: head.ETag?.replace(/"/g, "") };
      return undefined;
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404)
        throw error;
    }
    // Promoted files leave the ingest bucket; their record says what was judged.
    const record = await this.options.records.get(fileId);
    return record?.sha256 === file.sha256 ? { key, fileId, eTag: record.version.eTag } : undefined;
  }

  async verdict(fileId: string, eTag?: string): Promise<Verdict | undefined> {
    const record = await this.options.records.get(fileId);
    if (!record) return undefined;
    if (eTag && (record.version.eTag ?? "").replace(/"/g, "") !== eTag)
      return { status: "PENDING", reasons: [], final: false };
    return { status: record.status, reasons: record.reasons, final: isFinal(record) };
  }
}
