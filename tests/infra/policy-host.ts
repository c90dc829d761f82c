/**
 * Starts a CrossGuard policy pack the way `pulumi preview --policy-pack <dir>` does, and talks to it as the
 * engine does. The Node language host's RunPlugin (kind analyzer) runs
 *
 *   node <require.resolve("@pulumi/pulumi/cmd/run-policy-pack") from the pack> <nodeargs> <engine> <pack dir>
 *
 * in the pack's directory (the nodeargs land after the run module, as arguments of it, not of Node), and that
 * module always registers ts-node with type checking before it `require`s the pack. The pack prints the port
 * of its Analyzer gRPC server; the engine then calls GetAnalyzerInfo and, at the end of a preview or update,
 * AnalyzeStack with every resource's outputs, URN, parent and property dependencies.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import type { Recorded } from "./harness.ts";
import { splitArgs } from "./pulumi-host.ts";

const require = createRequire(import.meta.url);
const fromPulumi = createRequire(
  join(dirname(require.resolve("@pulumi/pulumi/package.json")), "package.json"),
);
const grpc = fromPulumi("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const analyzerrpc = fromPulumi("./proto/analyzer_grpc_pb.js");
const analyzerproto = fromPulumi("./proto/analyzer_pb.js");
const emptyproto = fromPulumi("google-protobuf/google/protobuf/empty_pb.js");
const structproto = fromPulumi("google-protobuf/google/protobuf/struct_pb.js");
const rpc = fromPulumi("./runtime/rpc.js") as {
  serializeProperties(label: string, props: Record<string, unknown>): Promise<Record<string, unknown>>;
};

export interface Diagnostic {
  policy: string;
  message: string;
  enforcementLevel: number;
}

export interface RunningPack {
  argv: string[];
  policies(): Promise<string[]>;
  analyzeStack(resources: Recorded[]): Promise<Diagnostic[]>;
  stop(): Promise<void>;
}

type Client = Record<string, (req: unknown, cb: (err: Error | null, res: never) => void) => void> & {
  close(): void;
};

/** Starts the pack in `dir`; rejects with its output if it exits before serving. */
export async function startPolicyPack(dir: string, timeoutMs = 60_000): Promise<RunningPack> {
  const project = parse(readFileSync(join(dir, "PulumiPolicy.yaml"), "utf8")) as {
    runtime: string | { name: string; options?: { typescript?: boolean; nodeargs?: string } };
  };
  const options = typeof project.runtime === "string" ? {} : (project.runtime.options ?? {});
  const runPath = createRequire(join(dir, "noop.js")).resolve("@pulumi/pulumi/cmd/run-policy-pack");
  // The engine address is the first argument; the pack only shifts it off.
  const argv = [runPath, ...splitArgs(options.nodeargs ?? ""), "127.0.0.1:1", dir];
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of Object.keys(env))
    if (name.startsWith("VITEST") || name === "NODE_OPTIONS") delete env[name];
  if (options.typescript !== false) env.PULUMI_NODEJS_TYPESCRIPT = "true";
  const child: ChildProcess = spawn(process.execPath, argv, {
    cwd: dir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const port = await new Promise<number>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`policy pack did not start: ${stderr}`)), timeoutMs);
    child.stdout?.on("data", (d) => {
      stdout += d;
      const match = /^(\d+)\s*$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        ok(Number(match[1]));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`policy pack exited with ${code} before serving:\n${stderr}${stdout}`));
    });
  });
  const client = new analyzerrpc.AnalyzerClient(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as Client;
  const call = <T>(method: string, req: unknown) =>
    new Promise<T>((ok, fail) => client[method]?.(req, (err, res) => (err ? fail(err) : ok(res as T))));

  return {
    argv: [process.execPath, ...argv],
    policies: async () => {
      const info = await call<{ getPoliciesList(): { getName(): string }[] }>(
        "getAnalyzerInfo",
        new emptyproto.Empty(),
      );
      return info.getPoliciesList().map((p) => p.getName());
    },
    analyzeStack: async (resources) => {
      const req = new analyzerproto.AnalyzeStackRequest();
      const list = [];
      for (const r of resources) {
        const resource = new analyzerproto.AnalyzerResource();
        resource.setType(r.type);
        resource.setName(r.name);
        resource.setUrn(r.urn);
        resource.setParent(r.parent ?? "");
        resource.setDependenciesList(r.dependencies);
        resource.setProperties(structproto.Struct.fromJavaScript(await rpc.serializeProperties("", r.state)));
        resource.setOptions(new analyzerproto.AnalyzerResourceOptions());
        const deps = resource.getPropertydependenciesMap();
        for (const [key, urns] of Object.entries(r.propertyDependencies ?? {})) {
          const d = new analyzerproto.AnalyzerPropertyDependencies();
          d.setUrnsList(urns);
          deps.set(key, d);
        }
        list.push(resource);
      }
      req.setResourcesList(list);
      const res = await call<{
        getDiagnosticsList(): {
          getPolicyname(): string;
          getMessage(): string;
          getEnforcementlevel(): number;
        }[];
      }>("analyzeStack", req);
      return res.getDiagnosticsList().map((d) => ({
        policy: d.getPolicyname(),
        message: d.getMessage(),
        enforcementLevel: d.getEnforcementlevel(),
      }));
    },
    stop: async () => {
      client.close();
      child.kill();
      await new Promise((ok) => (child.exitCode === null ? child.on("exit", ok) : ok(undefined)));
    },
  };
}
