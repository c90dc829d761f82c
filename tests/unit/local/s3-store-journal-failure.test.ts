/**
 * A journal write that fails partway (a full disk): the commit it was for fails, the journal is left as it was,
 * no event is owed for the change that did not happen, and the next commit and the next start are unharmed.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it, vi } from "vitest";

let failNext = false;
vi.mock("node:fs", async (original) => {
  const real = await original<typeof import("node:fs")>();
  return {
    ...real,
    writeSync: (fd: number, data: Uint8Array, offset?: number) => {
      if (!failNext) return real.writeSync(fd, data, offset);
      failNext = false;
      real.writeSync(fd, data.subarray(offset ?? 0, (offset ?? 0) + 5)); // a fragment reaches the file
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    },
  };
});

const { VersionedStore } = await import("../../../local/s3/store.ts");

let dir: string;
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const attributes = () => ({
  contentType: "text/plain",
  headers: {},
  metadata: {},
  tags: [] as [string, string][],
});
const bytes = (text: string) =>
  (async function* () {
    yield new TextEncoder().encode(text);
  })();

it("leaves the journal whole and owes no event when a write fails partway", async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-journal-full-"));
  const store = new VersionedStore(dir, { persistent: true });
  await store.init(["b"]);
  const put = async (key: string) =>
    store.commit("b", key, await store.writeBlob(bytes(key)), attributes(), {
      eventName: "ObjectCreated:Put",
    });
  await put("first");
  failNext = true;
  await expect(put("lost")).rejects.toThrow(/ENOSPC/);
  await put("after");
  expect(store.undelivered().map((e) => e.key)).toEqual(["first", "after"]);
  store.close();

  const again = new VersionedStore(dir, { persistent: true });
  await again.init(["b"]);
  expect(again.undelivered().map((e) => e.key)).toEqual(["first", "after"]);
});
