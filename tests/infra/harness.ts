/**
 * Runs the Pulumi program in-process under mocks with the committed dev stack config, and records every
 * resource it registers with its resolved inputs.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import type { StackResource } from "../../policy/rules.ts";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

export interface Recorded extends StackResource {
  state: Record<string, unknown>;
  parent?: string;
}

function service(type: string): string {
  return type.split(":")[1]?.split("/")[0] ?? "unknown";
}

export async function runProgram(overrides: Record<string, unknown> = {}): Promise<{
  resources: Recorded[];
  outputs: Record<string, unknown>;
}> {
  const stackConfig = (
    parse(readFileSync(resolve("Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> }
  ).config;
  const config = {
    ...stackConfig,
    ...Object.fromEntries(Object.entries(overrides).map(([k, v]) => [`airlock:${k}`, v])),
  };
  const resources: Recorded[] = [];
  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    ),
  );
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const name: string = args.inputs.name ?? args.name;
        const arn = `arn:aws:${service(args.type)}:${REGION}:${ACCOUNT}:${name}`;
        const state: Record<string, unknown> = {
          ...args.inputs,
          name,
          arn,
          bucket: args.inputs.bucket ?? args.name,
          url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`,
          keyId: `${name}-key-id`,
          invokeArn: `${arn}/invocations`,
          executionArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${name}`,
          invokeUrl: `https://${name}.execute-api.${REGION}.amazonaws.com/`,
          domainName: args.inputs.domainName ?? `${name}.cloudfront.net`,
          dnsName: `${name}.elb.${REGION}.amazonaws.com`,
          result: "mock-random-value-that-is-long-enough-for-a-secret",
        };
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, state });
        return { id: args.name, state };
      },
      call(args) {
        if (args.token === "aws:index/getCallerIdentity:getCallerIdentity")
          return { accountId: ACCOUNT, arn: "", userId: "" };
        if (args.token === "aws:index/getRegion:getRegion") return { name: REGION, region: REGION };
        return args.inputs;
      },
    },
    "airlock",
    "dev",
  );
  const { airlock } = await import("../../infra/index.ts");
  const placeholder = new pulumi.asset.AssetArchive({
    "index.mjs": new pulumi.asset.StringAsset("export const handler = async () => ({});"),
  });
  const outputs = await airlock({ code: () => placeholder, withApi: true });
  const resolved = await new Promise<Record<string, unknown>>((ok) =>
    pulumi.output(outputs).apply((o) => ok(o as Record<string, unknown>)),
  );
  // Resources whose inputs wait on other outputs register late: wait until the set stops growing.
  let count = -1;
  while (count !== resources.length) {
    count = resources.length;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { resources, outputs: resolved };
}
