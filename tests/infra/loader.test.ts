/**
 * The program loaded exactly as `pulumi up` loads it: Pulumi.yaml's `main` and `runtime.options` (nodeargs,
 * typescript) through Pulumi's own Node entry (`@pulumi/pulumi/cmd/run`), against a resource monitor that
 * answers as AWS would, with the committed dev stack config. Then the same checks as the in-process runs.
 */
import { mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { violations } from "../../policy/rules.js";
import { devConfig } from "./harness.ts";
import { type HostRun, runAsPulumiDoes } from "./pulumi-host.ts";

const ROOT = resolve(".");
let run: HostRun;

beforeAll(async () => {
  run = await runAsPulumiDoes({ root: ROOT, stack: "dev", config: devConfig() });
}, 180_000);

describe("Program: loaded by Pulumi's Node host", () => {
  it("starts the way the language host starts it: nodeargs, the run module, main's directory and base name", () => {
    expect(run.argv).toContain("--import");
    expect(run.argv).toContain("tsx");
    expect(run.argv.some((a) => a.endsWith("@pulumi/pulumi/cmd/run/index.js"))).toBe(true);
    expect(run.argv.slice(-1)).toEqual(["index.ts"]);
    expect(run.argv[run.argv.indexOf("--pwd") + 1]).toBe(join(ROOT, "infra"));
  });

  it("runs to the end with the dev config: exit 0, no error logged", () => {
    const errors = run.logs.filter((l) => l.severity >= 4).map((l) => l.message);
    expect({ exitCode: run.exitCode, errors, stderr: run.stderr.slice(-2000) }).toEqual({
      exitCode: 0,
      errors: [],
      stderr: "",
    });
  });

  it("registers the whole stack and exports its outputs", () => {
    const components = new Set(run.resources.filter((r) => r.type.startsWith("airlock:")).map((r) => r.type));
    expect([...components].sort()).toEqual([
      "airlock:api:Api",
      "airlock:drops:Drops",
      "airlock:notifications:Notifications",
      "airlock:observability:Observability",
      "airlock:ocr:Ocr",
      "airlock:pipeline:Pipeline",
      "airlock:storage:BucketAccess",
      "airlock:storage:Storage",
    ]);
    expect(run.outputs).toMatchObject({
      apiUrl: expect.stringMatching(/^https:\/\/[a-z0-9]{10}\.execute-api\.us-east-1\.amazonaws\.com\/$/),
      ingestBucket: expect.stringMatching(/^airlock-ingest-[0-9a-f]{7}$/),
      cleanBucket: expect.stringMatching(/^airlock-clean-[0-9a-f]{7}$/),
      notificationsTopicArn: expect.stringMatching(/^arn:aws:sns:us-east-1:123456789012:airlock-verdicts-/),
      dropPolicyArns: {
        billing: expect.stringMatching(/^arn:aws:iam::123456789012:policy\//),
        erp: expect.stringMatching(/^arn:aws:iam::123456789012:policy\//),
      },
    });
  });

  it("keeps the drop policies' URNs under the stack: they moved into Drops with the stack as their old parent", () => {
    const drops = run.resources.filter((r) => r.type === "aws:iam/policy:Policy");
    expect(drops.map((r) => r.name).sort()).toEqual(["airlock-drop-billing", "airlock-drop-erp"]);
    for (const policy of drops) {
      expect(policy.urn).toBe(
        `urn:pulumi:dev::airlock::airlock:drops:Drops$aws:iam/policy:Policy::${policy.name}`,
      );
      expect(policy.aliases).toEqual([`urn:pulumi:dev::airlock::aws:iam/policy:Policy::${policy.name}`]);
    }
  });

  it("uploads real bundles: each function's code is its built directory, holding the bundle only", async () => {
    const functions = run.resources.filter((r) => r.type === "aws:lambda/function:Function");
    expect(functions.length).toBeGreaterThanOrEqual(7);
    for (const fn of functions) {
      const path = await (fn.inputs.code as { path: Promise<string> }).path;
      expect(path).toMatch(/dist\/handlers\/[A-Za-z]+$/);
      // The scan function also carries the YARA-X native binding (loaded only when rules are configured).
      const expected = path.endsWith("/scan") ? ["index.mjs", "node_modules"] : ["index.mjs"];
      expect((await readdir(path)).sort()).toEqual(expected);
    }
  });

  it("breaks none of Airlock's policies", () => {
    expect(violations(run.resources)).toEqual([]);
  });
});

describe("Rule: an ES module entry has a default export or named exports, not both", () => {
  let dir: string;
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("is what the host enforces: a module with both fails to load", async () => {
    dir = await mkdtemp(join(tmpdir(), "airlock-loader-"));
    await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "both", type: "module" }));
    await writeFile(
      join(dir, "Pulumi.yaml"),
      'name: both\nmain: index.ts\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n    nodeargs: "--import tsx"\n',
    );
    await writeFile(
      join(dir, "index.ts"),
      "export async function program() { return {}; }\nexport default program;\n",
    );
    const both = await runAsPulumiDoes({ root: dir, stack: "dev", config: {}, timeoutMs: 60_000 });
    expect(both.exitCode).not.toBe(0);
    expect(`${both.stderr}${both.logs.map((l) => l.message).join("\n")}`).toContain(
      "expected entrypoint module to have either a default export or named exports but not both",
    );
  }, 90_000);

  it("holds for infra/index.ts: a default export and nothing else", async () => {
    expect(Object.keys(await import("../../infra/index.ts"))).toEqual(["default"]);
  });
});
