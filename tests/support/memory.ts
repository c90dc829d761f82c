/**
 * In-memory ports for unit tests of the pipeline: a record store with the same conditional rules as the
 * DynamoDB one (one result per stage and version, one decision, one notification claim), an object store over
 * byte arrays, a notifier that keeps what it sent, and text and OCR-job stores.
 */
import type { CleanCopy, FileRecord, ObjectVersion, StageResult } from "../../core/domain/types.ts";
import type { Verdict } from "../../core/domain/verdict.ts";
import {
  type AuditEntry,
  type JudgedBytes,
  type NewFile,
  type Notifier,
  type ObjectStore,
  ObjectTooLargeError,
  type OcrJob,
  type OcrJobStore,
  type OutgoingNotification,
  type RecordStore,
  type TextStore,
  type Versioned,
} from "../../core/ports/index.ts";

const now = () => new Date().toISOString();

export class MemoryRecords {
  readonly records = new Map<string, FileRecord>();
  readonly audits: { fileId: string; entry: AuditEntry }[] = [];

  private versioned(fileId: string, version: ObjectVersion): Versioned & { record: FileRecord } {
    const record = this.records.get(fileId);
    if (!record) throw new Error(`no record ${fileId}`);
    return record.version.sequencer === version.sequencer
      ? { kind: "current", record }
      : { kind: "stale", record };
  }

  async register(version: ObjectVersion, file: NewFile) {
    const existing = this.records.get(file.fileId);
    // As the DynamoDB store: an upload's record is never taken over; a newer drop of the key takes it over.
    const takeOver = existing && file.source === "drop" && existing.version.sequencer < version.sequencer;
    if (existing && !takeOver) return { ...this.versioned(file.fileId, version), won: false };
    const record: FileRecord = {
      ...file,
      key: version.key,
      bucket: version.bucket,
      status: "PENDING",
      reasons: [],
      version,
      stages: {},
      size: version.size,
      createdAt: existing?.createdAt ?? now(),
      updatedAt: now(),
      ...(existing?.cleanCopy ? { cleanCopy: existing.cleanCopy } : {}),
    };
    this.records.set(file.fileId, record);
    return { kind: "current" as const, record: structuredClone(record), won: true };
  }

  async getUploadSession() {
    return undefined;
  }

  async get(fileId: string) {
    const record = this.records.get(fileId);
    return record ? structuredClone(record) : undefined;
  }

  async putStageResult(fileId: string, version: ObjectVersion, result: StageResult): Promise<Versioned> {
    const current = this.versioned(fileId, version);
    if (current.kind === "current" && current.record.stages[result.stage] === undefined) {
      (current.record.stages as Record<string, StageResult>)[result.stage] = result;
      if (result.stage === "metadata" && result.facts) current.record.sha256 = result.facts.sha256;
    }
    return { kind: current.kind, record: structuredClone(current.record) };
  }

  async decide(fileId: string, version: ObjectVersion, verdict: Verdict) {
    const current = this.versioned(fileId, version);
    const won = current.kind === "current" && current.record.status === "PENDING";
    if (won)
      Object.assign(current.record, { status: verdict.status, reasons: verdict.reasons, decidedAt: now() });
    return { kind: current.kind, record: structuredClone(current.record), won };
  }

  async markPromoted(fileId: string, version: ObjectVersion, copy: CleanCopy) {
    const current = this.versioned(fileId, version);
    if (current.kind !== "current" || current.record.status !== "VERIFIED") return false;
    current.record.promotedAt ??= now();
    current.record.cleanKey = copy.key;
    current.record.cleanCopy = { ...copy, sequencer: version.sequencer };
    return true;
  }

  async forgetCleanCopy(fileId: string, sequencer: string) {
    const record = this.records.get(fileId);
    if (record?.cleanCopy?.sequencer === sequencer) delete record.cleanCopy;
  }

  async holdUnpromoted(fileId: string, version: ObjectVersion, reason: string) {
    const current = this.versioned(fileId, version);
    const won =
      current.kind === "current" && current.record.status === "VERIFIED" && !current.record.promotedAt;
    if (won) Object.assign(current.record, { status: "FAILED", reasons: [reason] });
    return { kind: current.kind, record: structuredClone(current.record), won };
  }

  async markDeleted(fileId: string) {
    const record = this.records.get(fileId);
    if (record) record.status = "DELETED";
  }

  async claimNotification(fileId: string, version: ObjectVersion, leaseSeconds: number) {
    const current = this.versioned(fileId, version);
    const { notifiedAt, notificationId } = current.record;
    const lapsed = notifiedAt && Date.parse(notifiedAt) < Date.now() - leaseSeconds * 1000;
    if (notificationId || (notifiedAt && !lapsed)) return false;
    current.record.notifiedAt = now();
    return true;
  }

  async releaseNotification(fileId: string, version: ObjectVersion) {
    delete this.versioned(fileId, version).record.notifiedAt;
  }

