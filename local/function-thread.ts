/**
 * A Lambda function's instance on its own worker thread, so that the stage functions of the local stack run
 * side by side on a multi-core machine, as each function has its own process (and CPU) in AWS, instead of
 * sharing the event loop of the stack with each other, the pollers and the caller. The instance starts on the
 * first invocation (its cold start) and keeps its module state between invocations (clients, caches), as a
 * warm Lambda does. If the thread dies (an uncaught error, a crash), the invocations it held fail, as those of
 * a Lambda instance that dies do, and the next invocation starts a new instance.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type {
  FunctionReply,
  FunctionRequest,
  FunctionWorkerData,
  InvocationTiming,
} from "./function-worker.ts";

export type { InvocationTiming };

export interface FunctionThread {
  invoke(event: unknown, timeoutMs: number): Promise<unknown>;
  stop(): Promise<void>;
}

/** The handler modules are TypeScript with parameter properties: the thread loads them through tsx. */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

export function functionThread(
  data: FunctionWorkerData,
  onInvocation?: (timing: InvocationTiming & { ok: boolean }) => void,
): FunctionThread {
  // The function's environment is the stack's when the function is created (its configuration), even if the
  // instance starts later.
  const env = { ...process.env };
  let instance: Promise<Worker> | undefined;
  let stopping = false;
  let nextId = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  const start = () =>
    new Promise<Worker>((resolve, reject) => {
      // The profiler's flags pass on, so that `node --cpu-prof` profiles the functions too.
      const execArgv = ["--import", tsx, ...process.execArgv.filter((a) => a.startsWith("--cpu-prof"))];
      const worker = new Worker(new URL("./function-worker.ts", import.meta.url), {
        workerData: data,
        execArgv,
        env,
      });
      let ready = false;
      worker.on("message", (reply: FunctionReply) => {
        if (reply.type === "ready") {
          ready = true;
          resolve(worker);
        } else if (reply.type === "failed") reject(new Error(`${data.functionName}: ${reply.message}`));
        else {
          const call = pending.get(reply.id);
          pending.delete(reply.id);
          onInvocation?.({ ...reply.timing, ok: reply.type === "result" });
          if (reply.type === "result") call?.resolve(reply.response);
          else call?.reject(new Error(reply.message));
        }
      });
      worker.on("error", (error) => {
        if (!ready) reject(error);
      });
      worker.on("exit", (code) => {
        instance = undefined;
        if (!ready) reject(new Error(`${data.functionName}: the instance exited (${code}) at its start`));
        for (const [id, call] of pending) {
          pending.delete(id);
          call.reject(new Error(`${data.functionName}: the instance exited (${code})`));
        }
      });
    });

  return {
    async invoke(event, timeoutMs) {
      if (stopping) throw new Error(`${data.functionName}: stopped`);
      instance ??= start();
      const current = instance;
      current.catch(() => {
        if (instance === current) instance = undefined;
      });
      const worker = await current;
      const id = nextId++;
      const reply = new Promise<unknown>((resolve, reject) => pending.set(id, { resolve, reject }));
      worker.postMessage({ id, event, timeoutMs } satisfies FunctionRequest);
      return reply;
    },
    async stop() {
      stopping = true;
      const worker = await instance?.catch(() => undefined);
      await worker?.terminate();
    },
  };
}
