/** `POST /uploads` through the local gateway: JWT verification, validation, session write, presigned POST. */
import { mintToken } from "../local/gateway.ts";
import { startLocalStack } from "../local/stack.ts";
import { summarize, writeResult } from "./stats.ts";

export async function benchApi(options: { requests: number; concurrency: number }) {
  const stack = await startLocalStack({ sweepIntervalMs: 3_600_000 });
  try {
    const token = await mintToken(stack.state.api, { sub: "bench" });
    const body = JSON.stringify({ filename: "report.pdf", contentType: "application/pdf", size: 123_456 });
    const once = async () => {
      const start = performance.now();
      const res = await fetch(`${stack.state.api.url}/uploads`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body,
      });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`POST /uploads answered ${res.status}`);
      return performance.now() - start;
    };
    for (let i = 0; i < 200; i++) await once();
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next++ < options.requests) latencies.push(await once());
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const result = {
      requests: options.requests,
      concurrency: options.concurrency,
      seconds: Math.round(seconds * 100) / 100,
      requestsPerSecond: Math.round(options.requests / seconds),
      latencyMs: summarize(latencies),
    };
    await writeResult("api", result);
    return result;
  } finally {
    await stack.stop();
  }
}
