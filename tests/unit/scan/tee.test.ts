/** One read shared by several engines: same bytes for all, bounded memory, no engine can stall the others. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type TeeBranch, tee } from "../../../core/domain/scan/tee.ts";

const CHUNK = 1024;

/** A source that counts what was pulled and whether it was released. */
function counted(chunks: number) {
  const state = { pulled: 0, released: false };
  async function* source(): AsyncGenerator<Uint8Array> {
    try {
      for (let i = 0; i < chunks; i++) {
        state.pulled++;
        yield new Uint8Array(CHUNK).fill(i % 251);
      }
    } finally {
      state.released = true;
    }
  }
  return { state, source: source() };
}

async function digest(stream: AsyncIterable<Uint8Array>, delayEvery = 0): Promise<string> {
  const hash = createHash("sha256");
  let n = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    if (delayEvery && ++n % delayEvery === 0) await new Promise((r) => setTimeout(r, 1));
  }
  return hash.digest("hex");
}

describe("Function: tee", () => {
  it("gives every branch the same bytes, in order, from one read", async () => {
    const { state, source } = counted(200);
    const { branches } = tee(source, 3);
    const digests = await Promise.all(branches.map((b, i) => digest(b.stream, i === 1 ? 7 : 0)));
    expect(new Set(digests).size).toBe(1);
    expect(state.pulled).toBe(200);
    const whole = createHash("sha256");
    for (let i = 0; i < 200; i++) whole.update(new Uint8Array(CHUNK).fill(i % 251));
    expect(digests[0]).toBe(whole.digest("hex"));
  });

  it("holds at most its window of chunks while a slow branch paces the read", async () => {
    const { source } = counted(300);
    const shared = tee(source, 2, 4);
    const [first, second] = shared.branches as [TeeBranch, TeeBranch];
    let peak = 0;
    const fast = (async () => {
      for await (const _ of first.stream) peak = Math.max(peak, shared.heldChunks());
    })();
    const slow = digest(second.stream, 3);
    await Promise.all([fast, slow]);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(5);
  });

  it("lets the others finish when one branch stops early or never starts", async () => {
    const { state, source } = counted(100);
    const { branches } = tee(source, 3);
    const [early, idle, full] = branches as [TeeBranch, TeeBranch, TeeBranch];
    const stopper = (async () => {
      for await (const _ of early.stream) break; // a finding in the first chunk
    })();
    idle.detach(); // an engine that refused the object before reading
    const result = await digest(full.stream);
    await stopper;
    expect(result).toMatch(/^[0-9a-f]{64}$/);
    expect(state.pulled).toBe(100);
  });

  it("releases the source when every branch has stopped", async () => {
    const { state, source } = counted(1000);
    const { branches } = tee(source, 2);
    await Promise.all(
      branches.map(async (b) => {
        for await (const _ of b.stream) break;
      }),
    );
    expect(state.released).toBe(true);
    expect(state.pulled).toBeLessThan(10);
  });

  it("hands a source failure to every branch still reading", async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(4);
      throw new Error("connection reset");
    }
    const { branches } = tee(failing(), 2);
    const outcomes = await Promise.allSettled(branches.map((b) => digest(b.stream)));
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
  });
});
