/**
 * In-memory ports for unit tests of the pipeline and the API. `MemoryRecords` implements every record port
 * (`RecordStore`) with the conditional rules of the DynamoDB store: a record follows its current object version
 * (anything else is `stale`); one result per stage and version; one decision; promotion and holding only of the
 * VERIFIED version; one notification claim; a rescan only of the held version in the status the caller saw;
 * one upload session per id, closed once. Also an object store over byte arrays, a notifier that keeps what it
 * sent, and text and OCR-job stores. No casts: each class implements its ports as declared.
 */

import { createHash } from "node:crypto";
import type {
  CleanCopy,
  FileRecord,
  FileStatus,
  ObjectVersion,
  StageName,
  StageResult,
  UploadSession,
} from "../../core/domain/types.ts";
import type { Verdict } from "../../core/domain/verdict.ts";
import {
  type AuditEntry,
  type AuditRecord,
  ChecksumMismatchError,
  type ChecksummedBody,
  type Decided,
  type JudgedBytes,
  type ListPage,
  type ListQuery,
  type NewFile,
  type Notifier,
  type ObjectStore,
  ObjectTooLargeError,
  type OcrJob,
  type OcrJobStore,
  type OutgoingNotification,
  type RecordStore,
  RecordVanishedError,
  type TextStore,
  type UploadClosure,
  UploadSessionExistsError,
  type Versioned,
} from "../../core/ports/index.ts";

/** A clock that never repeats a millisecond, so index order is the order of writes (as with real time). */
function clock() {
  let last = 0;
  return () => {
    last = Math.max(Date.now(), last + 1);
    return new Date(last).toISOString();
  };
}

export class MemoryRecords implements RecordStore {
  readonly records = new Map<string, FileRecord>();
  readonly audits: { fileId: string; entry: AuditEntry; at: string }[] = [];
  readonly sessions = new Map<string, UploadSession>();
  readonly closures = new Map<string, { how: UploadClosure; expiresAt: number }>();
  readonly unreadable: { queue: string; messageId: string; body: string; at: string }[] = [];
  /** When each record entered its status: the by-status index's sort key (DynamoDB's gsi2sk). */
  private readonly statusSince = new Map<string, string>();
  /** When each record was first registered with an owner: the by-owner index's sort key (gsi1sk). */
  private readonly ownedSince = new Map<string, string>();

  constructor(readonly now: () => string = clock()) {}

  private versioned(fileId: string, version: ObjectVersion): Versioned {
    const record = this.records.get(fileId);
    if (!record) throw new RecordVanishedError(fileId);
    return record.version.sequencer === version.sequencer
      ? { kind: "current", record }
      : { kind: "stale", record };
  }

  /** One conditional write: `change` runs only when `condition` holds on the current version's record. */
  private conditional(
    fileId: string,
    version: ObjectVersion,
    condition: (record: FileRecord) => boolean,
    change: (record: FileRecord, at: string) => void,
  ): Decided {
    const current = this.versioned(fileId, version);
    const won = current.kind === "current" && condition(current.record);
    if (won) {
      const at = this.now();
      change(current.record, at);
      current.record.updatedAt = at;
    }
    return { kind: current.kind, record: structuredClone(current.record), won };
  }

  private setStatus(record: FileRecord, status: FileStatus, at: string) {
    record.status = status;
    this.statusSince.set(record.fileId, at);
  }

  async register(version: ObjectVersion, file: NewFile, audit?: AuditEntry): Promise<Decided> {
    const existing = this.records.get(file.fileId);
    // An upload's record is never taken over; a newer drop of the key takes it over.
    const takeOver = existing && file.source === "drop" && existing.version.sequencer < version.sequencer;
    if (existing && !takeOver) return { ...this.versioned(file.fileId, version), won: false };
    const at = this.now();
    const owner = file.owner ?? existing?.owner;
    const record: FileRecord = {
      fileId: file.fileId,
      source: file.source,
      ...(owner ? { owner } : {}),
      key: version.key,
      bucket: version.bucket,
      status: "PENDING",
      reasons: [],
      version,
      stages: {},
      stageFailures: {},
      size: version.size,
      createdAt: existing?.createdAt ?? at,
      updatedAt: at,
      ...(existing?.cleanCopy ? { cleanCopy: existing.cleanCopy } : {}),
    };
    this.records.set(file.fileId, record);
    this.statusSince.set(file.fileId, at);
    if (file.owner && !this.ownedSince.has(file.fileId)) this.ownedSince.set(file.fileId, at);
    if (audit) this.audits.push({ fileId: file.fileId, entry: structuredClone(audit), at });
    return { kind: "current", record: structuredClone(record), won: true };
  }

