/** YARA rules in the stack: compiled at preview, handed to the scan function only, which runs on x86_64. */
import { beforeAll, describe, expect, it } from "vitest";
import { TYPES, violations } from "../../policy/rules.js";
import { type Recorded, runProgram } from "./harness.ts";

const RULES = 'rule Lure { strings: $a = "Your invoice is overdue" condition: $a }';
let resources: Recorded[];

const fnOf = (name: string) => {
  const fn = resources.find((r) => r.type === TYPES.fn && r.name === name);
  if (!fn) throw new Error(`no function ${name}`);
  return fn.inputs as { environment: { variables: Record<string, string> }; architectures: string[] };
};
const policyOf = (name: string) => {
  const policy = resources.find((r) => r.type === TYPES.rolePolicy && r.name === name);
  if (!policy) throw new Error(`no policy ${name}`);
  return JSON.parse(String(policy.inputs.policy)).Statement as { Action: string[]; Resource: string[] }[];
};

beforeAll(async () => {
  ({ resources } = await runProgram({
    yaraRules: RULES,
    yaraRulesObject: "s3://security-lists/airlock/rules.yar",
    yaraMaxBytes: 50 * 1024 * 1024,
    yaraTimeoutMs: 20_000,
  }));
}, 60_000);

describe("Config: yaraRules and yaraRulesObject", () => {
  it("hands the rules, the object and the budgets to the scan function only", () => {
    expect(fnOf("airlock-scan").environment.variables).toMatchObject({
      AIRLOCK_YARA_RULES: RULES,
      AIRLOCK_YARA_RULES_OBJECT: "s3://security-lists/airlock/rules.yar",
      AIRLOCK_YARA_MAX_BYTES: String(50 * 1024 * 1024),
      AIRLOCK_YARA_TIMEOUT_MS: "20000",
    });
    expect(
      Object.keys(fnOf("airlock-validate").environment.variables).filter((k) => k.includes("YARA")),
    ).toEqual([]);
  });

  it("runs the scan function on x86_64 (the binding's only Linux build) and the others on arm64", () => {
    expect(fnOf("airlock-scan").architectures).toEqual(["x86_64"]);
    expect(fnOf("airlock-validate").architectures).toEqual(["arm64"]);
  });

  it("lets the scan function read exactly the rules object, and keeps every policy rule", () => {
    const reads = policyOf("airlock-scan-policy").filter((s) =>
      s.Resource.includes("arn:aws:s3:::security-lists/airlock/rules.yar"),
    );
    expect(reads.map((s) => s.Action)).toEqual([["s3:GetObject"]]);
    expect(violations(resources)).toEqual([]);
  });

  it("refuses rules that do not compile, inline rules too large for Lambda, and a malformed object at preview", async () => {
    await expect(runProgram({ yaraRules: "rule broken { condition: $missing }" })).rejects.toThrow(
      /do not compile/,
    );
    await expect(runProgram({ yaraRules: `${RULES}\n//${"x".repeat(4000)}` })).rejects.toThrow(
      /yaraRulesObject/,
    );
    await expect(runProgram({ yaraRulesObject: "https://example.com/rules.yar" })).rejects.toThrow(
      /s3:\/\/bucket\/key/,
    );
  }, 60_000);

  it("leaves the scan function on arm64 without YARA", async () => {
    const { resources: off } = await runProgram({});
    const scan = off.find((r) => r.type === TYPES.fn && r.name === "airlock-scan");
    expect(scan?.inputs.architectures).toEqual(["arm64"]);
  }, 60_000);
});
