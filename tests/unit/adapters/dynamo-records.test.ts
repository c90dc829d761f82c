/**
 * What the DynamoDB record store asks of DynamoDB, request by request: a conditional write that loses takes the
 * record from the failure (`ReturnValuesOnConditionCheckFailure: ALL_OLD`) instead of reading it again, and a
 * listing reads keys from an index that projects keys only, then the records themselves, leaving out any that
 * no longer answer the query.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { DynamoRecordStore } from "../../../core/adapters/dynamo-records.ts";
import type { ObjectVersion } from "../../../core/domain/types.ts";
import { passed } from "../usecases/results.ts";

const doc = mockClient(DynamoDBDocumentClient);
afterEach(() => doc.reset());

const TABLE = "files";
const store = () =>
  new DynamoRecordStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: "us-east-1" })), TABLE);
const ID = "f000000000000000000000000a";
const version: ObjectVersion = {
  bucket: "ingest",
  key: "drops/billing/a.pdf",
  versionId: "v1",
  eTag: "e1",
  sequencer: "0000000000000000000000000001",
  size: 5,
};
const item = (over: Record<string, unknown> = {}) => ({
  pk: `FILE#${ID}`,
  sk: "META",
  gsi2pk: "STATUS#PENDING",
  gsi2sk: `2026-11-22T00:00:00.000Z#${ID}`,
  seq: version.sequencer,
  fileId: ID,
  version,
  status: "PENDING",
  stages: { validate: passed },
  reasons: [],
  updatedAt: "2026-11-22T00:00:00.000Z",
  ...over,
});

function conditionFailed(old?: Record<string, unknown>) {
  const error = new ConditionalCheckFailedException({
    message: "The conditional request failed",
    $metadata: {},
  });
  if (old) error.Item = marshall(old, { removeUndefinedValues: true });
  return error;
}

describe("DynamoRecordStore: a conditional write that loses", () => {
  it("takes the record from the failed write and does not read it again", async () => {
    doc.on(UpdateCommand).rejects(conditionFailed(item()));
    const out = await store().register(version, { fileId: ID, source: "drop" });
    expect(out).toMatchObject({
      kind: "current",
      won: false,
      record: { fileId: ID, stages: { validate: passed } },
    });
    expect(out.record).not.toHaveProperty("pk");
    expect(doc.commandCalls(GetCommand)).toHaveLength(0);
    expect(doc.commandCalls(UpdateCommand)[0]?.args[0].input.ReturnValuesOnConditionCheckFailure).toBe(
      "ALL_OLD",
    );
  });

  it("reports a record of a newer version from the failed write as stale", async () => {
    const newer = { ...version, sequencer: "0000000000000000000000000002" };
    doc.on(UpdateCommand).rejects(conditionFailed(item({ version: newer, seq: newer.sequencer })));
    expect(await store().putStageResult(ID, version, passed)).toMatchObject({ kind: "stale" });
    expect(doc.commandCalls(GetCommand)).toHaveLength(0);
  });

  it("reads the record when the failure does not carry it (an emulator that ignores ALL_OLD)", async () => {
    doc.on(UpdateCommand).rejects(conditionFailed());
    doc.on(GetCommand).resolves({ Item: item({ status: "VERIFIED" }) });
    const out = await store().decide(ID, version, { status: "FAILED", reasons: ["x"] });
    expect(out).toMatchObject({ kind: "current", won: false, record: { status: "VERIFIED" } });
    expect(doc.commandCalls(GetCommand)).toHaveLength(1);
  });

  it("takes how an upload was closed from the failed put", async () => {
    doc.on(PutCommand).rejects(conditionFailed({ pk: `UPLOAD#${ID}`, sk: "CLOSED", how: "completed" }));
    expect(await store().closeUploadSession(ID, "aborted", 1)).toEqual({ won: false, how: "completed" });
    expect(doc.commandCalls(GetCommand)).toHaveLength(0);
  });
});

describe("DynamoRecordStore: audit entries on the record's own write", () => {
  it("appends the entry in the registration's UpdateItem, with no request of its own", async () => {
    doc.on(UpdateCommand).resolves({ Attributes: item() });
    await store().register(
      version,
      { fileId: ID, source: "drop" },
      { action: "drop", actor: "system:billing" },
    );
    expect(doc.commandCalls(PutCommand)).toHaveLength(0);
    const input = doc.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.UpdateExpression).toMatch(
      /^SET .*, #trail = list_append\(if_not_exists\(#trail, :noTrail\), :trailEntry\) REMOVE /,
    );
    expect(input?.ExpressionAttributeNames?.["#trail"]).toBe("auditTrail");
    expect(input?.ExpressionAttributeValues?.[":trailEntry"]).toEqual([
      { at: expect.any(String), action: "drop", actor: "system:billing" },
    ]);
  });

  it("writes no entry with a stage result that was already recorded", async () => {
    doc.on(UpdateCommand).rejects(conditionFailed(item()));
    const out = await store().putStageResult(ID, version, passed, {
      action: "stage:validate",
      actor: "pipeline",
    });
    expect(out.won).toBe(false);
    expect(doc.commandCalls(PutCommand)).toHaveLength(0);
  });

  it("reads the trail from the record and the entries written alone, oldest first", async () => {
    doc.on(QueryCommand).resolves({
      Items: [
        {
          pk: `FILE#${ID}`,
          sk: "AUDIT#2026-11-22T00:00:03.000Z#ab",
          at: "2026-11-22T00:00:03.000Z",
          action: "verdict",
          actor: "pipeline",
        },
        item({
          auditTrail: [
            { at: "2026-11-22T00:00:01.000Z", action: "drop", actor: "system:billing" },
            { at: "2026-11-22T00:00:02.000Z", action: "stage:scan", actor: "pipeline" },
          ],
        }),
        { pk: `FILE#${ID}`, sk: "TEXT", body: "not an audit entry" },
      ],
    });
    const trail = await store().trail(ID);
    expect(trail.map((e) => e.action)).toEqual(["drop", "stage:scan", "verdict"]);
    expect(trail[2]).not.toHaveProperty("pk");
    expect(doc.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({ ConsistentRead: true });
  });
});

describe("DynamoRecordStore: listing from keys-only indexes", () => {
  const other = "f000000000000000000000000b";
  const keysOf = (...ids: string[]) => ids.map((id) => ({ pk: `FILE#${id}`, sk: "META" }));

  it("reads the listed records from the table and leaves out those that left the status", async () => {
    doc.on(QueryCommand).resolves({ Items: keysOf(ID, other), LastEvaluatedKey: { pk: "x" } });
    doc.on(BatchGetCommand).resolves({
      Responses: {
        [TABLE]: [
          item(),
          item({ pk: `FILE#${other}`, fileId: other, status: "VERIFIED", gsi2pk: "STATUS#VERIFIED" }),
        ],
      },
    });
    const page = await store().list({ status: "PENDING", limit: 10 });
    expect(page.records.map((r) => r.fileId)).toEqual([ID]);
    expect(page.records[0]?.stages.validate).toEqual(passed);
    expect(page.last).toEqual({ pk: "x" });
    const batch = doc.commandCalls(BatchGetCommand)[0]?.args[0].input;
    expect(batch?.RequestItems?.[TABLE]).toEqual({ Keys: keysOf(ID, other), ConsistentRead: false });
  });

  it("asks again for keys DynamoDB left unprocessed", async () => {
    doc.on(QueryCommand).resolves({ Items: keysOf(ID, other) });
    doc
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { [TABLE]: [item()] },
        UnprocessedKeys: { [TABLE]: { Keys: keysOf(other) } },
      })
      .resolvesOnce({ Responses: { [TABLE]: [item({ pk: `FILE#${other}`, fileId: other })] } });
    const page = await store().list({ status: "PENDING", limit: 10 });
    expect(page.records.map((r) => r.fileId).sort()).toEqual([ID, other]);
    expect(doc.commandCalls(BatchGetCommand)[1]?.args[0].input.RequestItems?.[TABLE]?.Keys).toEqual(
      keysOf(other),
    );
  });

  it("filters unconfirmed notifications in the status index, and confirmed ones read since", async () => {
    doc.on(QueryCommand).resolves({ Items: keysOf(ID) });
    doc.on(BatchGetCommand).resolves({
      Responses: {
        [TABLE]: [item({ status: "VERIFIED", gsi2pk: "STATUS#VERIFIED", notificationId: "m-1" })],
      },
    });
    const page = await store().list({
      status: "VERIFIED",
      limit: 10,
      registeredBefore: "2026-11-23",
      registeredAfter: "2026-11-21",
      unnotified: true,
    });
    expect(page.records).toEqual([]);
    expect(doc.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      IndexName: "byStatus",
      FilterExpression: "attribute_not_exists(notificationId)",
    });
  });

  it("filters an owner's listing by status and type on the records read", async () => {
    doc.on(QueryCommand).resolves({ Items: keysOf(ID, other) });
    const owned = { gsi1pk: "OWNER#alice", owner: "alice" };
    doc.on(BatchGetCommand).resolves({
      Responses: {
        [TABLE]: [
          item({ ...owned, status: "VERIFIED", detectedType: { id: "pdf" } }),
          item({
            ...owned,
            pk: `FILE#${other}`,
            fileId: other,
            status: "VERIFIED",
            detectedType: { id: "png" },
          }),
        ],
      },
    });
    const page = await store().list({ owner: "alice", status: "VERIFIED", type: "pdf", limit: 10 });
    expect(page.records.map((r) => r.fileId)).toEqual([ID]);
    const query = doc.commandCalls(QueryCommand)[0]?.args[0].input;
    expect(query).toMatchObject({ IndexName: "byOwner", ScanIndexForward: false, Limit: 10 });
    expect(query?.FilterExpression).toBeUndefined();
  });

  it("sends no read when the index lists nothing", async () => {
    doc.on(QueryCommand).resolves({ Items: [] });
    expect(await store().list({ owner: "alice", limit: 10 })).toEqual({ records: [], last: undefined });
    expect(doc.commandCalls(BatchGetCommand)).toHaveLength(0);
  });
});