  async confirmNotification(fileId: string, version: ObjectVersion, messageId: string) {
    this.versioned(fileId, version).record.notificationId = messageId;
  }

  async audit(fileId: string, entry: AuditEntry) {
    this.audits.push({ fileId, entry });
  }

  /** The store as the pipeline sees it (the methods it does not use here throw). */
  asStore(): RecordStore {
    return this as unknown as RecordStore;
  }
}

export class MemoryObjects implements ObjectStore {
  readonly promoted: string[] = [];
  readonly judged: JudgedBytes[] = [];
  readonly withdrawn: string[] = [];
  readonly removed: string[] = [];
  /** Bytes read by stream(): what a limit on whole-object reads saves. */
  streamed = 0;
  readonly tags: Record<string, Record<string, string>> = {};
  constructor(
    readonly bytes: Map<string, Uint8Array>,
    private readonly chunkSize = 64 * 1024,
    readonly checksums = new Map<string, string>(),
  ) {}

  private body(version: ObjectVersion) {
    const bytes = this.bytes.get(version.key);
    if (!bytes) throw new Error(`no object ${version.key}`);
    return bytes;
  }

  /** Object metadata and Last-Modified by key, as a ranged GET returns them. */
  readonly heads = new Map<
    string,
    { metadata?: Record<string, string>; lastModified?: Date; contentType?: string }
  >();

  async readHead(version: ObjectVersion, length: number) {
    const bytes = this.body(version);
    const head = this.heads.get(version.key) ?? {};
    return {
      bytes: bytes.subarray(0, length),
      size: bytes.length,
      metadata: head.metadata ?? {},
      ...(head.contentType ? { contentType: head.contentType } : {}),
      ...(head.lastModified ? { lastModified: head.lastModified } : {}),
    };
  }

  async readTail(version: ObjectVersion, length: number) {
    const bytes = this.body(version);
    return bytes.subarray(Math.max(0, bytes.length - length));
  }

  async stream(version: ObjectVersion, options: { maxBytes?: number } = {}) {
    const bytes = this.body(version);
    if (options.maxBytes !== undefined && bytes.length > options.maxBytes)
      throw new ObjectTooLargeError(bytes.length, options.maxBytes);
    const size = this.chunkSize;
    const self = this;
    return (async function* () {
      for (let i = 0; i < bytes.length; i += size) {
        self.streamed += Math.min(size, bytes.length - i);
        yield bytes.subarray(i, i + size);
      }
    })();
  }

  async promote(version: ObjectVersion, _cleanBucket: string, judged: JudgedBytes) {
    this.promoted.push(version.key);
    this.judged.push(judged);
    return { key: version.key, eTag: version.eTag };
  }

  async withdraw(_cleanBucket: string, copy: CleanCopy) {
    this.withdrawn.push(copy.key);
  }

  async remove(version: ObjectVersion) {
    this.removed.push(version.key);
  }

  async tag(version: ObjectVersion, tags: Record<string, string>) {
    this.tags[version.key] = tags;
  }

  async sha256Checksum(version: ObjectVersion) {
    return this.checksums.get(version.key);
  }
}

export class MemoryNotifier implements Notifier {
  readonly sent: OutgoingNotification[] = [];
  async publish(message: OutgoingNotification) {
    this.sent.push(message);
    return `m-${this.sent.length}`;
  }
}

export class MemoryTexts implements TextStore {
  readonly staged = new Map<string, { seq: string; text: string }>();
  readonly published = new Map<string, string>();
  async stage(fileId: string, version: ObjectVersion, text: string) {
    this.staged.set(fileId, { seq: version.sequencer, text });
    return { cut: false };
  }
  async publish(fileId: string, version: ObjectVersion) {
    const staged = this.staged.get(fileId);
    if (!staged || staged.seq !== version.sequencer) return undefined;
    this.published.set(`text/${fileId}.txt`, staged.text);
    this.staged.delete(fileId);
    return `text/${fileId}.txt`;
  }
  async discard(fileId: string) {
    this.staged.delete(fileId);
  }
}

export class MemoryOcrJobs implements OcrJobStore {
  readonly jobs = new Map<string, OcrJob>();
  constructor(private readonly records?: MemoryRecords) {}
  async put(job: OcrJob) {
    this.jobs.set(job.fileId, structuredClone(job));
  }
  async get(fileId: string) {
    const job = this.jobs.get(fileId);
    return job ? structuredClone(job) : undefined;
  }
  async remove(fileId: string) {
    this.jobs.delete(fileId);
  }
  async completeFacts(fileId: string, version: ObjectVersion, jobId: string, facts: OcrJob["facts"]) {
    const record = this.records?.records.get(fileId);
    const metadata = record?.stages.metadata;
    if (!record || record.version.sequencer !== version.sequencer || metadata?.facts?.ocr?.jobId !== jobId)
      return false;
    metadata.facts = facts;
    return true;
  }
}
