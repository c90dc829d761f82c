/**
 * Every record port (file records, verdicts, listing, deletions, rescans, upload sessions, audit log,
 * notification claims, unreadable messages: together `RecordStore`) on one DynamoDB table (single-table
 * design). Every state change is a conditional UpdateItem on the file's current object version (`seq`, the
 * padded S3 sequencer), so concurrent stages and redelivered events cannot overwrite each other or resurrect
 * an older version. No transactions: each step is one item write. A write that loses takes the record from its
 * failure (`ReturnValuesOnConditionCheckFailure: ALL_OLD`) and reads it only where the store does not return it.
 * Audit entries of a registration or a stage result ride on that write; the indexes hold keys, and a listing
 * reads its records from the table (dynamo-table.ts).
 */
import { randomBytes } from "node:crypto";
import { type AttributeValue, ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type {
  CleanCopy,
  FileRecord,
  FileStatus,
  ObjectVersion,
  StageName,
  StageResult,
  UploadSession,
} from "../domain/types.ts";
import type { Verdict } from "../domain/verdict.ts";
import {
  type AuditEntry,
  type AuditRecord,
  type ListPage,
  type ListQuery,
  type NewFile,
  type RecordStore,
  RecordVanishedError,
  type UploadClosure,
  UploadSessionExistsError,
  type Versioned,
} from "../ports/index.ts";

import { INDEX_BY_OWNER, INDEX_BY_STATUS, KEY_ATTRIBUTE_NAMES } from "./dynamo-table.ts";

const META = "META";
const filePk = (fileId: string) => `FILE#${fileId}`;

/**
 * The audit entries appended with the record's own writes (register, stage results): a list on the record item,
 * so that such an entry costs no request of its own and is written exactly when the write it describes is.
 */
const TRAIL = "auditTrail";

/**
 * The most entries the record carries (a drop key taken over by every newer object would otherwise grow its
 * item past DynamoDB's 400 KB). Past it, the oldest entries move to an item of their own in the file's partition
 * (`AUDIT#<first entry's time>#trail#<position>#<count>`), written before they are removed from the record, so
 * none is ever lost.
 */
const TRAIL_KEPT = 32;
const ARCHIVED = "trailEntries";
/** How many entries have moved off the record: with the list's length, what the move is conditional on. */
const MOVED = "trailMoved";

/** Item attributes that are keys and indexes, or the audit trail, not part of the record. */
const KEY_ATTRIBUTES = [...KEY_ATTRIBUTE_NAMES, "seq", TRAIL, MOVED] as const;

/** BatchGetItem reads at most 100 keys a request; what it leaves unprocessed is asked again, a few times. */
const BATCH_GET_KEYS = 100;
const BATCH_GET_ATTEMPTS = 5;

export function toRecord(item: Record<string, unknown>): FileRecord {
  const record: Record<string, unknown> = { ...item };
  for (const key of KEY_ATTRIBUTES) delete record[key];
  return record as unknown as FileRecord;
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === "ConditionalCheckFailedException")
  );
}

/**
 * The item a failed conditional write returns with `ReturnValuesOnConditionCheckFailure: ALL_OLD`: the record
 * the condition was checked against (the document client leaves it marshalled). Undefined when there was no
 * item, or the store does not return it (dynalite does not): the caller then reads the record.
 */
function itemOfFailure(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return item && Object.keys(item).length > 0 ? unmarshall(item) : undefined;
}

/** Whether an item read from the table still answers a listing's query (see FileListing). */
function answers(query: ListQuery, item: Record<string, unknown>): boolean {
  if (query.owner) {
    if (item.gsi1pk !== `OWNER#${query.owner}`) return false;
    if (query.status && item.status !== query.status) return false;
    if (query.type && (item.detectedType as { id?: string } | undefined)?.id !== query.type) return false;
    return true;
  }
  if (item.gsi2pk !== `STATUS#${query.status ?? "PENDING"}`) return false;
  const since = String(item.gsi2sk ?? "");
  if (query.registeredBefore) {
    if (query.registeredAfter) {
      if (since < query.registeredAfter || since > query.registeredBefore) return false;
    } else if (since >= query.registeredBefore) return false;
  }
  if (query.unnotified && item.notificationId !== undefined) return false;
  return true;
}

