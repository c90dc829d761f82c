import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CancelledError, planParts, planResume, runPool } from "../../../web/src/parts.ts";

const urls = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ partNumber: i + 1, url: `https://s3/part${i + 1}` }));
const instant = async () => {};

describe("Function: planParts", () => {
  it("covers the file exactly, the last part short", () => {
    const parts = planParts(20, 8, urls(3));
    expect(parts.map((p) => [p.partNumber, p.start, p.end])).toEqual([
      [1, 0, 8],
      [2, 8, 16],
      [3, 16, 20],
    ]);
  });

  it("orders parts by number whatever order the plan lists them in", () => {
    const parts = planParts(16, 8, [...urls(2)].reverse());
    expect(parts.map((p) => p.url)).toEqual(["https://s3/part1", "https://s3/part2"]);
  });

  it("refuses a plan with too few or too many parts, or a gap", () => {
    expect(() => planParts(20, 8, urls(2))).toThrow("3 are needed");
    expect(() => planParts(20, 8, urls(4))).toThrow("4 parts");
    expect(() =>
      planParts(
        16,
        8,
        [urls(3)[0], urls(3)[2]].filter((p) => p !== undefined),
      ),
    ).toThrow("skips part 2");
    expect(() => planParts(16, 0, urls(1))).toThrow("Invalid part size");
  });

  it("refuses a plan whose signed part lengths are not the bytes it would send", () => {
    const sized = urls(3).map((p, i) => ({ ...p, size: i < 2 ? 8 : 4 }));
    expect(planParts(20, 8, sized).map((p) => p.end - p.start)).toEqual([8, 8, 4]);
    expect(() => planParts(21, 8, sized)).toThrow("part 3 is signed for 4 bytes, not 5");
  });

  it("is contiguous and complete for any size", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 1, max: 3_000_000 }),
        (size, partSize) => {
          const count = Math.ceil(size / partSize);
          fc.pre(count <= 200);
          const parts = planParts(size, partSize, urls(count));
          expect(parts[0]?.start).toBe(0);
          expect(parts.at(-1)?.end).toBe(size);
          for (let i = 1; i < parts.length; i++) expect(parts[i]?.start).toBe(parts[i - 1]?.end);
        },
      ),
    );
  });
});

describe("Function: runPool", () => {
  it("never runs more than the concurrency at once and keeps results in order", async () => {
    let running = 0;
    let peak = 0;
    const results = await runPool(
      [1, 2, 3, 4, 5, 6, 7],
      async (n) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5 * (8 - n)));
        running--;
        return n * 10;
      },
      { concurrency: 3, attempts: 1, retryDelayMs: () => 0 },
    );
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
  });

  it("retries a failed part with growing pauses and succeeds", async () => {
    const tries = new Map<number, number>();
    const pauses: number[] = [];
    const retries: [number, number][] = [];
    const results = await runPool(
      ["a", "b", "c"],
      async (item, index) => {
        tries.set(index, (tries.get(index) ?? 0) + 1);
        if (item === "b" && (tries.get(index) ?? 0) < 3) throw new Error("connection reset");
        return item.toUpperCase();
      },
      {
        concurrency: 2,
        attempts: 4,
        retryDelayMs: (retry) => 100 * 2 ** (retry - 1),
        sleep: async (ms) => {
          pauses.push(ms);
        },
        onRetry: (index, retry) => retries.push([index, retry]),
      },
    );
    expect(results).toEqual(["A", "B", "C"]);
    expect(tries.get(1)).toBe(3);
    expect(pauses).toEqual([100, 200]);
    expect(retries).toEqual([
      [1, 1],
      [1, 2],
    ]);
  });

  it("gives up with the error once a part has used all its tries", async () => {
    let calls = 0;
    await expect(
      runPool(
        [1, 2],
        async (n) => {
          calls++;
          if (n === 2) throw new Error("403 Forbidden");
          return n;
        },
        { concurrency: 1, attempts: 3, retryDelayMs: () => 0, sleep: instant },
      ),
    ).rejects.toThrow("403 Forbidden");
    expect(calls).toBe(4);
  });

  it("stops with CancelledError when cancelled, starting no further parts", async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const pool = runPool(
      [1, 2, 3, 4, 5],
      (n, _i, signal) =>
        new Promise<number>((resolve, reject) => {
          started.push(n);
          if (n === 2) controller.abort();
          signal?.addEventListener("abort", () => reject(new CancelledError()));
          setTimeout(() => resolve(n), 50);
        }),
      { concurrency: 2, attempts: 3, retryDelayMs: () => 0, signal: controller.signal },
    );
    await expect(pool).rejects.toBeInstanceOf(CancelledError);
    expect(started).toEqual([1, 2]);
  });
});

describe("Function: planResume", () => {
  const MiB = 1024 * 1024;
  const size = 20 * MiB;
  const url = (partNumber: number, bytes: number) => ({
    partNumber,
    size: bytes,
    url: `https://s3/p${partNumber}`,
  });

  it("sends only the missing parts, with their byte ranges, and keeps the stored ones", () => {
    const { send, done } = planResume(
      size,
      8 * MiB,
      [url(3, 4 * MiB), url(2, 8 * MiB)],
      [{ partNumber: 1, size: 8 * MiB, etag: '"e1"' }],
    );
    expect(send.map((p) => [p.partNumber, p.start, p.end, p.url])).toEqual([
      [2, 8 * MiB, 16 * MiB, "https://s3/p2"],
      [3, 16 * MiB, 20 * MiB, "https://s3/p3"],
    ]);
    expect(done).toEqual([{ partNumber: 1, size: 8 * MiB, etag: '"e1"' }]);
  });

  it("has nothing to send when every part is stored", () => {
    const stored = [1, 2, 3].map((n) => ({
      partNumber: n,
      size: n < 3 ? 8 * MiB : 4 * MiB,
      etag: `"e${n}"`,
    }));
    expect(planResume(size, 8 * MiB, [], stored).send).toEqual([]);
  });

  it("refuses a plan that does not cover the file, lists a part twice, or has a stored part of another length", () => {
    expect(() => planResume(size, 8 * MiB, [url(3, 4 * MiB)], [])).toThrow("3 are needed");
    expect(() =>
      planResume(
        size,
        8 * MiB,
        [url(1, 8 * MiB), url(2, 8 * MiB), url(3, 4 * MiB)],
        [{ partNumber: 1, size: 8 * MiB, etag: '"e1"' }],
      ),
    ).toThrow();
    expect(() =>
      planResume(
        size,
        8 * MiB,
        [url(2, 8 * MiB), url(3, 4 * MiB)],
        [{ partNumber: 1, size: 5, etag: '"e1"' }],
      ),
    ).toThrow("part 1 is signed for 5 bytes");
  });
});
