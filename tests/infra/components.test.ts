/**
 * Components built complete: each ComponentResource creates all its children in its constructor and registers
 * its outputs last (a child added afterwards — by a method another component calls — makes the program a wiring
 * script, and the component's outputs describe it before it is whole). And the resources that moved into the
 * components that break the two cycles keep their URNs through aliases, so that an update does not replace them.
 */
import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Recorded, recordingMocks, runProgram } from "./harness.ts";

/** Every optional component on: the console, GuardDuty, the stack's own ClamAV service, drops, alarms. */
const FULL = {
  guardduty: true,
  console: true,
  clamav: true,
  scanVpcId: "vpc-0a1b2c3d",
  scanSubnetIds: ["subnet-0aaa", "subnet-0bbb"],
  notificationEmails: ["team@example.com"],
  alertEmails: ["security@example.com"],
  alarmEmail: "oncall@example.com",
};

interface Internal {
  /** The SDK's record of a resource's children (every resource constructed with `parent: this`). */
  __childResources?: Set<pulumi.Resource>;
}

/**
 * Watches every component's `registerOutputs` (the explicit call, or the SDK's own once the constructor has
 * returned) and reports the children each component gained after it.
 */
function watchComponents() {
  // registerOutputs is protected: reached here through the prototype, as the SDK itself calls it.
  const proto = pulumi.ComponentResource.prototype as unknown as {
    registerOutputs(this: pulumi.ComponentResource, outputs?: pulumi.Inputs): void;
  };
  const original = proto.registerOutputs;
  const sealed = new Map<pulumi.ComponentResource, Set<pulumi.Resource>>();
  proto.registerOutputs = function (this: pulumi.ComponentResource, outputs) {
    if (!sealed.has(this)) sealed.set(this, new Set((this as unknown as Internal).__childResources ?? []));
    return original.call(this, outputs);
  };
  const urn = (r: pulumi.Resource) => new Promise<string>((ok) => r.urn.apply(ok));
  return {
    restore: () => {
      proto.registerOutputs = original;
    },
    /** The components that registered their outputs, by URN. */
    components: () => Promise.all([...sealed.keys()].map(urn)),
    /** `<component URN> <- <child URN>` for each child created after its parent registered its outputs. */
    late: async () => {
      const found: string[] = [];
      for (const [component, before] of sealed) {
        const children = (component as unknown as Internal).__childResources ?? new Set();
        for (const child of children)
          if (!before.has(child)) found.push(`${await urn(component)} <- ${await urn(child)}`);
      }
      return found;
    },
  };
}

let watch: ReturnType<typeof watchComponents> | undefined;
afterEach(() => {
  watch?.restore();
  watch = undefined;
});

describe("Rule: a component creates its children before it registers its outputs", () => {
  it("is seen when broken: a child added by a method after the constructor is reported", async () => {
    await recordingMocks([]);
    watch = watchComponents();
    class Unfinished extends pulumi.ComponentResource {
      constructor(name: string) {
        super("test:rule:Unfinished", name, {}, {});
        new pulumi.ComponentResource("test:rule:Early", `${name}-early`, {}, { parent: this });
        this.registerOutputs({});
      }
      addLate() {
        new pulumi.ComponentResource("test:rule:Late", "unfinished-late", {}, { parent: this });
      }
    }
    const unfinished = new Unfinished("unfinished");
    unfinished.addLate();
    expect(await watch.late()).toEqual([
      "urn:pulumi:dev::airlock::test:rule:Unfinished::unfinished <- " +
        "urn:pulumi:dev::airlock::test:rule:Unfinished$test:rule:Late::unfinished-late",
    ]);
  });

  it("is seen when a component never registers outputs and gains a child after its constructor", async () => {
    await recordingMocks([]);
    watch = watchComponents();
    const silent = new pulumi.ComponentResource("test:rule:Silent", "silent", {}, {});
    // The SDK registers a component's outputs itself once its constructor has returned.
    await new Promise((r) => setTimeout(r, 0));
    new pulumi.ComponentResource("test:rule:Late", "silent-late", {}, { parent: silent });
    expect(await watch.late()).toHaveLength(1);
  });

  for (const [label, overrides] of [
    ["the dev stack", {}],
    ["every optional component on", FULL],
  ] as const) {
    it(`holds for every Airlock component: ${label}`, async () => {
      watch = watchComponents();
      const { resources } = await runProgram(overrides);
      const components = resources.filter((r) => r.type.startsWith("airlock:")).map((r) => r.urn);
      expect((await watch.components()).filter((u) => u.includes("::airlock:")).sort()).toEqual(
        components.sort(),
      );
      expect(await watch.late()).toEqual([]);
    }, 60_000);
  }
});

