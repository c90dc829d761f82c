/**
 * One Lambda function's instance on a thread of its own (see function-thread.ts): it imports the handler module
 * (its cold start: the module builds its clients and reads its environment), then runs each event it is sent
 * and answers with the handler's response, or with the error that ended the invocation.
 */
import { getHeapStatistics } from "node:v8";
import { parentPort, workerData } from "node:worker_threads";
import { lambdaContext } from "./lambda-context.ts";

export interface FunctionWorkerData {
  /** The handler module (a file URL); it exports `handler`. */
  entry: string;
  functionName: string;
  region: string;
}
export type FunctionRequest = { id: number; event: unknown; timeoutMs: number };

/** What one invocation took: wall-clock time, CPU time of the function's thread, and its heap afterwards. */
export interface InvocationTiming {
  wallMs: number;
  /**
   * CPU time of the thread during the invocation. Exact when the instance runs one invocation at a time; when
   * two overlap (two pollers feed the instance), each is charged the thread's CPU of its whole span.
   */
  cpuMs: number;
  /** V8 heap of the instance (used, plus external memory such as Buffers) after the invocation. */
  heapMb: number;
}

export type FunctionReply =
  | { type: "ready" }
  | { type: "failed"; message: string }
  | { type: "result"; id: number; response: unknown; timing: InvocationTiming }
  | { type: "error"; id: number; message: string; timing: InvocationTiming };

const cpuMs = () => {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
};

const port = parentPort;
if (!port) throw new Error("function-worker must run as a worker thread");
const { entry, functionName, region } = workerData as FunctionWorkerData;

try {
  const { handler } = (await import(entry)) as {
    handler: (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;
  };
  port.on("message", async ({ id, event, timeoutMs }: FunctionRequest) => {
    const started = performance.now();
    const cpuAtStart = cpuMs();
    const timing = (): InvocationTiming => {
      const heap = getHeapStatistics();
      return {
        wallMs: performance.now() - started,
        cpuMs: cpuMs() - cpuAtStart,
        heapMb: (heap.used_heap_size + heap.external_memory) / 2 ** 20,
      };
    };
    try {
      const response = await handler(event, lambdaContext(functionName, timeoutMs, region));
      port.postMessage({ type: "result", id, response, timing: timing() } satisfies FunctionReply);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      port.postMessage({ type: "error", id, message, timing: timing() } satisfies FunctionReply);
    }
  });
  port.postMessage({ type: "ready" } satisfies FunctionReply);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  port.postMessage({ type: "failed", message } satisfies FunctionReply);
  port.close();
}
