/**
 * Every record port (file records, verdicts, listing, deletions, rescans, upload sessions, audit log,
 * notification claims, unreadable messages: together `RecordStore`) on one DynamoDB table (single-table
 * design). Every state change is a conditional UpdateItem on the file's current object version (`seq`, the
 * padded S3 sequencer), so concurrent stages and redelivered events cannot overwrite each other or resurrect
 * an older version. No transactions: each step is one item write.
 */
import { randomBytes } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
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
  type ListPage,
  type ListQuery,
  type NewFile,
  type RecordStore,
  RecordVanishedError,
  type UploadClosure,
  UploadSessionExistsError,
  type Versioned,
} from "../ports/index.ts";

const META = "META";
const filePk = (fileId: string) => `FILE#${fileId}`;
const INDEX_BY_OWNER = "byOwner";
const INDEX_BY_STATUS = "byStatus";

/** Item attributes that are keys and indexes, not part of the record. */
const KEY_ATTRIBUTES = ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "seq"] as const;

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

  private async current(fileId: string, version: ObjectVersion): Promise<Versioned> {
    const record = await this.get(fileId);
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
    },
  ): Promise<Versioned & { won: boolean }> {
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: filePk(fileId), sk: META },
          UpdateExpression: update.expression,
          ConditionExpression: update.condition,
          ExpressionAttributeNames: update.names,
          ExpressionAttributeValues: update.values,
          ReturnValues: "ALL_NEW",
        }),
      );
      return { kind: "current", record: toRecord(out.Attributes ?? {}), won: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { ...(await this.current(fileId, version)), won: false };
    }
  }

  async register(version: ObjectVersion, file: NewFile): Promise<Versioned & { won: boolean }> {
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
    });
    return result;
  }

  async putStageResult(fileId: string, version: ObjectVersion, result: StageResult): Promise<Versioned> {
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
    });
    return { kind: out.kind, record: out.record } as Versioned;
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
      condition: "seq = :seq",
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
        };
    if (query.owner && (query.status || query.type)) {
      const filters: string[] = [];
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      if (query.status) {
        filters.push("#status = :status");
        names["#status"] = "status";
        values[":status"] = query.status;
      }
      if (query.type) {
        filters.push("detectedType.id = :type");
        values[":type"] = query.type;
      }
      input.FilterExpression = filters.join(" AND ");
      if (Object.keys(names).length > 0) input.ExpressionAttributeNames = names;
      input.ExpressionAttributeValues = { ...input.ExpressionAttributeValues, ...values };
    }
    input.ScanIndexForward = false;
    input.Limit = query.limit;
    input.ExclusiveStartKey = query.after;
    const out = await this.client.send(new QueryCommand(input));
    return {
      records: (out.Items ?? []).map(toRecord),
      last: out.LastEvaluatedKey as Record<string, string> | undefined,
    };
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
        }),
      );
      return { won: true, how };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
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
