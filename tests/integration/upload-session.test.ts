/**
 * The pipeline's own upload-session re-check on the local stack — the second wall, which must hold alone. The
 * objects here are put with the SDK (credentials that may write to the ingest bucket, as a misconfigured role or
 * a store without POST-policy checks would allow), so nothing of S3's own checks stands in for the pipeline's.
 */
import { createHash } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, GetObjectTaggingCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeKey } from "../../core/domain/keys.ts";
import { mintToken } from "../../local/gateway.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { EICAR } from "../fixtures/malicious.ts";
import { pollDeadline } from "../support/deadline.ts";
import { clientsFor } from "../support/local.ts";

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;
let doc: DynamoDBDocumentClient;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  stack = await startLocalStack({ sweepIntervalMs: 3_600_000 });
  io = clientsFor(stack);
  doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: stack.state.region,
      credentials: stack.state.credentials,
      endpoint: stack.state.endpoints.dynamodb,
    }),
  );
  tokens.alice = await mintToken(stack.state.api, { sub: "alice" });
  tokens.bob = await mintToken(stack.state.api, { sub: "bob" });
});
afterAll(() => stack?.stop());

interface Plan {
  fileId: string;
  key: string;
  owner: string;
  upload: { url: string; fields: Record<string, string> };
}

async function call(method: string, path: string, who: string, body?: unknown) {
  const res = await fetch(`${stack.state.api.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${tokens[who]}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

async function presign(who: string, filename: string, size: number): Promise<Plan> {
  const res = await call("POST", "/uploads", who, { filename, contentType: "text/plain", size });
  expect(res.status).toBe(201);
  const plan = res.body as unknown as Plan;
  // The owner as the API derives it from the token (issuer and subject), exactly as the form carries it.
  return { ...plan, owner: plan.upload.fields["x-amz-meta-owner"] ?? who };
}

/** Puts an object straight into the ingest bucket, with exactly the metadata given. */
async function land(key: string, bytes: Uint8Array, metadata: Record<string, string>) {
  await io.s3.send(
    new PutObjectCommand({
      Bucket: stack.state.ingestBucket,
      Key: key,
      Body: bytes,
      ContentType: "text/plain",
      Metadata: metadata,
    }),
  );
  return describeKey(stack.state.ingestBucket, key).fileId;
}

/** As the presigned form would: the session's owner and id in the metadata. */
const asPresigned = (plan: Plan) => ({ owner: plan.owner, "upload-id": plan.fileId });
const text = (s: string) => new TextEncoder().encode(s);

async function cleanBytes(key: string): Promise<Buffer | undefined> {
  try {
    const out = await io.s3.send(new GetObjectCommand({ Bucket: stack.state.cleanBucket, Key: key }));
    return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
  } catch (error) {
    if ((error as Error).name === "NoSuchKey") return undefined;
    throw error;
  }
}

async function verifiedUpload(who: string, name: string, body: string) {
  const bytes = text(body);
  const plan = await presign(who, name, bytes.length);
  const record = await io.waitFinal(await land(plan.key, bytes, asPresigned(plan)));
  expect(record.status, record.reasons.join("; ")).toBe("VERIFIED");
  return { plan, bytes, record };
}

async function audit(fileId: string) {
  const out = await doc.send(
    new QueryCommand({
      TableName: stack.state.tableName,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :audit)",
      ExpressionAttributeValues: { ":pk": `FILE#${fileId}`, ":audit": "AUDIT#" },
    }),
  );
  return (out.Items ?? []).map((i) => ({
    action: String(i.action),
    detail: i.detail as Record<string, unknown>,
  }));
}

/**
 * Waits until the pipeline handled an extra object landed on a file's key (its audit says so), then for the
 * stack to be idle. The S3 event of a write is published after the write answers, so idle queues alone may
 * be the moment before the event.
 */
async function untilExtraRejected(fileId: string) {
  const deadline = pollDeadline(30_000);
  while (!(await audit(fileId)).some((a) => a.action === "reject-extra-object")) {
    if (deadline.passed()) throw new Error(`the extra object on ${fileId} was never handled`);
    await deadline.sleep(50);
  }
  await stack.idle();
}

