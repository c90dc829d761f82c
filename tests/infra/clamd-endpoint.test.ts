/** An existing clamd: the scan function gets its endpoint and the VPC settings, and no service is created. */
import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../infra/config.ts";
import { TYPES, violations } from "../../policy/rules.js";
import { type Recorded, runProgram } from "./harness.ts";

let resources: Recorded[];

beforeAll(async () => {
  ({ resources } = await runProgram({
    clamdEndpoint: "tcp://clamd.internal:3310",
    scanSubnetIds: ["subnet-x"],
    scanSecurityGroupIds: ["sg-clamd-clients"],
    clamdTimeoutMs: 30000,
  }));
}, 60_000);

describe("Config: clamdEndpoint", () => {
  it("points the scan function at the existing clamd, in the given subnets and group", () => {
    const scan = resources.find((r) => r.type === TYPES.fn && r.name === "airlock-scan");
    if (!scan) throw new Error("no scan function");
    expect(scan.inputs.vpcConfig).toEqual({
      subnetIds: ["subnet-x"],
      securityGroupIds: ["sg-clamd-clients"],
    });
    expect((scan.inputs.environment as { variables: Record<string, string> }).variables).toMatchObject({
      AIRLOCK_CLAMD_ENDPOINT: "tcp://clamd.internal:3310",
      AIRLOCK_CLAMD_STREAM_MAX_BYTES: "104857600",
      AIRLOCK_CLAMD_TIMEOUT_MS: "30000",
    });
    expect(
      resources.filter((r) => r.type.startsWith("aws:ecs/") || r.type === "airlock:clamav:Clamav"),
    ).toEqual([]);
    expect(violations(resources)).toEqual([]);
  });
});

describe("Function: loadConfig (ClamAV keys)", () => {
  const configOf = (values: Record<string, unknown>) =>
    ({
      get: (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined),
      getNumber: (k: string) => (typeof values[k] === "number" ? (values[k] as number) : undefined),
      getBoolean: (k: string) => (typeof values[k] === "boolean" ? (values[k] as boolean) : undefined),
      getObject: (k: string) => values[k],
    }) as unknown as pulumi.Config;

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["both a service and an endpoint", { clamav: true, clamdEndpoint: "tcp://c:3310" }, /choose one/],
    ["the service without a VPC", { clamav: true }, /scanVpcId and scanSubnetIds/],
    ["clamav listed but not configured", { scanEngines: ["builtin", "clamav"] }, /set clamdEndpoint/],
    ["an endpoint that is not tcp://", { clamdEndpoint: "clamd:3310" }, /tcp:\/\/host:port/],
    [
      "subnets without a security group",
      { clamdEndpoint: "tcp://c:3310", scanSubnetIds: ["s"] },
      /scanSecurityGroupIds/,
    ],
    [
      "a timeout longer than the function's",
      { clamdEndpoint: "tcp://c:3310", clamdTimeoutMs: 200000 },
      /shorter/,
    ],
    ["an unknown engine", { scanEngines: ["builtin", "sophos"] }, /sophos/],
  ])("rejects %s", (_label, values, message) => {
    expect(() => loadConfig(configOf(values))).toThrow(message);
  });

  it("turns the clamav engine on with an endpoint", () => {
    expect(loadConfig(configOf({ clamdEndpoint: "tcp://c:3310" })).scanEngines).toEqual([
      "builtin",
      "clamav",
    ]);
    expect(loadConfig(configOf({})).scanEngines).toEqual(["builtin"]);
  });
});
