/** The verdict cache and the scan halves as DynamoDB items, against a real DynamoDB emulator. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoScanCache, DynamoScanPartStore } from "../../core/adapters/dynamo-scan-parts.ts";
import type { EngineResult, ObjectVersion } from "../../core/domain/types.ts";
import { startDynamo } from "../support/dynamo.ts";

let dynamo: Awaited<ReturnType<typeof startDynamo>>;
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(() => dynamo?.stop());

const clean: EngineResult[] = [{ engine: "builtin", status: "clean", signatureVersion: "b1" }];
const sha = "ab".repeat(32);

describe("Adapter: DynamoScanCache", () => {
  it("returns a verdict for the same digest and engine set only, until it expires", async () => {
    let now = new Date("2026-11-22T12:00:00Z");
    const cache = new DynamoScanCache(dynamo.client, dynamo.table, () => now);
    await cache.put(sha, "builtin@b1", clean);
    expect(await cache.get(sha, "builtin@b1")).toEqual(clean);
    expect(await cache.get(sha, "builtin@b2")).toBeUndefined();
    expect(await cache.get("cd".repeat(32), "builtin@b1")).toBeUndefined();
    now = new Date("2027-01-22T12:00:00Z");
    expect(await cache.get(sha, "builtin@b1")).toBeUndefined();
  });
});

describe("Adapter: DynamoScanPartStore", () => {
  it("keeps each half for exactly one object version", async () => {
    const parts = new DynamoScanPartStore(dynamo.client, dynamo.table);
    const v1: ObjectVersion = { bucket: "b", key: "k", sequencer: "0001", size: 1 };
    const v2: ObjectVersion = { ...v1, sequencer: "0002" };
    await parts.put("f", v1, "engines", clean);
    expect(await parts.get("f", v1, "engines")).toEqual(clean);
    expect(await parts.get("f", v2, "engines")).toBeUndefined();
    expect(await parts.get("f", v1, "guardduty")).toBeUndefined();
  });
});
