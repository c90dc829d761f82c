/**
 * Runs a Pulumi program the way `pulumi up` does, without the CLI or an account: this process plays the engine
 * (a gRPC resource monitor answering with the realistic AWS mocks, and the engine service that receives logs),
 * and the program runs in a child Node process started exactly as Pulumi's Node language host starts it:
 *
 *   node <runtime.options.nodeargs> <require.resolve("@pulumi/pulumi/cmd/run")> --monitor <addr> --engine <addr>
 *        --project <name> --root-directory <root> --stack <stack> --pwd <dir of main> [--dry-run] <base of main>
 *
 * with the stack config in PULUMI_CONFIG (keys as `<namespace>:config:<key>`), PULUMI_CONFIG_SECRET_KEYS, and
 * PULUMI_NODEJS_TYPESCRIPT=true when `runtime.options.typescript` is not false (the language host's rules,
 * read from pulumi/pulumi's sdk/nodejs/cmd/pulumi-language-nodejs and pkg/engine/project.go).
 */
import { spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import { answer, invoke } from "./aws-mocks.ts";
import { aliasUrns, type Recorded, type RegisterRequest, urnOf } from "./harness.ts";

const require = createRequire(import.meta.url);
const pulumiRoot = dirname(require.resolve("@pulumi/pulumi/package.json"));
const fromPulumi = createRequire(join(pulumiRoot, "package.json"));
// The same copies the SDK uses, so that messages serialize as it expects.
const grpc = fromPulumi("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const resrpc = fromPulumi("./proto/resource_grpc_pb.js");
const resproto = fromPulumi("./proto/resource_pb.js");
const provproto = fromPulumi("./proto/provider_pb.js");
const enginerpc = fromPulumi("./proto/engine_grpc_pb.js");
const engineproto = fromPulumi("./proto/engine_pb.js");
const emptyproto = fromPulumi("google-protobuf/google/protobuf/empty_pb.js");
const structproto = fromPulumi("google-protobuf/google/protobuf/struct_pb.js");
const rpc = fromPulumi("./runtime/rpc.js") as {
  deserializeProperties(s: unknown): Record<string, unknown>;
  serializeProperties(label: string, props: Record<string, unknown>): Promise<Record<string, unknown>>;
};

export interface HostRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Engine log messages: severity (1 debug, 2 info, 3 warning, 4 error) and text. */
  logs: { severity: number; message: string }[];
  resources: Recorded[];
  /** The stack's outputs (what `pulumi stack output` shows). */
  outputs: Record<string, unknown>;
  /** The command line the program was started with. */
  argv: string[];
}

interface ProjectFile {
  name: string;
  main?: string;
  runtime: { name: string; options?: { typescript?: boolean; nodeargs?: string } } | string;
}

/** Splits `nodeargs` as the language host does (shlex): whitespace, with single and double quotes. */
export function splitArgs(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
}

type Unary = (call: { request: never }, callback: (err: unknown, res?: unknown) => void) => void;

export async function runAsPulumiDoes(options: {
  root: string;
  stack: string;
  config: Record<string, string>;
  dryRun?: boolean;
  timeoutMs?: number;
}): Promise<HostRun> {
  const project = parse(readFileSync(join(options.root, "Pulumi.yaml"), "utf8")) as ProjectFile;
  const runtimeOptions = typeof project.runtime === "string" ? {} : (project.runtime.options ?? {});
  // pkg/engine/project.go getPwdMain: a file `main` runs in its directory, by its base name.
  const main = resolve(options.root, project.main ?? ".");
  const [pwd, entry] = statSync(main).isDirectory() ? [main, "."] : [dirname(main), basename(main)];

  const resources: Recorded[] = [];
  const logs: HostRun["logs"] = [];
  const states = new Map<string, { id: string; state: Record<string, unknown> }>();
  let stackOutputs: Record<string, unknown> = {};
  let stackUrn = "";
  let rootResource = "";

  const monitor: Record<string, Unary> = {
    supportsFeature: (call, callback) => {
      const id = (call.request as { getId(): string }).getId();
      const response = new resproto.SupportsFeatureResponse();
      // What an engine without output values supports (the same answer as Pulumi's own mock monitor).
      response.setHassupport(id !== "outputValues");
      callback(null, response);
    },
    registerResource: async (call, callback) => {
      try {
        const req = call.request as Pick<RegisterRequest, "getAliasesList"> & {
          getType(): string;
          getName(): string;
          getParent(): string;
          getCustom(): boolean;
          getObject(): unknown;
          getDependenciesList(): string[];
          getPropertydependenciesMap(): {
            forEach(f: (deps: { getUrnsList(): string[] }, key: string) => void): void;
          };
        };
        const type = req.getType();
        const inputs = rpc.deserializeProperties(req.getObject());
        const made = type.startsWith("pulumi:providers:")
          ? { id: `${req.getName()}-provider`, state: inputs }
          : answer(type, req.getName(), inputs, options.stack);
        const urn = urnOf(options.stack, project.name, req.getParent(), type, req.getName());
        if (type === "pulumi:pulumi:Stack") stackUrn = urn;
        states.set(urn, made);
        if (!type.startsWith("pulumi:")) {
          const propertyDependencies: Record<string, string[]> = {};
          req.getPropertydependenciesMap().forEach((deps, key) => {
            propertyDependencies[key] = deps.getUrnsList();
          });
          resources.push({
            type,
            name: req.getName(),
            urn,
            id: made.id,
            inputs,
            state: made.state,
            props: made.state,
            parent: req.getParent() || undefined,
            dependencies: req.getDependenciesList(),
            aliases: aliasUrns(req, options.stack, project.name),
            propertyDependencies,
          });
        }
        const response = new resproto.RegisterResourceResponse();
        response.setUrn(urn);
        response.setId(made.id);
        response.setObject(structproto.Struct.fromJavaScript(await rpc.serializeProperties("", made.state)));
        callback(null, response);
      } catch (error) {
        callback(error);
      }
    },
    registerResourceOutputs: (call, callback) => {
      const req = call.request as { getUrn(): string; getOutputs(): unknown };
      if (req.getUrn() === stackUrn) stackOutputs = rpc.deserializeProperties(req.getOutputs());
      callback(null, new emptyproto.Empty());
    },
    invoke: async (call, callback) => {
      try {
        const req = call.request as { getTok(): string };
        const response = new provproto.InvokeResponse();
        response.setReturn(
          structproto.Struct.fromJavaScript(await rpc.serializeProperties("", invoke(req.getTok()))),
        );
        callback(null, response);
      } catch (error) {
        callback(error);
      }
    },
    registerPackage: (_call, callback) => {
      const response = new resproto.RegisterPackageResponse();
      response.setRef("airlock-test-package");
      callback(null, response);
    },
    signalAndWaitForShutdown: (_call, callback) => callback(null, new emptyproto.Empty()),
  };
  const engine: Record<string, Unary> = {
    log: (call, callback) => {
      const req = call.request as { getSeverity(): number; getMessage(): string };
      logs.push({ severity: req.getSeverity(), message: req.getMessage() });
      callback(null, new emptyproto.Empty());
    },
    getRootResource: (_call, callback) => {
      const response = new engineproto.GetRootResourceResponse();
      response.setUrn(rootResource);
      callback(null, response);
    },
    setRootResource: (call, callback) => {
      rootResource = (call.request as { getUrn(): string }).getUrn();
      callback(null, new engineproto.SetRootResourceResponse());
    },
  };

  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
  server.addService(resrpc.ResourceMonitorService, monitor as never);
  server.addService(enginerpc.EngineService, engine as never);
  const port = await new Promise<number>((ok, fail) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? fail(err) : ok(p),
    ),
  );
  const address = `127.0.0.1:${port}`;

  // locateModule: the run module as Node resolves it from the program's directory.
  const runPath = createRequire(join(pwd, "noop.js")).resolve("@pulumi/pulumi/cmd/run");
  const argv = [
    ...splitArgs(runtimeOptions.nodeargs ?? ""),
    runPath,
    "--monitor",
    address,
    "--engine",
    address,
    "--project",
    project.name,
    "--root-directory",
    options.root,
    "--stack",
    options.stack,
    "--pwd",
    pwd,
    ...(options.dryRun ? ["--dry-run"] : []),
    "--parallel",
    "16",
    entry,
  ];
  const env: Record<string, string | undefined> = {
    ...process.env,
    PULUMI_CONFIG: JSON.stringify(
      Object.fromEntries(
        Object.entries(options.config).map(([key, value]) => {
          const [namespace, ...rest] = key.split(":");
          return [`${namespace}:config:${rest.join(":")}`, value];
        }),
      ),
    ),
    PULUMI_CONFIG_SECRET_KEYS: "[]",
  };
  // Vitest's own variables must not leak into the program as if it were a test.
  for (const name of Object.keys(env))
    if (name.startsWith("VITEST") || name === "NODE_OPTIONS") delete env[name];
  if (runtimeOptions.typescript !== false) env.PULUMI_NODEJS_TYPESCRIPT = "true";

  const child = spawn(process.execPath, argv, { cwd: pwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exitCode = await new Promise<number | null>((ok) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      ok(code);
    });
  });
  await new Promise<void>((ok) => server.tryShutdown(() => ok()));
  return {
    exitCode,
    stdout,
    stderr,
    logs,
    resources,
    outputs: stackOutputs,
    argv: [process.execPath, ...argv],
  };
}