export class DynamoRecordStore implements RecordStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(fileId: string): Promise<FileRecord | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: filePk(fileId), sk: META }, ConsistentRead: true }),
    );
    return out.Item ? toRecord(out.Item) : undefined;
  }

  private async current(fileId: string, version: ObjectVersion, known?: FileRecord): Promise<Versioned> {
    const record = known ?? (await this.get(fileId));
    if (!record) throw new RecordVanishedError(fileId);
    return record.version.sequencer === version.sequencer
      ? { kind: "current", record }
      : { kind: "stale", record };
  }

  /** Runs a conditional update; on a failed condition, reports how the record relates to `version`. */
  private async conditional(
    fileId: string,
    version: ObjectVersion,
    update: {
      expression: string;
      condition: string;
      names?: Record<string, string>;
      values: Record<string, unknown>;
      /** Appended to the record's audit trail by the same write (its expression has a SET clause first). */
      audit?: AuditEntry;
    },
  ): Promise<Versioned & { won: boolean }> {
    let { expression, names, values } = update;
    if (update.audit) {
      if (!expression.startsWith("SET ")) throw new Error("an audited update needs a SET clause first");
      // Appended at the end of the SET clause (before a REMOVE clause, if any).
      const append = ", #trail = list_append(if_not_exists(#trail, :noTrail), :trailEntry)";
      const remove = expression.indexOf(" REMOVE ");
      expression =
        remove < 0
          ? `${expression}${append}`
          : `${expression.slice(0, remove)}${append}${expression.slice(remove)}`;
      names = { ...names, "#trail": TRAIL };
      values = {
        ...values,
        ":noTrail": [],
        ":trailEntry": [{ at: this.now().toISOString(), ...update.audit }],
      };
    }
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: filePk(fileId), sk: META },
          UpdateExpression: expression,
          ConditionExpression: update.condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
          // The loser gets the record its condition failed on, instead of reading it again.
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      const trail = out.Attributes?.[TRAIL];
      if (Array.isArray(trail) && trail.length > TRAIL_KEPT)
        await this.archiveTrail(fileId, trail, Number(out.Attributes?.[MOVED] ?? 0));
      return { kind: "current", record: toRecord(out.Attributes ?? {}), won: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const old = itemOfFailure(error);
      return { ...(await this.current(fileId, version, old ? toRecord(old) : undefined)), won: false };
    }
  }

  async register(
    version: ObjectVersion,
    file: NewFile,
    audit?: AuditEntry,
  ): Promise<Versioned & { won: boolean }> {
    const now = this.now().toISOString();
    const values: Record<string, unknown> = {
      ":bucket": version.bucket,
      ":key": version.key,
      ":version": version,
      ":seq": version.sequencer,
      ":pending": "PENDING",
      ":empty": [],
      ":stages": {},
      ":source": file.source,
      ":size": version.size,
      ":fileId": file.fileId,
      ":now": now,
      ":g2pk": "STATUS#PENDING",
      ":g2sk": `${now}#${file.fileId}`,
    };
    let set =
      "#bucket = :bucket, #key = :key, #version = :version, seq = :seq, #status = :pending, reasons = :empty, " +
      "stages = :stages, stageFailures = :stages, #source = :source, #size = :size, fileId = :fileId, updatedAt = :now, " +
      "createdAt = if_not_exists(createdAt, :now), gsi2pk = :g2pk, gsi2sk = :g2sk";
    if (file.owner) {
      set += ", #owner = :owner, gsi1pk = :g1pk, gsi1sk = if_not_exists(gsi1sk, :g1sk)";
      values[":owner"] = file.owner;
      values[":g1pk"] = `OWNER#${file.owner}`;
      values[":g1sk"] = `${now}#${file.fileId}`;
    }
    // An API upload's record is its session's one object: it is created once and never taken over (see
    // RecordStore). A drop's record follows the newest object of its key; the predecessor's clean copies stay
    // in `cleanCopy` until they are withdrawn.
    const condition =
      file.source === "api" ? "attribute_not_exists(pk)" : "attribute_not_exists(pk) OR seq < :seq";
    const result = await this.conditional(file.fileId, version, {
      expression: `SET ${set} REMOVE decidedAt, promotedAt, notifiedAt, notificationId, sha256, detectedType, declaredType, cleanKey, textKey, deletedAt, rescans`,
      condition,
      names: {
        "#bucket": "bucket",
        "#key": "key",
        "#version": "version",
        "#status": "status",
        "#source": "source",
        "#size": "size",
        ...(file.owner ? { "#owner": "owner" } : {}),
      },
      values,
      ...(audit ? { audit } : {}),
    });
    return result;
  }

  async putStageResult(
    fileId: string,
    version: ObjectVersion,
    result: StageResult,
    audit?: AuditEntry,
  ): Promise<Versioned & { won: boolean }> {
    const values: Record<string, unknown> = {
      ":result": result,
      ":seq": version.sequencer,
      ":now": this.now().toISOString(),
    };
    let set = "stages.#stage = :result, updatedAt = :now";
    if (result.stage === "validate" && result.detectedType) {
      set += ", detectedType = :type";
      values[":type"] = result.detectedType;
    }
    if (result.stage === "metadata" && result.facts) {
      set += ", sha256 = :sha";
      values[":sha"] = result.facts.sha256;
    }
    const out = await this.conditional(fileId, version, {
      expression: `SET ${set}`,
      condition: "seq = :seq AND attribute_not_exists(stages.#stage)",
      names: { "#stage": result.stage },
      values,
      ...(audit ? { audit } : {}),
    });
    return out;
  }

  async decide(
    fileId: string,
    version: ObjectVersion,
    verdict: Verdict,
  ): Promise<Versioned & { won: boolean }> {
    const now = this.now().toISOString();
    return this.conditional(fileId, version, {
      expression:
        "SET #status = :status, reasons = :reasons, decidedAt = :now, updatedAt = :now, gsi2pk = :g2pk, gsi2sk = :g2sk",
      condition: "seq = :seq AND #status = :pending",
      names: { "#status": "status" },
      values: {
        ":status": verdict.status,
        ":reasons": verdict.reasons,
        ":now": now,
        ":g2pk": `STATUS#${verdict.status}`,
        ":g2sk": `${now}#${fileId}`,
        ":seq": version.sequencer,
        ":pending": "PENDING",
      },
    });
  }

  async reopenForRescan(
    fileId: string,
    version: ObjectVersion,
    status: FileStatus,
  ): Promise<Versioned & { won: boolean }> {
    const now = this.now().toISOString();
    return this.conditional(fileId, version, {
      expression:
        "SET #status = :pending, reasons = :empty, rescans = if_not_exists(rescans, :zero) + :one, updatedAt = :now, " +
        "gsi2pk = :g2pk, gsi2sk = :g2sk REMOVE stages.#scan, stageFailures.#scan, decidedAt, notifiedAt, notificationId",
      condition: "seq = :seq AND #status = :status AND attribute_not_exists(promotedAt)",
      names: { "#status": "status", "#scan": "scan" },
      values: {
        ":pending": "PENDING",
        ":empty": [],
        ":zero": 0,
        ":one": 1,
        ":now": now,
        ":g2pk": "STATUS#PENDING",
        ":g2sk": `${now}#${fileId}`,
        ":seq": version.sequencer,
        ":status": status,
      },
    });
  }

  async markPromoted(fileId: string, version: ObjectVersion, copy: CleanCopy): Promise<boolean> {
    const out = await this.conditional(fileId, version, {
      expression:
        "SET promotedAt = if_not_exists(promotedAt, :now), cleanKey = :cleanKey, cleanCopy = :copy, updatedAt = :now",
      condition: "seq = :seq AND #status = :verified",
      names: { "#status": "status" },
      values: {
        ":now": this.now().toISOString(),
        ":cleanKey": copy.key,
        ":copy": { ...copy, sequencer: version.sequencer },
        ":seq": version.sequencer,
        ":verified": "VERIFIED",
      },
    });
    return out.won;
  }

  async forgetCleanCopy(fileId: string, sequencer: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: filePk(fileId), sk: META },
          UpdateExpression: "REMOVE cleanCopy",
          ConditionExpression: "cleanCopy.sequencer = :copySeq",
          ExpressionAttributeValues: { ":copySeq": sequencer },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async holdUnpromoted(
    fileId: string,
    version: ObjectVersion,
    reason: string,
  ): Promise<Versioned & { won: boolean }> {
    const now = this.now().toISOString();
    return this.conditional(fileId, version, {
      expression:
        "SET #status = :failed, reasons = :reasons, updatedAt = :now, gsi2pk = :g2pk, gsi2sk = :g2sk",
      condition: "seq = :seq AND #status = :verified AND attribute_not_exists(promotedAt)",
      names: { "#status": "status" },
      values: {
        ":failed": "FAILED",
        ":reasons": [reason],
        ":now": now,
        ":g2pk": "STATUS#FAILED",
        ":g2sk": `${now}#${fileId}`,
        ":seq": version.sequencer,
        ":verified": "VERIFIED",
      },
    });
  }

  async claimNotification(fileId: string, version: ObjectVersion, leaseSeconds: number): Promise<boolean> {
    const now = this.now();
    const out = await this.conditional(fileId, version, {
      // A lease: free, or claimed, never confirmed, and lapsed (its holder died between claim and confirmation).
      expression: "SET notifiedAt = :now",
      condition:
        "seq = :seq AND (attribute_not_exists(notifiedAt) OR (attribute_not_exists(notificationId) AND notifiedAt < :lapsed))",
      values: {
        ":now": now.toISOString(),
        ":seq": version.sequencer,
        ":lapsed": new Date(now.getTime() - leaseSeconds * 1000).toISOString(),
      },
    });
    return out.won;
  }

  async releaseNotification(fileId: string, version: ObjectVersion): Promise<void> {
    await this.conditional(fileId, version, {
      expression: "REMOVE notifiedAt",
      condition: "seq = :seq AND attribute_not_exists(notificationId)",
      values: { ":seq": version.sequencer },
    });
  }

  async confirmNotification(fileId: string, version: ObjectVersion, messageId: string): Promise<void> {
    await this.conditional(fileId, version, {
      expression: "SET notificationId = :id",
      // Only on a claim still held: a file reopened (rescan) since has no claim, and its next verdict's message
      // must not be taken for sent.
      condition: "seq = :seq AND attribute_exists(notifiedAt)",
      values: { ":id": messageId, ":seq": version.sequencer },
    });
  }

  async noteStageFailure(
    fileId: string,
    version: ObjectVersion,
    stage: StageName,
    message: string,
  ): Promise<void> {
    await this.conditional(fileId, version, {
      expression: "SET stageFailures.#stage = :message",
      condition: "seq = :seq",
      names: { "#stage": stage },
      values: { ":message": message.slice(0, 500), ":seq": version.sequencer },
    });
  }

  async list(query: ListQuery): Promise<ListPage> {
    // The indexes hold keys (and what their filters need), not records: the page's keys come from the index,
    // the records from the table, as they are now (dynamo-table.ts).
    const input: QueryCommandInput = query.owner
      ? {
          TableName: this.table,
          IndexName: INDEX_BY_OWNER,
          KeyConditionExpression: "gsi1pk = :pk",
          ExpressionAttributeValues: { ":pk": `OWNER#${query.owner}` },
        }
      : {
          TableName: this.table,
          IndexName: INDEX_BY_STATUS,
          KeyConditionExpression: query.registeredBefore
            ? query.registeredAfter
              ? "gsi2pk = :pk AND gsi2sk BETWEEN :after AND :before"
              : "gsi2pk = :pk AND gsi2sk < :before"
            : "gsi2pk = :pk",
          ExpressionAttributeValues: {
            ":pk": `STATUS#${query.status ?? "PENDING"}`,
            ...(query.registeredBefore ? { ":before": query.registeredBefore } : {}),
            ...(query.registeredBefore && query.registeredAfter ? { ":after": query.registeredAfter } : {}),
          },
          // Projected into the status index for this filter: only the unconfirmed are read from the table.
          ...(query.unnotified ? { FilterExpression: "attribute_not_exists(notificationId)" } : {}),
        };
    input.ScanIndexForward = false;
    input.Limit = query.limit;
    input.ExclusiveStartKey = query.after;
    const out = await this.client.send(new QueryCommand(input));
    const keys = (out.Items ?? []).map((i) => ({ pk: String(i.pk), sk: String(i.sk) }));
    const items = await this.readItems(keys);
    const records: FileRecord[] = [];
    for (const key of keys) {
      const item = items.get(key.pk);
      // Gone from the page's status or filters since the index listed it (the index lags the table).
      if (item && answers(query, item)) records.push(toRecord(item));
    }
    return { records, last: out.LastEvaluatedKey as Record<string, string> | undefined };
  }

  /**
   * The items of these keys, by `pk`; keys without an item are left out. Eventually consistent, as the index
   * query before it always is (and half the read units of a strongly consistent read).
   */
  private async readItems(keys: { pk: string; sk: string }[]): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < keys.length; i += BATCH_GET_KEYS) {
      let pending: Record<string, unknown>[] = keys.slice(i, i + BATCH_GET_KEYS);
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > BATCH_GET_ATTEMPTS)
          throw new Error(`DynamoDB left ${pending.length} keys unread after ${BATCH_GET_ATTEMPTS} attempts`);
        if (attempt > 1) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
        const out = await this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.table]: { Keys: pending, ConsistentRead: false } },
          }),
        );
        for (const item of out.Responses?.[this.table] ?? []) found.set(String(item.pk), item);
        pending = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
      }
    }
    return found;
  }

  async putUploadSession(session: UploadSession): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `UPLOAD#${session.fileId}`, sk: "SESSION", ...session },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new UploadSessionExistsError(session.fileId, { cause: error });
      throw error;
    }
  }

  async getUploadSession(fileId: string): Promise<UploadSession | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `UPLOAD#${fileId}`, sk: "SESSION" },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, ...session } = out.Item;
    return session as UploadSession;
  }

  async closeUploadSession(
    fileId: string,
    how: UploadClosure,
    expiresAt: number,
  ): Promise<{ won: boolean; how: UploadClosure }> {
    const key = { pk: `UPLOAD#${fileId}`, sk: "CLOSED" };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...key, how, at: this.now().toISOString(), expiresAt },
          ConditionExpression: "attribute_not_exists(pk)",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { won: true, how };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const closed = itemOfFailure(error);
      if (closed) return { won: false, how: (closed.how as UploadClosure | undefined) ?? how };
    }
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }),
    );
    return { won: false, how: (out.Item?.how as UploadClosure | undefined) ?? how };
  }

  async reopenUploadSession(fileId: string, how: UploadClosure): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: `UPLOAD#${fileId}`, sk: "CLOSED" },
          ConditionExpression: "how = :how",
          ExpressionAttributeValues: { ":how": how },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async markDeleted(fileId: string, version: ObjectVersion): Promise<boolean> {
    const now = this.now().toISOString();
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: filePk(fileId), sk: META },
          // The audit stub: who, which key, when. The stage results (facts, text preview), the verdict's reasons
          // and the digests go; the clean and text keys stay so that an interrupted erasure can be repeated.
          UpdateExpression:
            "SET #status = :deleted, deletedAt = :now, updatedAt = :now, gsi2pk = :g2pk, gsi2sk = :g2sk, " +
            "reasons = :empty, stages = :stages REMOVE sha256, detectedType, declaredType, stageFailures",
          ConditionExpression: "attribute_exists(pk) AND seq = :seq",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: {
            ":deleted": "DELETED",
            ":now": now,
            ":g2pk": "STATUS#DELETED",
            ":g2sk": `${now}#${fileId}`,
            ":empty": [],
            ":stages": {},
            ":seq": version.sequencer,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async keepUnreadable(queue: string, messageId: string, body: string): Promise<void> {
    const at = this.now().toISOString();
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `UNREADABLE#${at.slice(0, 10)}`, sk: `${at}#${messageId}`, queue, messageId, body, at },
      }),
    );
  }

  async trail(fileId: string): Promise<AuditRecord[]> {
    // One partition holds the record (with the entries appended by its writes) and the entries written alone.
    const entries: AuditRecord[] = [];
    const sequence = new Map<number, AuditRecord>();
    let after: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": filePk(fileId) },
          ConsistentRead: true,
          ExclusiveStartKey: after,
        }),
      );
      for (const item of out.Items ?? []) {
        // The record's list and the archive items are pieces of one sequence, each starting at its position in
        // it: an entry moved while this query read the record is found twice at the same position.
        const piece =
          item.sk === META
            ? (item[TRAIL] as AuditRecord[] | undefined)
            : (item[ARCHIVED] as AuditRecord[] | undefined);
        if (Array.isArray(piece)) {
          const from = Number(item[MOVED] ?? 0);
          for (const [i, entry] of piece.entries()) sequence.set(from + i, entry);
        } else if (String(item.sk).startsWith("AUDIT#")) {
          const { pk: _pk, sk: _sk, ...entry } = item;
          entries.push(entry as AuditRecord);
        }
      }
      after = out.LastEvaluatedKey;
    } while (after);
    const appended = [...sequence.entries()].sort(([a], [b]) => a - b).map(([, entry]) => entry);
    // Stable: entries of one millisecond keep the order they were appended in.
    return [...appended, ...entries].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  /**
   * Moves all but the newest half of the record's entries to an item of their own. Best effort: the write that
   * appended has won already, and a later one moves them if this fails. The removal is conditional on the list
   * being as read (its length and the count moved before), so two writers cannot remove twice and no appended
   * entry is dropped; the archive item is named by the position of its first entry and the count, so two writers
   * (or a retry after a crash in between) write the same item or overlapping ones, and `trail` reads each
   * position once.
   */
  private async archiveTrail(fileId: string, trail: AuditRecord[], movedBefore: number): Promise<void> {
    const moved = trail.slice(0, trail.length - TRAIL_KEPT / 2);
    const first = moved[0];
    if (!first) return;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: filePk(fileId),
            sk: `AUDIT#${first.at}#trail#${movedBefore}#${moved.length}`,
            at: first.at,
            [ARCHIVED]: moved,
            [MOVED]: movedBefore,
          },
        }),
      );
      // The rest is written back only if the list is as read: no entry appended, none moved, since.
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: filePk(fileId), sk: META },
          UpdateExpression: "SET #trail = :kept, #moved = :movedNow",
          ConditionExpression: `size(#trail) = :length AND ${movedBefore === 0 ? "attribute_not_exists(#moved)" : "#moved = :movedBefore"}`,
          ExpressionAttributeNames: { "#trail": TRAIL, "#moved": MOVED },
          ExpressionAttributeValues: {
            ":kept": trail.slice(moved.length),
            ":length": trail.length,
            ...(movedBefore === 0 ? {} : { ":movedBefore": movedBefore }),
            ":movedNow": movedBefore + moved.length,
          },
        }),
      );
    } catch {
      // Left for the next write: the entries are all still on the record or on the archive item.
    }
  }

  async audit(fileId: string, entry: AuditEntry): Promise<void> {
    const at = this.now().toISOString();
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: filePk(fileId), sk: `AUDIT#${at}#${randomBytes(4).toString("hex")}`, at, ...entry },
      }),
    );
  }
}
