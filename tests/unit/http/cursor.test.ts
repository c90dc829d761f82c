import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../../core/http/cursor.ts";
import { newFileId } from "../../../core/http/ids.ts";
import { InvalidCursorError } from "../../../core/usecases/api/errors.ts";

const SECRET = "s".repeat(40);
const lastKey = fc.dictionary(fc.constantFrom("pk", "sk", "gsi1pk", "gsi1sk"), fc.string({ maxLength: 60 }), {
  minKeys: 1,
});

describe("Function: encodeCursor / decodeCursor", () => {
  it("round-trips any last key for the same owner (property)", () => {
    fc.assert(
      fc.property(lastKey, fc.string({ minLength: 1 }), (key, owner) => {
        expect(decodeCursor(encodeCursor(key, owner, SECRET), owner, SECRET)).toEqual(key);
      }),
    );
  });

  it("rejects a cursor replayed by another owner (property)", () => {
    fc.assert(
      fc.property(lastKey, fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (key, owner, other) => {
        fc.pre(owner !== other);
        expect(() => decodeCursor(encodeCursor(key, owner, SECRET), other, SECRET)).toThrow(
          InvalidCursorError,
        );
      }),
    );
  });

  it("rejects any edit of a cursor (property)", () => {
    fc.assert(
      fc.property(
        lastKey,
        fc.nat(),
        fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
        (key, at, ch) => {
          const cursor = encodeCursor(key, "alice", SECRET);
          const i = at % cursor.length;
          fc.pre(cursor[i] !== ch);
          const edited = cursor.slice(0, i) + ch + cursor.slice(i + 1);
          expect(() => decodeCursor(edited, "alice", SECRET)).toThrow(InvalidCursorError);
        },
      ),
    );
  });

  it("rejects cursors signed with another secret and garbage", () => {
    const cursor = encodeCursor({ pk: "x" }, "alice", SECRET);
    expect(() => decodeCursor(cursor, "alice", "t".repeat(40))).toThrow(/Invalid cursor/);
    for (const junk of ["", "abc", "a.b.c", "....", "eyJ9.sig"])
      expect(() => decodeCursor(junk, "alice", SECRET)).toThrow(InvalidCursorError);
  });
});

describe("Function: newFileId", () => {
  it("mints ids the key layout accepts, ordered by time", () => {
    const a = newFileId(1_700_000_000_000);
    const b = newFileId(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-z]{26}$/);
    expect(a < b).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => newFileId())).size).toBe(1000);
  });
});
