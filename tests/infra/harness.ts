/**
 * Runs the Pulumi program in-process under mocks with the committed dev stack config, and records every
 * resource it registers: its inputs, the state the AWS provider would return (autonamed physical names, real
 * ARN formats, `id` as the provider's id: see `aws-mocks.ts`), its parent and the resources it depends on.
 * The program is loaded through Pulumi's own Node host in `loader.test.ts`; this in-process run is the fast
 * path for the many assertions on the resource graph.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import type { StackResource } from "../../policy/rules.js";
import { ACCOUNT, answer, awsMocks, REGION } from "./aws-mocks.ts";

export { ACCOUNT, REGION };

export interface Recorded extends StackResource {
  /** The provider's id (a bucket's name, a queue's URL, a topic's ARN…). */
  id: string;
  urn: string;
  /** What the program passed. */
  inputs: Record<string, unknown>;
  /** What the provider returns (inputs, names, ids, ARNs): what a stack policy sees as `props`. */
  state: Record<string, unknown>;
  parent?: string;
  /** URNs of every resource this one waits for: explicit `dependsOn` and the outputs its inputs use. */
  dependencies: string[];
  /** The URNs the resource had before (its `aliases`, resolved as the engine resolves them). */
  aliases: string[];
}

/** The committed dev stack's config (`Pulumi.dev.yaml`), with keys overridden. */
export function devConfig(overrides: Record<string, unknown> = {}): Record<string, string> {
  const stackConfig = (
    parse(readFileSync(resolve("Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> }
  ).config;
  const config = {
    ...stackConfig,
    ...Object.fromEntries(Object.entries(overrides).map(([k, v]) => [`airlock:${k}`, v])),
  };
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

interface AliasSpec {
  getName(): string;
  getType(): string;
  getStack(): string;
  getProject(): string;
  getParenturn(): string;
  getNoparent(): boolean;
}
export interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getAliasesList(): { hasUrn(): boolean; getUrn(): string; getSpec(): AliasSpec | undefined }[];
  getDependenciesList(): string[];
  getPropertydependenciesMap(): {
    forEach(f: (deps: { getUrnsList(): string[] }, key: string) => void): void;
  };
}
interface RegisterResponse {
  getUrn(): string;
  getId(): string;
}
type RegisterResource = (
  req: RegisterRequest,
  callback: (err: unknown, res?: RegisterResponse) => void,
) => void;

/**
 * A resource's URN as the engine forms it: its parent's qualified type before its own type, except under the
 * stack itself (or no parent), where the type stands alone.
 */
export function urnOf(
  stack: string,
  project: string,
  parent: string | undefined,
  type: string,
  name: string,
) {
  const parentType = parent?.split("::")[2];
  const qualified = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** The URNs a registration's aliases stand for (a spec leaves out what stays: name, type, parent…). */
export function aliasUrns(
  req: Pick<RegisterRequest, "getType" | "getName" | "getParent" | "getAliasesList">,
  stack: string,
  project: string,
): string[] {
  return req.getAliasesList().map((alias) => {
    if (alias.hasUrn()) return alias.getUrn();
    const spec = alias.getSpec();
    if (!spec) throw new Error(`an alias of ${req.getName()} with neither URN nor spec`);
    const parent = spec.getNoparent() ? undefined : spec.getParenturn() || req.getParent() || undefined;
    return urnOf(
      spec.getStack() || stack,
      spec.getProject() || project,
      parent,
      spec.getType() || req.getType(),
      spec.getName() || req.getName(),
    );
  });
}

/**
 * Installs the AWS mocks and records every registration (with its dependencies, which the mock monitor's
 * `newResource` does not see) into `resources`.
 */
export async function recordingMocks(
  resources: Recorded[],
  preview = false,
  failures: unknown[] = [],
  stack = "dev",
): Promise<void> {
  const pending = new Map<
    string,
    Omit<Recorded, "urn" | "parent" | "dependencies" | "aliases" | "props" | "propertyDependencies">
  >();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        let made: ReturnType<typeof answer>;
        try {
          made = answer(args.type, args.name, args.inputs as Record<string, unknown>, stack);
        } catch (error) {
          failures.push(error);
          throw error;
        }
        pending.set(`${args.type}::${args.name}`, {
          type: args.type,
          name: args.name,
          id: made.id,
          inputs: args.inputs as Record<string, unknown>,
          state: made.state,
        });
        return made;
      },
      call: awsMocks.call,
    },
    "airlock",
    stack,
    preview,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: RegisterResource;
    registerResourceOutputs: (req: unknown, callback: (err: unknown, res?: unknown) => void) => void;
  };
  // A run that failed part-way (a test of a refused config) may still send a component's outputs after the next
  // run has installed its own monitor: that monitor does not know the component, which is no error of this run.
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, callback) =>
    registerOutputs(req, (err, res) =>
      err instanceof Error && err.message.startsWith("unknown resource")
        ? callback(null, {})
        : callback(err, res),
    );
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) =>
    register(req, (err, res) => {
      const made = pending.get(`${req.getType()}::${req.getName()}`);
      if (!err && res && made && !req.getType().startsWith("pulumi:")) {
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((deps, key) => {
          propertyDependencies[key] = deps.getUrnsList();
        });
        resources.push({
          ...made,
          props: made.state,
          urn: res.getUrn(),
          parent: req.getParent() || undefined,
          dependencies: req.getDependenciesList(),
          aliases: aliasUrns(req, stack, "airlock"),
          propertyDependencies,
        });
      }
      callback(err, res);
    });
}

export async function runProgram(
  overrides: Record<string, unknown> = {},
  options: { stack?: string } = {},
): Promise<{
  resources: Recorded[];
  outputs: Record<string, unknown>;
}> {
  const resources: Recorded[] = [];
  const failures: unknown[] = [];
  pulumi.runtime.setAllConfig(devConfig(overrides));
  await recordingMocks(resources, false, failures, options.stack);
  const { airlock } = await import("../../infra/program.ts");
  const placeholder = new pulumi.asset.AssetArchive({
    "index.mjs": new pulumi.asset.StringAsset("export const handler = async () => ({});"),
  });
  const settle = async () => {
    let count = -1;
    while (count !== resources.length) {
      count = resources.length;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let outputs: Awaited<ReturnType<typeof airlock>>;
  try {
    outputs = await airlock({ code: () => placeholder, withApi: true });
  } catch (error) {
    // Let what was started finish on this run's monitor before the next run replaces it.
    await settle();
    throw error;
  }
  const resolved = await new Promise<Record<string, unknown>>((ok) =>
    pulumi.output(outputs).apply((o) => ok(o as Record<string, unknown>)),
  );
  // Resources whose inputs wait on other outputs register late: wait until the set stops growing.
  await settle();
  if (failures.length > 0) throw failures[0];
  return { resources, outputs: resolved };
}

/** Lookups over a run, by logical name (what the program names) returning provider answers. */
export function lookups(resources: Recorded[]) {
  const named = (type: string, name: string) => {
    const found = resources.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`no ${type} named ${name}`);
    return found;
  };
  return {
    named,
    ofType: (type: string) => resources.filter((r) => r.type === type),
    arnOf: (type: string, name: string) => String(named(type, name).state.arn),
    /** The physical name (`name`, or a bucket's `bucket`). */
    physical: (type: string, name: string) => {
      const state = named(type, name).state;
      return String(state.bucket ?? state.name);
    },
    idOf: (type: string, name: string) => named(type, name).id,
    byUrn: (urn: string) => resources.find((r) => r.urn === urn),
  };
}
