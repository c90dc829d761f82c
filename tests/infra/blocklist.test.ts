/** The SHA-256 blocklist in the stack: the scan function alone gets the list and may read exactly its object. */
import { beforeAll, describe, expect, it } from "vitest";
import { TYPES, violations } from "../../policy/rules.js";
import { type Recorded, runProgram } from "./harness.ts";

const DIGEST = "a".repeat(64);
let resources: Recorded[];

const variablesOf = (name: string) => {
  const fn = resources.find((r) => r.type === TYPES.fn && r.name === name);
  if (!fn) throw new Error(`no function ${name}`);
  return (fn.inputs.environment as { variables: Record<string, string> }).variables;
};
const policyOf = (name: string) => {
  const policy = resources.find((r) => r.type === TYPES.rolePolicy && r.name === name);
  if (!policy) throw new Error(`no policy ${name}`);
  return JSON.parse(String(policy.inputs.policy)).Statement as { Action: string[]; Resource: string[] }[];
};

beforeAll(async () => {
  ({ resources } = await runProgram({
    scanBlocklist: [`${DIGEST} Known.Leak`],
    scanBlocklistObject: "s3://security-lists/airlock/blocklist.txt",
  }));
}, 60_000);

describe("Config: scanBlocklist and scanBlocklistObject", () => {
  it("hands the list and the object to the scan function only", () => {
    expect(variablesOf("airlock-scan")).toMatchObject({
      AIRLOCK_SCAN_BLOCKLIST: `${DIGEST} Known.Leak`,
      AIRLOCK_SCAN_BLOCKLIST_OBJECT: "s3://security-lists/airlock/blocklist.txt",
    });
    expect(Object.keys(variablesOf("airlock-validate")).filter((k) => k.includes("BLOCKLIST"))).toEqual([]);
  });

  it("lets the scan function read exactly the blocklist object, and keeps every policy rule", () => {
    const reads = policyOf("airlock-scan-policy").filter((s) =>
      s.Resource.includes("arn:aws:s3:::security-lists/airlock/blocklist.txt"),
    );
    expect(reads.map((s) => s.Action)).toEqual([["s3:GetObject"]]);
    expect(JSON.stringify(policyOf("airlock-metadata-policy"))).not.toContain("security-lists");
    expect(violations(resources)).toEqual([]);
  });

  it("refuses a malformed digest or object address at preview time", async () => {
    await expect(runProgram({ scanBlocklist: ["d41d8cd98f00b204e9800998ecf8427e"] })).rejects.toThrow(
      /not a SHA-256 hex digest/,
    );
    await expect(runProgram({ scanBlocklistObject: "https://example.com/list" })).rejects.toThrow(
      /s3:\/\/bucket\/key/,
    );
  }, 60_000);
});

describe("Config: rescanFailedAfterMinutes", () => {
  it("gives the sweeper the schedule only when asked for", async () => {
    const sweeperOf = (recorded: Recorded[]) => {
      const fn = recorded.find((r) => r.type === TYPES.fn && r.name === "airlock-sweeper");
      if (!fn) throw new Error("no sweeper function");
      return (fn.inputs.environment as { variables: Record<string, string> }).variables;
    };
    expect(Object.keys(sweeperOf(resources)).filter((k) => k.startsWith("AIRLOCK_RESCAN_"))).toEqual([]);
    const { resources: on } = await runProgram({ rescanFailedAfterMinutes: 30, rescanMaxAttempts: 2 });
    expect(sweeperOf(on)).toMatchObject({
      AIRLOCK_RESCAN_FAILED_AFTER_SECONDS: "1800",
      AIRLOCK_RESCAN_MAX_ATTEMPTS: "2",
    });
    expect(violations(on)).toEqual([]);
  }, 60_000);
});
