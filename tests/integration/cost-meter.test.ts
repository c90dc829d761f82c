/**
 * The cost bench's meter on the local stack: a dropped file's handler invocations are timed and the AWS requests
 * they send are counted by service and class, with DynamoDB units from the items actually written.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  install,
  instrument,
  type Meter,
  meteredIndexes,
  reset,
  settle,
  uninstall,
} from "../../bench/sdk-meter.ts";
import { TABLE_INDEXES } from "../../core/adapters/dynamo-table.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { csv } from "../fixtures/documents.ts";
import { EICAR } from "../fixtures/malicious.ts";
import { clientsFor } from "../support/local.ts";

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;

beforeAll(async () => {
  stack = await startLocalStack({ sweepIntervalMs: 3_600_000, instrument });
  const { state } = stack;
  install({
    dynamodb: new DynamoDBClient({
      region: state.region,
      credentials: state.credentials,
      endpoint: state.endpoints.dynamodb,
    }),
    stageQueues: Object.values(state.queues).flatMap((q) => [q.url, q.dlqUrl]),
    gsis: meteredIndexes(TABLE_INDEXES),
  });
  io = clientsFor(stack);
  // The pollers' long polls started before the meter was installed: one file through, and they run through it.
  await io.waitFinal(await io.drop("drops/cost/warmup.txt", "warm up\n"), 30_000);
  await stack.idle(30_000);
}, 90_000);
afterAll(async () => {
  uninstall();
  await stack?.stop();
});

async function measure(key: string, body: Uint8Array): Promise<Meter> {
  const meter = reset();
  await io.waitFinal(await io.drop(key, body), 30_000);
  await stack.idle(30_000);
  await settle();
  return meter;
}

const count = (m: Meter, prefix: string) =>
  [...m.requests].filter(([k]) => k.startsWith(prefix)).reduce((n, [, c]) => n + c, 0);

describe("cost bench meter on the local stack", () => {
  it("counts a verified file's invocations, S3 classes, DynamoDB units and event-source polling", async () => {
    const m = await measure("drops/cost/meter.csv", csv(10, 3));
    for (const fn of ["validate", "scan", "metadata"]) {
      expect(m.invocations.get(fn), fn).toBeGreaterThanOrEqual(1);
      expect(m.durationMs.get(fn), fn).toBeGreaterThan(0);
    }
    expect(m.requests.get("S3:put:CopyObject")).toBe(1);
    expect(count(m, "S3:get:")).toBeGreaterThanOrEqual(3);
    expect(count(m, "DynamoDB:")).toBeGreaterThan(5);
    // Every write is at least one unit, and the record is in the indexes.
    expect(m.wru).toBeGreaterThan(count(m, "DynamoDB:UpdateItem") + count(m, "DynamoDB:PutItem"));
    expect(m.gsiWru).toBeGreaterThan(0);
    expect(m.rru).toBeGreaterThan(0);
    expect(m.pollerRequests).toBeGreaterThanOrEqual(6);
    expect([...m.snsPublishesByTopic.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it("an infected file is not promoted: no copy counted", async () => {
    const m = await measure("drops/cost/eicar.txt", EICAR);
    expect(m.requests.get("S3:put:CopyObject") ?? 0).toBe(0);
    expect(count(m, "DynamoDB:")).toBeGreaterThan(0);
  }, 60_000);
});