  async get(fileId: string) {
    const record = this.records.get(fileId);
    return record ? structuredClone(record) : undefined;
  }

  async putStageResult(
    fileId: string,
    version: ObjectVersion,
    result: StageResult,
    audit?: AuditEntry,
  ): Promise<Decided> {
    const written = this.conditional(
      fileId,
      version,
      (r) => r.stages[result.stage] === undefined,
      (r) => {
        Object.assign(r.stages, { [result.stage]: structuredClone(result) });
        if (result.stage === "validate" && result.detectedType) r.detectedType = result.detectedType;
        if (result.stage === "metadata" && result.facts) r.sha256 = result.facts.sha256;
      },
    );
    if (written.won && audit)
      this.audits.push({ fileId, entry: structuredClone(audit), at: written.record.updatedAt });
    return written;
  }

  async noteStageFailure(fileId: string, version: ObjectVersion, stage: StageName, message: string) {
    this.conditional(
      fileId,
      version,
      () => true,
      (r) => {
        r.stageFailures = { ...r.stageFailures, [stage]: message.slice(0, 500) };
      },
    );
  }

  async decide(fileId: string, version: ObjectVersion, verdict: Verdict) {
    return this.conditional(
      fileId,
      version,
      (r) => r.status === "PENDING",
      (r, at) => {
        this.setStatus(r, verdict.status, at);
        r.reasons = [...verdict.reasons];
        r.decidedAt = at;
      },
    );
  }

  async reopenForRescan(fileId: string, version: ObjectVersion, status: FileStatus) {
    return this.conditional(
      fileId,
      version,
      (r) => r.status === status && !r.promotedAt,
      (r, at) => {
        this.setStatus(r, "PENDING", at);
        r.reasons = [];
        r.rescans = (r.rescans ?? 0) + 1;
        delete r.stages.scan;
        if (r.stageFailures) delete r.stageFailures.scan;
        delete r.decidedAt;
        delete r.notifiedAt;
        delete r.notificationId;
      },
    );
  }

  async markPromoted(fileId: string, version: ObjectVersion, copy: CleanCopy) {
    return this.conditional(
      fileId,
      version,
      (r) => r.status === "VERIFIED",
      (r, at) => {
        r.promotedAt ??= at;
        r.cleanKey = copy.key;
        r.cleanCopy = { ...copy, sequencer: version.sequencer };
      },
    ).won;
  }

  async forgetCleanCopy(fileId: string, sequencer: string) {
    const record = this.records.get(fileId);
    if (record?.cleanCopy?.sequencer === sequencer) delete record.cleanCopy;
  }

  async holdUnpromoted(fileId: string, version: ObjectVersion, reason: string) {
    return this.conditional(
      fileId,
      version,
      (r) => r.status === "VERIFIED" && !r.promotedAt,
      (r, at) => {
        this.setStatus(r, "FAILED", at);
        r.reasons = [reason];
      },
    );
  }

  async markDeleted(fileId: string, version: ObjectVersion) {
    if (!this.records.has(fileId)) return false;
    return this.conditional(
      fileId,
      version,
      () => true,
      (r, at) => {
        this.setStatus(r, "DELETED", at);
        r.deletedAt = at;
        r.reasons = [];
        r.stages = {};
        delete r.sha256;
        delete r.detectedType;
        delete r.declaredType;
        delete r.stageFailures;
      },
    ).won;
  }

  async claimNotification(fileId: string, version: ObjectVersion, leaseSeconds: number) {
    // A lease: free when never claimed, or claimed, not confirmed and older than the lease.
    return this.conditional(
      fileId,
      version,
      (r) =>
        !r.notificationId && (!r.notifiedAt || Date.parse(r.notifiedAt) < Date.now() - leaseSeconds * 1000),
      (r, at) => {
        r.notifiedAt = at;
      },
    ).won;
  }

  async releaseNotification(fileId: string, version: ObjectVersion) {
    this.conditional(
      fileId,
      version,
      (r) => !r.notificationId,
      (r) => {
        delete r.notifiedAt;
      },
    );
  }

  async confirmNotification(fileId: string, version: ObjectVersion, messageId: string) {
    this.conditional(
      fileId,
      version,
      (r) => r.notifiedAt !== undefined,
      (r) => {
        r.notificationId = messageId;
      },
    );
  }