describe("Upload sessions: rejected where the session says otherwise", () => {
  it.each<[string, (plan: Plan) => { key: string; metadata: Record<string, string> }, RegExp]>([
    [
      "a form with the owner field removed",
      (plan) => ({ key: plan.key, metadata: { "upload-id": plan.fileId } }),
      /owner metadata of the presigned form is missing/,
    ],
    [
      "a key below its upload (uploads/<id>/sub/x)",
      (plan) => ({ key: `uploads/${plan.fileId}/sub/x.txt`, metadata: asPresigned(plan) }),
      /exactly uploads\/<id>\/<name>/,
    ],
    [
      "a form whose key was changed to a system's drop prefix",
      (plan) => ({ key: `drops/billing/${plan.fileId}.txt`, metadata: asPresigned(plan) }),
      /carries the metadata of upload .* outside its presigned key/,
    ],
    [
      "an upload key whose id has no session",
      (plan) => ({ key: "uploads/06h3691z9rnj8021wjsnp00000/x.txt", metadata: asPresigned(plan) }),
      /no upload session was presigned/,
    ],
  ])("rejects %s", async (_what, tamper, reason) => {
    const bytes = text("an ordinary text file\n");
    const plan = await presign("alice", "a.txt", bytes.length);
    const { key, metadata } = tamper(plan);
    const record = await io.waitFinal(await land(key, bytes, metadata));
    expect(record.status).toBe("REJECTED");
    expect(record.reasons.join("\n")).toMatch(reason);
    expect(await cleanBytes(key)).toBeUndefined();
  });

  it("rejects an object that lands after the session's own expiry", async () => {
    const bytes = text("late but otherwise fine\n");
    const plan = await presign("alice", "late.txt", bytes.length);
    await doc.send(
      new UpdateCommand({
        TableName: stack.state.tableName,
        Key: { pk: `UPLOAD#${plan.fileId}`, sk: "SESSION" },
        UpdateExpression: "SET expiresAt = :past",
        ExpressionAttributeValues: { ":past": Math.floor(Date.now() / 1000) - 600 },
      }),
    );
    const record = await io.waitFinal(await land(plan.key, bytes, asPresigned(plan)));
    expect(record.status).toBe("REJECTED");
    expect(record.reasons.join()).toMatch(/after its upload session expired/);
  });

  it("does not read an object larger than its upload declared", async () => {
    const plan = await presign("alice", "small.txt", 100);
    const big = new Uint8Array(3 * 1024 * 1024).fill(0x61);
    const record = await io.waitFinal(await land(plan.key, big, asPresigned(plan)));
    expect(record.status).toBe("REJECTED");
    expect(record.reasons.join()).toMatch(/differs from the presigned size 100/);
    expect(record.stages.scan?.reasons.join()).toMatch(/not read: the object is 3.0 MiB/);
    expect(record.stages.metadata?.reasons.join()).toMatch(/not read: the object is 3.0 MiB/);
    expect(record.sha256).toBeUndefined();
  });
});

describe("Upload sessions: one object, once", () => {
  it("keeps Alice's verified file when Bob lands his upload on her key", async () => {
    const alice = await verifiedUpload("alice", "mine.txt", "alice's verified words\n");
    const bob = await presign("bob", "theirs.txt", alice.bytes.length);
    await land(alice.plan.key, text("bob's words, same length!!\n"), asPresigned(bob));
    await untilExtraRejected(alice.plan.fileId);

    const after = await io.records.get(alice.plan.fileId);
    expect(after).toMatchObject({ status: "VERIFIED", owner: alice.plan.owner, sha256: alice.record.sha256 });
    expect(after?.version).toEqual(alice.record.version);
    expect(await cleanBytes(alice.plan.key)).toEqual(Buffer.from(alice.bytes));
    expect((await audit(alice.plan.fileId)).map((a) => a.action)).toContain("reject-extra-object");
  });

  it("rejects a second object posted with a used session, and keeps the first", async () => {
    const first = await verifiedUpload("alice", "twice.txt", "the first object.\n");
    await land(first.plan.key, EICAR.subarray(0, first.bytes.length), asPresigned(first.plan));
    await untilExtraRejected(first.plan.fileId);
    const after = await io.records.get(first.plan.fileId);
    expect(after?.status).toBe("VERIFIED");
    expect(after?.sha256).toBe(createHash("sha256").update(first.bytes).digest("hex"));
    expect(await cleanBytes(first.plan.key)).toEqual(Buffer.from(first.bytes));
    // The second object stays in quarantine, tagged as held.
    const tags = await io.s3.send(
      new GetObjectTaggingCommand({ Bucket: stack.state.ingestBucket, Key: first.plan.key }),
    );
    expect(tags.TagSet).toEqual([{ Key: "airlock-status", Value: "REJECTED" }]);
  });

  it("does not revive a deleted file when its form is posted again", async () => {
    const gone = await verifiedUpload("alice", "deleted.txt", "soon to be deleted\n");
    expect((await call("DELETE", `/files/${gone.plan.fileId}`, "alice")).status).toBe(204);
    await land(gone.plan.key, gone.bytes, asPresigned(gone.plan));
    await untilExtraRejected(gone.plan.fileId);
    expect((await io.records.get(gone.plan.fileId))?.status).toBe("DELETED");
    expect(await cleanBytes(gone.plan.key)).toBeUndefined();
    // The API shows a deleted file as an audit stub only: its status, none of its content.
    const shown = await call("GET", `/files/${gone.plan.fileId}`, "alice");
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ status: "DELETED" });
    expect(shown.body).not.toHaveProperty("sha256");
    const rejected = (await audit(gone.plan.fileId)).find((a) => a.action === "reject-extra-object");
    expect(String(rejected?.detail.reason)).toMatch(/deleted/);
  });
});
