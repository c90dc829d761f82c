import { describe, expect, it } from "vitest";
import { ResumeStore } from "../../../web/src/resume.ts";

/** A Web Storage on a Map, as localStorage behaves. */
class MemoryStorage implements Storage {
  private readonly map = new Map<string, string>();
  get length() {
    return this.map.size;
  }
  clear() {
    this.map.clear();
  }
  getItem(key: string) {
    return this.map.get(key) ?? null;
  }
  key(i: number) {
    return [...this.map.keys()][i] ?? null;
  }
  removeItem(key: string) {
    this.map.delete(key);
  }
  setItem(key: string, value: string) {
    this.map.set(key, String(value));
  }
  dump() {
    return Object.fromEntries(this.map);
  }
}

const NOW = Date.parse("2026-12-01T10:00:00Z");
const LATER = "2026-12-01T11:00:00.000Z";
const FID = "0123456789abcdefghjkmnpqrs";
const file = { name: "big.txt", size: 9_000_000, lastModified: 1_700_000_000_000 };

describe("Class: ResumeStore", () => {
  it("finds an upload by file name, size and last-modified time, for the same user only", () => {
    const storage = new MemoryStorage();
    new ResumeStore(storage, "alice", () => NOW).save(file, FID, LATER);
    const alice = new ResumeStore(storage, "alice", () => NOW);
    expect(alice.get(file)).toEqual({ ...file, fileId: FID, expiresAt: LATER });
    expect(alice.get({ ...file, size: file.size + 1 })).toBeUndefined();
    expect(alice.get({ ...file, lastModified: file.lastModified + 1 })).toBeUndefined();
    expect(alice.get({ ...file, name: "other.txt" })).toBeUndefined();
    expect(new ResumeStore(storage, "bob", () => NOW).get(file)).toBeUndefined();
  });

  it("keeps the file id and expiry only: no token, no signed URL", () => {
    const storage = new MemoryStorage();
    new ResumeStore(storage, "alice", () => NOW).save(file, FID, LATER);
    const [value] = Object.values(storage.dump());
    expect(Object.keys(JSON.parse(value ?? "{}")).sort()).toEqual([
      "expiresAt",
      "fileId",
      "lastModified",
      "name",
      "size",
    ]);
  });

  it("drops expired and malformed entries when it reads them", () => {
    const storage = new MemoryStorage();
    const store = new ResumeStore(storage, "alice", () => NOW);
    store.save(file, FID, "2026-12-01T09:59:59.000Z");
    expect(store.get(file)).toBeUndefined();
    expect(storage.length).toBe(0);
    store.save(file, "../../etc", LATER);
    expect(store.get(file)).toBeUndefined();
    expect(storage.length).toBe(0);
  });

  it("lists this user's open uploads and forgets them all on sign-out", () => {
    const storage = new MemoryStorage();
    const alice = new ResumeStore(storage, "alice", () => NOW);
    const bob = new ResumeStore(storage, "bob", () => NOW);
    alice.save(file, FID, LATER);
    alice.save({ ...file, name: "two.txt" }, "1123456789abcdefghjkmnpqrs", "2026-12-01T10:30:00.000Z");
    bob.save(file, "2123456789abcdefghjkmnpqrs", LATER);
    storage.setItem("unrelated", "kept");
    expect(alice.pending().map((e) => e.name)).toEqual(["two.txt", "big.txt"]);
    expect(alice.forgetAll().map((e) => e.fileId)).toEqual(["1123456789abcdefghjkmnpqrs", FID]);
    expect(alice.pending()).toEqual([]);
    expect(bob.pending()).toHaveLength(1);
    expect(storage.getItem("unrelated")).toBe("kept");
  });

  it("keeps working, without resume, when the browser refuses storage", () => {
    const refusing = new MemoryStorage();
    refusing.setItem = () => {
      throw new DOMException("quota", "QuotaExceededError");
    };
    const store = new ResumeStore(refusing, "alice", () => NOW);
    expect(() => store.save(file, FID, LATER)).not.toThrow();
    expect(store.get(file)).toBeUndefined();
    expect(new ResumeStore(undefined, "alice").pending()).toEqual([]);
  });
});
