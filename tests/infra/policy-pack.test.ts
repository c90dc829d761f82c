/**
 * The CrossGuard pack loaded as `pulumi preview --policy-pack policy` loads it, then asked by AnalyzeStack
 * about realistic runs of the program: autonamed physical names, real ARN formats, ids as the provider gives
 * them, property dependencies as the engine sends them.
 */
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RULES, TYPES } from "../../policy/rules.js";
import { type Recorded, runProgram } from "./harness.ts";
import { type RunningPack, startPolicyPack } from "./policy-host.ts";

let pack: RunningPack;
let dev: Recorded[];
let full: Recorded[];

beforeAll(async () => {
  pack = await startPolicyPack(resolve("policy"));
  ({ resources: dev } = await runProgram());
  ({ resources: full } = await runProgram({
    guardduty: true,
    console: true,
    objectLock: true,
    ocr: "required",
    notificationEmails: ["team@example.com"],
    alertEmails: ["security@example.com"],
    clamav: true,
    scanVpcId: "vpc-0a1b2c3d",
    scanSubnetIds: ["subnet-0aaa", "subnet-0bbb"],
  }));
}, 120_000);
afterAll(() => pack?.stop());

/** Each diagnostic as `<policy>: <violation>` (the pack's message is the description, then the violation). */
const mandatory = (diagnostics: { enforcementLevel: number; policy: string; message: string }[]) =>
  diagnostics.map((d) => `${d.policy}: ${d.message.split("\n").slice(1).join(" ")}`);

describe("Policy pack: loaded as the policy runner loads it", () => {
  it("serves every rule", async () => {
    expect((await pack.policies()).sort()).toEqual(RULES.map((r) => r.name).sort());
  });

  it("passes the dev stack and a stack with every option on", async () => {
    expect(mandatory(await pack.analyzeStack(dev))).toEqual([]);
    expect(mandatory(await pack.analyzeStack(full))).toEqual([]);
  });

  it("links resources by what AWS sees, never by logical name: renaming every resource changes nothing", async () => {
    const renamed = full.map((r) => ({ ...r, name: `renamed-${r.name}` }));
    expect(mandatory(await pack.analyzeStack(renamed))).toEqual([]);
  });

  it("reports what it is for: a queue without an alarm, a wildcard action, an unbounded consumer", async () => {
    const queue = dev.find((r) => r.type === TYPES.queue && r.name === "airlock-scan-dlq");
    const broken = dev
      .filter(
        (r) =>
          !(r.type === TYPES.alarm && (r.propertyDependencies?.dimensions ?? []).includes(queue?.urn ?? "")),
      )
      .map((r) =>
        r.type === TYPES.rolePolicy && r.name === "airlock-scan-policy"
          ? {
              ...r,
              state: {
                ...r.state,
                policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] }),
              },
            }
          : r.type === TYPES.mapping && r.name === "airlock-scan-mapping"
            ? { ...r, state: { ...r.state, scalingConfig: undefined } }
            : r,
      );
    const text = mandatory(await pack.analyzeStack(broken)).join("\n");
    expect(text).toContain("airlock-queues-alarmed: queue airlock-scan-dlq has no alarm");
    expect(text).toContain("airlock-iam-no-wildcards: airlock-scan-policy: wildcard action s3:*");
    expect(text).toContain("airlock-queue-consumers-bounded: event source mapping airlock-scan-mapping");
  });
});

describe("Rule: the policy runner type-checks a TypeScript pack whatever PulumiPolicy.yaml says", () => {
  let dir: string;
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("refuses a TypeScript pack that imports ./rules.ts without a tsconfig (why the pack is JavaScript)", async () => {
    dir = await mkdtemp(join(tmpdir(), "airlock-pack-"));
    await symlink(resolve("node_modules"), join(dir, "node_modules"));
    await writeFile(
      join(dir, "PulumiPolicy.yaml"),
      'runtime:\n  name: nodejs\n  options:\n    typescript: false\n    nodeargs: "--import tsx"\n',
    );
    await writeFile(
      join(dir, "package.json"),
      JSON.stringify({ name: "ts-pack", version: "0.1.0", main: "index.ts" }),
    );
    await writeFile(join(dir, "rules.ts"), "export const RULES: string[] = [];\n");
    await writeFile(
      join(dir, "index.ts"),
      'import { PolicyPack } from "@pulumi/policy";\nimport { RULES } from "./rules.ts";\nnew PolicyPack("ts-pack", { policies: RULES.map(() => ({ name: "x", description: "x", validateStack: () => {} })) });\n',
    );
    await expect(startPolicyPack(dir, 60_000)).rejects.toThrow(/'\.ts' extension|TS5097|TS2691/);
  }, 90_000);
});
