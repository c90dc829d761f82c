/** The verdict cache: the same bytes judged by the same engines and signatures are not scanned again. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ScanEngine } from "../../../core/domain/scan/index.ts";
import type { EngineResult, FileRecord, ObjectVersion, ScanResult } from "../../../core/domain/types.ts";
import type { ScanCache } from "../../../core/ports/index.ts";
import { engineSetOf, scanJudge } from "../../../core/usecases/pipeline/judges.ts";
import { MemoryObjects } from "../../support/memory.ts";

const BYTES = new TextEncoder().encode("the same quarterly report\n");
const SHA = createHash("sha256").update(BYTES).digest("hex");

class MemoryCache implements ScanCache {
  readonly entries = new Map<string, EngineResult[]>();
  async get(sha256: string, engineSet: string) {
    return this.entries.get(`${sha256}|${engineSet}`);
  }
  async put(sha256: string, engineSet: string, results: EngineResult[]) {
    this.entries.set(`${sha256}|${engineSet}`, results);
  }
}

/** An engine that reads everything and counts its scans; its answer and signature version can change. */
function countingEngine(answer: () => EngineResult) {
  const engine = {
    scans: 0,
    name: "counting",
    async scan(source: AsyncIterable<Uint8Array>) {
      engine.scans++;
      for await (const _ of source) {
      }
      return answer();
    },
  } satisfies ScanEngine & { scans: number };
  return engine;
}

const record = { fileId: "f" } as FileRecord;
const version = (key: string): ObjectVersion => ({ bucket: "b", key, sequencer: key, size: BYTES.length });

describe("Function: scanJudge with a verdict cache", () => {
  it("does not read an object again whose S3 checksum was judged by the same engine set", async () => {
    const objects = new MemoryObjects(
      new Map([
        ["a", BYTES],
        ["b", BYTES],
      ]),
      64,
      new Map([
        ["a", SHA],
        ["b", SHA],
      ]),
    );
    const engine = countingEngine(() => ({ engine: "counting", status: "clean", signatureVersion: "v1" }));
    const cache = new MemoryCache();
    const judge = scanJudge(objects, [engine], { cache });
    expect(await judge(version("a"), record)).toMatchObject({ status: "clean" });
    const second = await judge(version("b"), record);
    expect(second).toMatchObject({ status: "clean", cached: true });
    expect(engine.scans).toBe(1);
    // One GET each brings the checksum (no HEAD); the cached one's body is left unread.
    expect(objects.checksummedReads).toBe(2);
    expect(objects.checksumHeads).toBe(0);
    expect(objects.streamed).toBe(BYTES.length);
    expect([...cache.entries.keys()]).toEqual([`${SHA}|counting@v1`]);
  });

  it("scans again when the signatures change, and keeps both verdicts apart", async () => {
    let signatures = "v1";
    const objects = new MemoryObjects(new Map([["a", BYTES]]), 64, new Map([["a", SHA]]));
    const engine = countingEngine(() => ({
      engine: "counting",
      status: "clean",
      signatureVersion: signatures,
    }));
    const cache = new MemoryCache();
    const judge = scanJudge(objects, [engine], { cache });
    await judge(version("a"), record);
    signatures = "v2";
    await judge(version("a"), record); // still v1 in the set: a hit, since v2 has not been seen yet
    expect(engine.scans).toBe(1);
    const fresh = scanJudge(objects, [engine], { cache }); // a new container learns v2 on its first scan
    await fresh(version("a"), record);
    await fresh(version("a"), record);
    expect(engine.scans).toBe(2);
    expect([...cache.entries.keys()].sort()).toEqual([`${SHA}|counting@v1`, `${SHA}|counting@v2`]);
  });

  it("never caches an error, and needs the S3 checksum to use the cache at all", async () => {
    const objects = new MemoryObjects(
      new Map([
        ["a", BYTES],
        ["n", BYTES],
      ]),
      64,
      new Map([["a", SHA]]),
    );
    const failing = countingEngine(() => ({
      engine: "counting",
      status: "error",
      reason: "timeout",
      detail: "slow",
    }));
    const cache = new MemoryCache();
    const judge = scanJudge(objects, [failing], { cache });
    await judge(version("a"), record);
    await judge(version("a"), record);
    expect(failing.scans).toBe(2);
    expect(cache.entries.size).toBe(0);
    const clean = countingEngine(() => ({ engine: "counting", status: "clean", signatureVersion: "v1" }));
    const noChecksum = scanJudge(objects, [clean], { cache });
    await noChecksum(version("n"), record);
    await noChecksum(version("n"), record);
    expect(clean.scans).toBe(2);
  });

  it("fails the scan, and caches nothing, when the bytes read are not S3's checksum's", async () => {
    const objects = new MemoryObjects(new Map([["x", BYTES]]), 64, new Map([["x", "0".repeat(64)]]));
    const engine = countingEngine(() => ({ engine: "counting", status: "clean", signatureVersion: "v1" }));
    const cache = new MemoryCache();
    const result = await scanJudge(objects, [engine], { cache })(version("x"), record);
    expect(result).toMatchObject({ status: "error" });
    expect((result as ScanResult | undefined)?.engines[0]).toMatchObject({
      status: "error",
      detail: expect.stringMatching(/Checksum mismatch/),
    });
    expect(cache.entries.size).toBe(0);
  });

  it("closes the body it opened when the cache cannot be asked (its socket would stay taken)", async () => {
    const objects = new MemoryObjects(new Map([["a", BYTES]]), 64, new Map([["a", SHA]]));
    let destroyed = 0;
    const open = objects.streamWithChecksum.bind(objects);
    objects.streamWithChecksum = async (v, options) => {
      const opened = await open(v, options);
      return { ...opened, body: Object.assign(opened.body, { destroy: () => void destroyed++ }) };
    };
    let busy = false;
    const cache: ScanCache = {
      get: async () => {
        if (busy) throw new Error("ThrottlingException: the cache table is busy");
        return undefined;
      },
      put: async () => undefined,
    };
    const engine = countingEngine(() => ({ engine: "counting", status: "clean", signatureVersion: "v1" }));
    const judge = scanJudge(objects, [engine], { cache });
    await judge(version("a"), record); // the engine set is known from the first scan on
    const read = destroyed;
    busy = true;
    await expect(judge(version("a"), record)).rejects.toThrow(/cache table is busy/);
    expect(destroyed).toBe(read + 1);
    expect(engine.scans).toBe(1);
  });

  it("names engine sets by engine and signature version, in order", () => {
    expect(
      engineSetOf([
        { engine: "builtin", status: "clean", signatureVersion: "b1" },
        { engine: "clamav", status: "infected", findings: [], signatureVersion: "ClamAV 1.4/27462" },
      ]),
    ).toBe("builtin@b1,clamav@ClamAV 1.4/27462");
  });
});
