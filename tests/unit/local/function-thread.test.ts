import { afterEach, describe, expect, it } from "vitest";
import {
  type FunctionThread,
  functionThread,
  type InvocationTiming,
} from "../../../local/function-thread.ts";

const echo = new URL("./fixtures/echo-handler.ts", import.meta.url).href;
const broken = new URL("./fixtures/broken-handler.ts", import.meta.url).href;
const threads: FunctionThread[] = [];
afterEach(async () => {
  for (const t of threads.splice(0)) await t.stop();
  delete process.env.ECHO_SETTING;
});

function start(entry: string, timings?: (InvocationTiming & { ok: boolean })[]) {
  const thread = functionThread(
    { entry, functionName: "airlock-echo", region: "us-east-1" },
    timings && ((t) => timings.push(t)),
  );
  threads.push(thread);
  return thread;
}

describe("Function: functionThread", () => {
  it("runs the handler on its own thread with a Lambda context, keeping module state between invocations", async () => {
    process.env.ECHO_SETTING = "at creation";
    const timings: (InvocationTiming & { ok: boolean })[] = [];
    const thread = start(echo, timings);
    process.env.ECHO_SETTING = "changed later";
    const first = (await thread.invoke({ action: "echo", value: "a" }, 5_000)) as Record<string, unknown>;
    const second = (await thread.invoke({ action: "echo", value: "b" }, 5_000)) as Record<string, unknown>;
    expect(first).toMatchObject({
      value: "a",
      functionName: "airlock-echo",
      invocations: 1,
      env: "at creation",
    });
    expect(first.remainingMs).toBeGreaterThan(4_000);
    expect(first.remainingMs).toBeLessThanOrEqual(5_000);
    expect(second).toMatchObject({ value: "b", invocations: 2 });
    expect(timings).toHaveLength(2);
    for (const t of timings) {
      expect(t.ok).toBe(true);
      expect(t.cpuMs).toBeGreaterThanOrEqual(0);
      expect(t.wallMs).toBeGreaterThanOrEqual(0);
      expect(t.heapMb).toBeGreaterThan(0);
    }
  });

  it("fails an invocation whose handler throws, with the handler's message, and the instance stays", async () => {
    const timings: (InvocationTiming & { ok: boolean })[] = [];
    const thread = start(echo, timings);
    await expect(thread.invoke({ action: "throw", value: "x" }, 5_000)).rejects.toThrow("refused x");
    expect(await thread.invoke({ action: "echo" }, 5_000)).toMatchObject({ invocations: 2 });
    expect(timings.map((t) => t.ok)).toEqual([false, true]);
  });

  it("fails the invocations of an instance that dies, and starts a new instance for the next one", async () => {
    const thread = start(echo);
    expect(await thread.invoke({ action: "echo" }, 5_000)).toMatchObject({ invocations: 1 });
    await expect(thread.invoke({ action: "exit" }, 5_000)).rejects.toThrow("the instance exited (3)");
    // A cold start: the module state is new.
    expect(await thread.invoke({ action: "echo" }, 5_000)).toMatchObject({ invocations: 1 });
  });

  it("fails invocations when the module cannot start, naming the function and the cause", async () => {
    const thread = start(broken);
    await expect(thread.invoke({}, 5_000)).rejects.toThrow(
      "airlock-echo: missing configuration ECHO_REQUIRED",
    );
    await expect(thread.invoke({}, 5_000)).rejects.toThrow("missing configuration ECHO_REQUIRED");
  });

  it("refuses invocations once stopped", async () => {
    const thread = start(echo);
    await thread.stop();
    await expect(thread.invoke({ action: "echo" }, 5_000)).rejects.toThrow("stopped");
  });
});