  /** As the two indexes answer: newest first, by owner (filtered by status and type) or by status. */
  async list(query: ListQuery): Promise<ListPage> {
    const byOwner = query.owner !== undefined;
    const sortKey = (r: FileRecord) =>
      `${(byOwner ? this.ownedSince : this.statusSince).get(r.fileId) ?? ""}#${r.fileId}`;
    const matching = [...this.records.values()]
      .filter((r) =>
        byOwner
          ? r.owner === query.owner &&
            (!query.status || r.status === query.status) &&
            (!query.type || r.detectedType?.id === query.type)
          : r.status === (query.status ?? "PENDING") &&
            (!query.registeredBefore || sortKey(r) < query.registeredBefore) &&
            (!query.registeredBefore || !query.registeredAfter || sortKey(r) >= query.registeredAfter) &&
            (!query.unnotified || r.notificationId === undefined),
      )
      .sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : -1));
    const after = query.after?.sk;
    const rest = after === undefined ? matching : matching.filter((r) => sortKey(r) < after);
    const page = rest.slice(0, query.limit);
    const last = page.at(-1);
    return {
      records: page.map((r) => structuredClone(r)),
      ...(last && rest.length > page.length ? { last: { sk: sortKey(last) } } : {}),
    };
  }

  async putUploadSession(session: UploadSession) {
    if (this.sessions.has(session.fileId)) throw new UploadSessionExistsError(session.fileId);
    this.sessions.set(session.fileId, structuredClone(session));
  }

  async getUploadSession(fileId: string) {
    const session = this.sessions.get(fileId);
    return session ? structuredClone(session) : undefined;
  }

  async closeUploadSession(fileId: string, how: UploadClosure, expiresAt: number) {
    const closed = this.closures.get(fileId);
    if (closed) return { won: false, how: closed.how };
    this.closures.set(fileId, { how, expiresAt });
    return { won: true, how };
  }

  async reopenUploadSession(fileId: string, how: UploadClosure) {
    if (this.closures.get(fileId)?.how === how) this.closures.delete(fileId);
  }

  async keepUnreadable(queue: string, messageId: string, body: string) {
    this.unreadable.push({ queue, messageId, body, at: this.now() });
  }

  async audit(fileId: string, entry: AuditEntry) {
    this.audits.push({ fileId, entry: structuredClone(entry), at: this.now() });
  }

  async trail(fileId: string): Promise<AuditRecord[]> {
    return this.audits
      .filter((a) => a.fileId === fileId)
      .map((a) => ({ at: a.at, ...structuredClone(a.entry) }))
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
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

  /** Calls of `sha256Checksum` (a HEAD in S3) and of `streamWithChecksum` (one GET). */
  checksumHeads = 0;
  checksummedReads = 0;

  /** As S3 with the checksum mode on: the checksum up front, the body failing at its end if it disagrees. */
  async streamWithChecksum(
    version: ObjectVersion,
    options: { maxBytes?: number } = {},
  ): Promise<ChecksummedBody> {
    this.checksummedReads++;
    const body = await this.stream(version, options);
    const checksum = this.checksums.get(version.key);
    if (checksum === undefined) return { body };
    const checked = (async function* () {
      const hash = createHash("sha256");
      for await (const chunk of body) {
        hash.update(chunk);
        yield chunk;
      }
      const actual = hash.digest("hex");
      if (actual !== checksum)
        throw new ChecksumMismatchError(`Checksum mismatch: expected "${actual}" but received "${checksum}"`);
    })();
    return { body: checked, sha256Checksum: checksum };
  }

  async promote(version: ObjectVersion, _cleanBucket: string, judged: JudgedBytes): Promise<CleanCopy> {
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
    this.checksumHeads++;
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

/** A clock a test moves by hand, for the sweeper's thresholds. */
export class ManualClock {
  constructor(private at: number) {}
  readonly now = () => new Date(this.at).toISOString();
  advance(seconds: number) {
    this.at += seconds * 1000;
  }
  get date() {
    return new Date(this.at);
  }
}

/** The pipeline's ports in memory, wired as the composition root wires the real ones. */
export function memoryPipeline(options: { now?: () => string; bytes?: Map<string, Uint8Array> } = {}) {
  const records = new MemoryRecords(options.now);
  const objects = new MemoryObjects(options.bytes ?? new Map());
  const notifier = new MemoryNotifier();
  const texts = new MemoryTexts();
  const redriven: string[] = [];
  const deps = {
    records,
    objects,
    notifier,
    texts,
    cleanBucket: "clean",
    redrive: async (event: string) => {
      redriven.push(event);
    },
  };
  return { records, objects, notifier, texts, redriven, deps };
}
