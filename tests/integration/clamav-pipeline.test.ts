/**
 * The local stack with a real clamd next to the built-in engine: a file only ClamAV's signatures know is held
 * INFECTED under its ClamAV name, a clean file is VERIFIED by both engines, and clamd's limits and absence
 * never promote.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineResult, FileRecord } from "../../core/domain/types.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { EICAR } from "../fixtures/malicious.ts";
import { hdbSample, reported, SIGNATURES, startClamd, type TestClamd } from "../support/clamd.ts";
import { clientsFor } from "../support/local.ts";

const STREAM_MAX = 1024 * 1024;

let clamd: TestClamd;
let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;

beforeAll(async () => {
  clamd = await startClamd({ streamMaxLength: STREAM_MAX });
  stack = await startLocalStack({
    sweepIntervalMs: 3_600_000,
    clamd: { endpoint: clamd.tcp, streamMaxBytes: STREAM_MAX, timeoutMs: 20_000 },
  });
  io = clientsFor(stack);
});
afterAll(async () => {
  await stack?.stop();
  await clamd?.stop();
});

const engine = (record: FileRecord, name: string): EngineResult | undefined =>
  record.stages.scan?.engines.find((e) => e.engine === name);

describe("Local stack with clamd", () => {
  it("verifies a clean file when both engines say clean", async () => {
    const record = await io.waitFinal(await io.drop("drops/clam/notes.txt", "meeting notes\n", "text/plain"));
    expect(record.status, record.reasons.join("; ")).toBe("VERIFIED");
    expect(engine(record, "builtin")?.status).toBe("clean");
    expect(engine(record, "clamav")).toMatchObject({
      status: "clean",
      signatureVersion: expect.stringMatching(/^ClamAV /),
    });
  });

  it("holds a file only ClamAV's .hdb knows as INFECTED under its ClamAV name", async () => {
    const record = await io.waitFinal(await io.drop("drops/clam/ledger.txt", hdbSample(), "text/plain"));
    expect(record.status).toBe("INFECTED");
    expect(engine(record, "builtin")?.status).toBe("clean");
    expect(record.reasons).toEqual([`ClamAV.${reported(SIGNATURES.sample)}`]);
    expect(record.cleanKey).toBeUndefined();
  });

  it("names both engines' findings for EICAR", async () => {
    const record = await io.waitFinal(await io.drop("drops/clam/eicar.txt", EICAR, "text/plain"));
    expect(record.status).toBe("INFECTED");
    expect(record.reasons.sort()).toEqual(["Airlock.Eicar", `ClamAV.${reported(SIGNATURES.eicar)}`].sort());
  });

  it("rejects a file larger than clamd's StreamMaxLength instead of passing it unscanned", async () => {
    const big = Buffer.alloc(STREAM_MAX + 4096, "plain text line\n");
    const record = await io.waitFinal(await io.drop("drops/clam/big.txt", big, "text/plain"));
    expect(record.status).toBe("REJECTED");
    expect(engine(record, "clamav")).toMatchObject({ status: "error", reason: "limit-exceeded" });
  });

  it("fails a file when clamd is down", async () => {
    await clamd.stop();
    const record = await io.waitFinal(
      await io.drop("drops/clam/after-stop.txt", "hello\n", "text/plain"),
      30_000,
    );
    expect(record.status).toBe("FAILED");
    expect(engine(record, "clamav")).toMatchObject({ status: "error", reason: "engine-unavailable" });
    expect(record.cleanKey).toBeUndefined();
  });
});
