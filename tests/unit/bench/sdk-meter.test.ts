/** The cost bench's DynamoDB arithmetic: item sizes and request units as the DynamoDB guide defines them. */
import { describe, expect, it } from "vitest";
import { itemSize, type MeteredIndex, readUnits, writeCost } from "../../../bench/sdk-meter.ts";

const GSIS: MeteredIndex[] = [
  { keys: ["gsi1pk", "gsi1sk"], projection: "ALL" },
  { keys: ["gsi2pk", "gsi2sk"], projection: "ALL" },
];
const pad = (bytes: number) => ({ S: "x".repeat(bytes) });

describe("cost bench: DynamoDB item sizes and units", () => {
  it("sizes an item by its attribute names and values", () => {
    expect(itemSize({ pk: { S: "FILE#1" } })).toBe(2 + 6);
    expect(itemSize({ ok: { BOOL: true }, n: { N: "12345" } })).toBe(2 + 1 + 1 + 4);
    // Maps and lists: 3 bytes of overhead plus 1 a member, names included.
    expect(itemSize({ m: { M: { a: { S: "bc" } } } })).toBe(1 + 3 + 1 + 1 + 2);
    expect(itemSize({ l: { L: [{ S: "ab" }, { S: "c" }] } })).toBe(1 + 3 + (1 + 2) + (1 + 1));
    expect(itemSize({ s: { S: "é" } })).toBe(1 + 2);
  });

  it("charges a write by the larger of the item before and after, per started KB", () => {
    const before = { pk: { S: "a" }, body: pad(900) };
    const after = { pk: { S: "a" }, body: pad(1100) };
    expect(writeCost(undefined, before, [])).toBe(1);
    expect(writeCost(before, after, [])).toBe(2);
    expect(writeCost(after, before, [])).toBe(2);
  });

  it("adds each index the item is in, twice when the index key changes", () => {
    const pending = { pk: { S: "a" }, gsi2pk: { S: "STATUS#PENDING" }, gsi2sk: { S: "t" }, body: pad(100) };
    const verified = { ...pending, gsi2pk: { S: "STATUS#VERIFIED" } };
    const touched = { ...pending, body: pad(200) };
    // Not in any index: the table only.
    expect(writeCost(undefined, { pk: { S: "a" } }, GSIS)).toBe(1);
    // New in byStatus: table + index.
    expect(writeCost(undefined, pending, GSIS)).toBe(2);
    // Same index key, other attributes changed (ALL projection): table + an index update.
    expect(writeCost(pending, touched, GSIS)).toBe(2);
    // Index key changed: table + delete of the old index entry + put of the new one.
    expect(writeCost(pending, verified, GSIS)).toBe(3);
  });

  it("charges an index entry at its projected size, and nothing when neither its key nor a projected attribute changes", () => {
    const keysOnly: MeteredIndex[] = [{ keys: ["gsi2pk", "gsi2sk"], projection: "KEYS_ONLY" }];
    const include: MeteredIndex[] = [{ keys: ["gsi2pk", "gsi2sk"], projection: ["notificationId"] }];
    const pending = { pk: { S: "a" }, gsi2pk: { S: "STATUS#PENDING" }, gsi2sk: { S: "t" }, body: pad(3000) };
    const touched = { ...pending, body: pad(3100) };
    const verified = { ...pending, gsi2pk: { S: "STATUS#VERIFIED" } };
    const notified = { ...verified, notificationId: { S: "m-1" } };
    // A 3 KB item is written to a keys-only index as a small entry: 3 + 1.
    expect(writeCost(undefined, pending, keysOnly)).toBe(4);
    // Not a key, not projected: the table only (with ALL: 4 + 4).
    expect(writeCost(pending, touched, keysOnly)).toBe(4);
    expect(writeCost(pending, touched, GSIS.slice(1))).toBe(8);
    // The key moved: a delete and a put of the small entry.
    expect(writeCost(pending, verified, keysOnly)).toBe(5);
    // A projected attribute changed: one update of the entry; not projected: none.
    expect(writeCost(verified, notified, include)).toBe(4);
    expect(writeCost(verified, notified, keysOnly)).toBe(3);
  });

  it("reads 4 KB a unit, half for an eventually consistent read, at least one", () => {
    expect(readUnits(0, true)).toBe(1);
    expect(readUnits(4096, true)).toBe(1);
    expect(readUnits(4097, true)).toBe(2);
    expect(readUnits(4097, false)).toBe(1);
    expect(readUnits(100, false)).toBe(0.5);
  });
});