describe("Program: the components that break the cycles", () => {
  let resources: Recorded[];
  beforeAll(async () => {
    ({ resources } = await runProgram(FULL));
  }, 60_000);
  const named = (type: string, name: string) => {
    const found = resources.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`no ${type} named ${name}`);
    return found;
  };
  const parentType = (r: Recorded) => r.parent?.split("::")[2];

  it("builds the bucket policies and CORS after the roles and the console they name (BucketAccess)", () => {
    for (const [type, name] of [
      ["aws:s3/bucketPolicy:BucketPolicy", "airlock-ingest-policy"],
      ["aws:s3/bucketPolicy:BucketPolicy", "airlock-clean-policy"],
      ["aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", "airlock-ingest-cors"],
    ] as const)
      expect(parentType(named(type, name))).toBe("airlock:storage:BucketAccess");
  });

  it("writes the console's config.json after the API it names (ConsoleConfig)", () => {
    const config = named("aws:s3/bucketObjectv2:BucketObjectv2", "airlock-console-config");
    expect(parentType(config)).toBe("airlock:console:ConsoleConfig");
    expect(JSON.parse(String(config.inputs.content)).apiUrl).toMatch(/execute-api/);
  });

  it("alarms on clamd's health in Observability, and keeps the drop policies in Drops", () => {
    expect(parentType(named("aws:cloudwatch/metricAlarm:MetricAlarm", "airlock-clamav-unhealthy"))).toBe(
      "airlock:observability:Observability",
    );
    for (const system of ["billing", "erp"])
      expect(parentType(named("aws:iam/policy:Policy", `airlock-drop-${system}`))).toBe(
        "airlock:drops:Drops",
      );
  });

  it("keeps every moved resource's URN: each names the URN it had as an alias", () => {
    const before = (qualifiedType: string, name: string) =>
      `urn:pulumi:dev::airlock::${qualifiedType}::${name}`;
    const moved: [string, string, string][] = [
      ["aws:s3/bucketPolicy:BucketPolicy", "airlock-ingest-policy", "airlock:storage:Storage$"],
      ["aws:s3/bucketPolicy:BucketPolicy", "airlock-clean-policy", "airlock:storage:Storage$"],
      [
        "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
        "airlock-ingest-cors",
        "airlock:storage:Storage$",
      ],
      ["aws:s3/bucketObjectv2:BucketObjectv2", "airlock-console-config", "airlock:console:Console$"],
      ["aws:cloudwatch/metricAlarm:MetricAlarm", "airlock-clamav-unhealthy", "airlock:clamav:Clamav$"],
      // Created by the program itself before, under the stack: no parent type in the URN.
      ["aws:iam/policy:Policy", "airlock-drop-billing", ""],
      ["aws:iam/policy:Policy", "airlock-drop-erp", ""],
    ];
    for (const [type, name, oldParent] of moved)
      expect(named(type, name).aliases, name).toContain(before(`${oldParent}${type}`, name));
    // No alias names a resource that exists: each stands for a URN gone from the stack.
    const urns = new Set(resources.map((r) => r.urn));
    expect(resources.flatMap((r) => r.aliases).filter((u) => urns.has(u))).toEqual([]);
    // And nothing else moved: other aliases are the provider's own renames of a type (same parent, same name).
    const place = (urn: string) => {
      const [, , qualified = "", name] = urn.split("::");
      return `${qualified.slice(0, qualified.lastIndexOf("$") + 1)}::${name}`;
    };
    const movers = resources.filter((r) => r.aliases.some((alias) => place(alias) !== place(r.urn)));
    expect(movers.map((r) => r.name).sort()).toEqual(moved.map(([, name]) => name).sort());
  });
});
