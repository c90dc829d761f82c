/**
 * The local S3 store's journal: what a persistent store had committed is what a new store on the same directory
 * starts with — versions, removals, delete markers, tags, uploads and their parts, completed uploads gone — and
 * the events not yet delivered are still owed, with sequencers that keep increasing.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ObjectAttributes, VersionedStore } from "../../../local/s3/store.ts";

const attributes = (): ObjectAttributes => ({
  contentType: "text/plain",
  headers: {},
  metadata: {},
  tags: [],
});
const bytes = (text: string) =>
  (async function* () {
    yield new TextEncoder().encode(text);
  })();

let dir: string;
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function opened(persistent = true) {
  const store = new VersionedStore(dir, { persistent });
  await store.init(["b"]);
  return store;
}

async function put(store: VersionedStore, key: string, text: string) {
  return store.commit("b", key, await store.writeBlob(bytes(text)), attributes(), {
    eventName: "ObjectCreated:Put",
  });
}

async function text(store: VersionedStore, key: string, versionId?: string) {
  const chunks: Buffer[] = [];
  for await (const chunk of store.read(store.resolve("b", key, versionId).blob)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe("VersionedStore journal", () => {
  it("restores versions, removals, delete markers, tags and uploads, and drops completed uploads", async () => {
    dir = await mkdtemp(join(tmpdir(), "airlock-store-"));
    const first = await opened();
    const v1 = await put(first, "k", "one");
    const v2 = await put(first, "k", "two");
    const gone = await put(first, "k", "three");
    await first.delete("b", "k", { versionId: gone.versionId });
    first.setTags(v1, [["airlock-status", "VERIFIED"]]);
    const marker = await first.delete("b", "other", {});
    const open = first.createUpload("b", "big", attributes());
    const part = await first.putPart(open, 1, await first.writeBlob(bytes("part")));
    const done = first.createUpload("b", "done", attributes());
    await first.putPart(done, 1, await first.writeBlob(bytes("whole")));
    first.beginComplete(done);
    await first.commit(
      "b",
      "done",
      await first.concat([...done.parts.values()].map((p) => p.blob)),
      done.attributes,
      {
        eventName: "ObjectCreated:CompleteMultipartUpload",
        upload: done.uploadId,
      },
    );
    // Killed before the upload's end was written: the commit line alone ends it.
    // A blob staged when the process died, never committed.
    await writeFile(join(dir, "blobs", "staged-never-committed"), "x");
    first.close();

    const second = await opened();
    expect(second.entries("b", "k").map((e) => e.versionId)).toEqual([v1.versionId, v2.versionId]);
    expect(await text(second, "k")).toBe("two");
    expect(await text(second, "k", v1.versionId)).toBe("one");
    expect(second.resolve("b", "k", v1.versionId).tags).toEqual([["airlock-status", "VERIFIED"]]);
    expect(second.current("b", "other")).toMatchObject({ versionId: marker.versionId, deleteMarker: true });
    expect(second.upload("b", "big", open.uploadId).parts.get(1)?.etag).toBe(part.etag);
    expect(() => second.upload("b", "done", done.uploadId)).toThrow(/does not exist/);
    expect(await text(second, "done")).toBe("whole");
    expect(existsSync(join(dir, "blobs", "staged-never-committed"))).toBe(false);
    expect(existsSync(join(dir, "blobs", gone.blob.id))).toBe(false);
    second.close();
  });

  it("keeps undelivered events owed across restarts, with increasing sequencers", async () => {
    dir = await mkdtemp(join(tmpdir(), "airlock-store-"));
    const first = await opened();
    await put(first, "a", "a");
    await put(first, "b", "b");
    const [a, b] = first.undelivered();
    first.delivered(a?.seq as number);
    first.close();

    const second = await opened();
    expect(second.undelivered().map((e) => [e.key, e.versionId, e.sequencer])).toEqual([
      [b?.key, b?.versionId, b?.sequencer],
    ]);
    await put(second, "c", "c");
    const sequencers = second.undelivered().map((e) => BigInt(`0x${e.sequencer}`));
    expect(sequencers[1]).toBeGreaterThan(sequencers[0] as bigint);
    second.close();
    // Compacted at each start: still the same after a second restart.
    const third = await opened();
    expect(third.undelivered().map((e) => e.key)).toEqual(["b", "c"]);
    third.close();
  });

  it("writes no journal in memory mode", async () => {
    dir = await mkdtemp(join(tmpdir(), "airlock-store-"));
    const store = await opened(false);
    await put(store, "k", "v");
    expect(await readdir(dir)).toEqual(["blobs"]);
    const again = await opened(false);
    expect(again.entries("b", "k")).toEqual([]);
  });
});

describe("VersionedStore journal compaction", () => {
  it("rewrites the journal as it grows and loses nothing doing so", async () => {
    dir = await mkdtemp(join(tmpdir(), "airlock-store-"));
    const first = new VersionedStore(dir, { persistent: true, compactAfterLines: 10 });
    await first.init(["b"]);
    const versions: string[] = [];
    for (let i = 0; i < 40; i++) {
      const version = await put(first, "k", `v${i}`);
      versions.push(version.versionId);
      first.setTags(version, [["n", String(i)]]);
      if (i % 2 === 0) for (const event of first.undelivered()) first.delivered(event.seq);
    }
    const lines = (await readFile(join(dir, "journal.jsonl"), "utf8")).split("\n").filter(Boolean);
    // 40 versions, their tags and events, many times over 10 lines: bounded by the state, not the history.
    expect(lines.length).toBeLessThan(40 + 10 + 10);
    const owed = first.undelivered().map((e) => e.seq);
    first.close();
    const second = await opened();
    expect(second.entries("b", "k").map((e) => e.versionId)).toEqual(versions);
    expect(second.resolve("b", "k", versions[39]).tags).toEqual([["n", "39"]]);
    expect(second.undelivered().map((e) => e.seq)).toEqual(owed);
    expect(await text(second, "k")).toBe("v39");
    second.close();
  });
});
