/** The SHA-256 blocklist: list parsing, the engine on its own, and beside the built-in engine on one read. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  BlocklistError,
  createBlocklistEngine,
  parseBlocklist,
} from "../../../core/domain/scan/blocklist.ts";
import { createBuiltinEngine } from "../../../core/domain/scan/index.ts";
import type { ObjectVersion } from "../../../core/domain/types.ts";
import type { ObjectStore } from "../../../core/ports/index.ts";
import { scanJudge } from "../../../core/usecases/pipeline/judges.ts";
import { EICAR } from "../../fixtures/malicious.ts";

const sha = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");
const SAMPLE = new TextEncoder().encode("a harmless-looking dropper\n");

async function* chunks(data: Uint8Array, size = 5): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe("Function: parseBlocklist", () => {
  it("reads digests with and without names, commas, newlines and comments", () => {
    const list = parseBlocklist(
      `# known bad\n${sha("a").toUpperCase()} Emotet loader\n${sha("b")}, ${sha("c")} # trailing comment\n\n`,
    );
    expect([...list.entries]).toEqual([
      [sha("a"), "Airlock.Hash.Emotet-loader"],
      [sha("b"), "Airlock.Hash.Blocklisted"],
      [sha("c"), "Airlock.Hash.Blocklisted"],
    ]);
    expect(list.version).toMatch(/^blocklist:[0-9a-f]{12}:3$/);
    expect(parseBlocklist(`${sha("c")}\n${sha("b")}`).version).toBe(
      parseBlocklist(`${sha("b")},${sha("c")}`).version,
    );
  });

  it("refuses an entry that is not a SHA-256 digest, naming it", () => {
    expect(() => parseBlocklist(`${sha("a")}\nd41d8cd98f00b204e9800998ecf8427e`)).toThrow(BlocklistError);
    expect(() => parseBlocklist("not-a-digest")).toThrow(/entry 1 .*"not-a-digest"/);
  });
});

describe("Function: createBlocklistEngine", () => {
  const engine = createBlocklistEngine(parseBlocklist(`${sha(SAMPLE)} Test.Dropper`));

  it("finds a listed object by its digest and passes others, with the list version", async () => {
    expect(await engine.scan(chunks(SAMPLE), { key: "k", size: SAMPLE.length })).toMatchObject({
      status: "infected",
      findings: [{ name: "Airlock.Hash.Test.Dropper", path: "" }],
    });
    const other = new TextEncoder().encode("something else");
    expect(await engine.scan(chunks(other), { key: "k", size: other.length })).toMatchObject({
      status: "clean",
      signatureVersion: expect.stringMatching(/^blocklist:/),
    });
  });

  it("errs when the stream is shorter than the object, since the digest is then not the object's", async () => {
    expect(
      await engine.scan(chunks(SAMPLE.subarray(0, 10)), { key: "k", size: SAMPLE.length }),
    ).toMatchObject({
      status: "error",
      reason: "corrupt",
    });
  });
});

describe("Function: scanJudge with several engines", () => {
  const version: ObjectVersion = { bucket: "b", key: "k", sequencer: "1", size: 0 };
  const store = (data: Uint8Array, gets: { count: number }): ObjectStore =>
    ({
      stream: async () => {
        gets.count++;
        return chunks(data, 3);
      },
    }) as unknown as ObjectStore;
  const limits = { maxDepth: 3, maxEntries: 10, maxExpandedBytes: 1e6, maxRatio: 100 };

  it("runs the built-in engine and the blocklist on one GET and combines their answers", async () => {
    const gets = { count: 0 };
    const judge = scanJudge(store(SAMPLE, gets), [
      createBuiltinEngine(limits),
      createBlocklistEngine(parseBlocklist(sha(SAMPLE))),
    ]);
    const result = await judge({ ...version, size: SAMPLE.length }, {} as never);
    expect(gets.count).toBe(1);
    expect(result).toMatchObject({ status: "infected", reasons: ["Airlock.Hash.Blocklisted"] });
    expect(result?.stage === "scan" && result.engines.map((e) => [e.engine, e.status])).toEqual([
      ["builtin", "clean"],
      ["blocklist", "infected"],
    ]);
  });

  it("keeps reading for the blocklist after the built-in engine stops at a finding", async () => {
    const data = new Uint8Array(Buffer.concat([EICAR, Buffer.alloc(10_000, 0x61)]));
    const judge = scanJudge(store(data, { count: 0 }), [
      createBuiltinEngine(limits),
      createBlocklistEngine(parseBlocklist(sha(data))),
    ]);
    const result = await judge({ ...version, size: data.length }, {} as never);
    expect(result).toMatchObject({ status: "infected" });
    expect(result?.stage === "scan" && result.reasons.sort()).toEqual([
      "Airlock.Eicar",
      "Airlock.Hash.Blocklisted",
    ]);
  });

  it("turns an engine that throws into an error result, so the file is not promoted", async () => {
    const judge = scanJudge(store(SAMPLE, { count: 0 }), [
      createBuiltinEngine(limits),
      {
        name: "broken",
        scan: async () => {
          throw new Error("socket hang up");
        },
      },
    ]);
    expect(await judge({ ...version, size: SAMPLE.length }, {} as never)).toMatchObject({
      status: "error",
      reasons: ["broken: internal: socket hang up"],
    });
  });
});
