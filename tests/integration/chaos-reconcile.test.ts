/**
 * The reconciler on the local stack (real emulators over HTTP): the inconsistencies crashes and lost events
 * leave are made by hand, then one reconcile run repairs them and a second finds nothing left.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { DeleteCommand, DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcile } from "../../core/usecases/pipeline/reconcile.ts";
import { reconcileDeps } from "../../local/cli/commands/reconcile.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { EICAR } from "../fixtures/malicious.ts";
import { clientsFor } from "../support/local.ts";

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  stack = await startLocalStack({ sweepIntervalMs: 3_600_000, visibilityTimeoutSeconds: 2 });
  io = clientsFor(stack);
  const { state } = stack;
  documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: state.region,
      credentials: state.credentials,
      endpoint: state.endpoints.dynamodb,
    }),
  );
});
afterAll(() => stack?.stop());

const later = () => new Date(Date.now() + 5_000);

describe("Function: reconcile (local stack)", () => {
  it("repairs a lost record, a lost notification and unjudged clean objects, then finds nothing", async () => {
    const { state } = stack;
    const clean = await io.waitFinal(
      await io.drop("drops/erp/kept.txt", "a plain clean text\n", "text/plain"),
    );
    const rejected = await io.waitFinal(await io.drop("drops/erp/lost.txt", EICAR, "text/plain"));
    const unnotified = await io.waitFinal(await io.drop("drops/erp/crashed.csv", "a,b\n1,2\n", "text/csv"));
    expect(clean.status).toBe("VERIFIED");
    expect(rejected.status).toBe("INFECTED");
    await stack.idle();
    const notifiedBefore = stack.outbox.length;

    // An event lost for an object in quarantine: its record never existed.
    await documents.send(
      new DeleteCommand({ TableName: state.tableName, Key: { pk: `FILE#${rejected.fileId}`, sk: "META" } }),
    );
    // A crash between the notification claim and the publish, long ago.
    await documents.send(
      new UpdateCommand({
        TableName: state.tableName,
        Key: { pk: `FILE#${unnotified.fileId}`, sk: "META" },
        UpdateExpression: "SET notifiedAt = :long REMOVE notificationId",
        ExpressionAttributeValues: { ":long": "2026-01-01T00:00:00.000Z" },
      }),
    );
    // Bytes in clean no VERIFIED record stands for, and a judged file overwritten there.
    await io.s3.send(
      new PutObjectCommand({ Bucket: state.cleanBucket, Key: "drops/erp/rogue.exe", Body: "MZ" }),
    );
    await io.s3.send(
      new PutObjectCommand({
        Bucket: state.cleanBucket,
        Key: clean.key,
        Body: "not the judged bytes",
        Metadata: { "airlock-sha256": "0".repeat(64), "airlock-file-id": clean.fileId },
      }),
    );

    const deps = reconcileDeps(state);
    const dry = await reconcile(deps, { graceSeconds: 0, now: later(), repair: false });
    expect(dry.findings.map((f) => `${f.kind} ${f.key} ${f.action}`).sort()).toEqual([
      "clean-without-verified drops/erp/kept.txt reported",
      "clean-without-verified drops/erp/rogue.exe reported",
      "unnotified drops/erp/crashed.csv reported",
      "unrecorded-object drops/erp/lost.txt reported",
    ]);

    const fixed = await reconcile(deps, { graceSeconds: 0, now: later() });
    expect(fixed.unresolved).toBe(0);
    expect(fixed.findings.map((f) => `${f.kind} ${f.key} ${f.action}`).sort()).toEqual([
      "clean-without-verified drops/erp/kept.txt withdrawn",
      "clean-without-verified drops/erp/rogue.exe withdrawn",
      "unnotified drops/erp/crashed.csv settled",
      "unrecorded-object drops/erp/lost.txt redriven",
    ]);
    await stack.idle();

    // The lost file was judged again from its synthetic event; the crashed one was notified.
    expect((await io.records.get(rejected.fileId))?.status).toBe("INFECTED");
    expect(stack.outbox.length - notifiedBefore).toBe(2);
    expect((await io.records.get(unnotified.fileId))?.notificationId).toBeTruthy();
    // The judged bytes are back as the current clean object; the rogue is gone.
    const kept = await io.s3.send(new GetObjectCommand({ Bucket: state.cleanBucket, Key: clean.key }));
    expect(await kept.Body?.transformToString()).toBe("a plain clean text\n");
    await expect(
      io.s3.send(new GetObjectCommand({ Bucket: state.cleanBucket, Key: "drops/erp/rogue.exe" })),
    ).rejects.toThrow();

    const again = await reconcile(deps, { graceSeconds: 0, now: later() });
    expect(again.findings).toEqual([]);
  });
});
