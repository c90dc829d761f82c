/** Memory per function: `lambdaMemoryMb` for all, `functionMemoryMb` over it for the functions it names. */
import { describe, expect, it } from "vitest";
import { TYPES } from "../../policy/rules.js";
import { type Recorded, runProgram } from "./harness.ts";

const memoryOf = (resources: Recorded[]) =>
  Object.fromEntries(
    resources
      .filter((r) => r.type === TYPES.fn)
      .map((r) => [r.name, (r.inputs as { memorySize: number }).memorySize]),
  );

describe("Config: functionMemoryMb", () => {
  it("sizes the named functions and leaves the others at lambdaMemoryMb", async () => {
    const { resources } = await runProgram({
      lambdaMemoryMb: 2048,
      functionMemoryMb: ["validate=256", "scan=256", " metadata=384 "],
    });
    const memory = memoryOf(resources);
    expect(memory).toMatchObject({
      "airlock-validate": 256,
      "airlock-scan": 256,
      "airlock-metadata": 384,
      "airlock-dead-letter": 2048,
      "airlock-sweeper": 2048,
    });
    expect(Object.values(memory).filter((mb) => mb === 2048).length).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it("gives every function 1,024 MB when neither is set", async () => {
    const { resources } = await runProgram({});
    expect(new Set(Object.values(memoryOf(resources)))).toEqual(new Set([1024]));
  }, 60_000);

  it.each([
    [["validate:256"], /"validate:256" is not <function>=<MB>/],
    [["thumbnail=256"], /"thumbnail=256" is not <function>=<MB> with a function of validate, scan/],
    [["constructor=256"], /"constructor=256" is not <function>=<MB>/],
    [["scan=64"], /functionMemoryMb scan: Lambda takes 128 to 10240 MB in whole MB, not 64/],
    [["scan=20000"], /not 20000/],
    [["scan=256", "scan=512"], /scan is named twice/],
    [[256], /256 is not <function>=<MB>/],
  ])("refuses %j at preview, naming the entry", async (entries, message) => {
    await expect(runProgram({ functionMemoryMb: entries })).rejects.toThrow(message);
  });

  it("refuses a lambdaMemoryMb outside Lambda's range", async () => {
    await expect(runProgram({ lambdaMemoryMb: 100 })).rejects.toThrow(/lambdaMemoryMb: Lambda takes 128/);
  });
});
