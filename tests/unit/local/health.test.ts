import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { busyPorts, checkHealth, portBase, portsInUseMessage } from "../../../local/health.ts";

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

function listen(): Promise<number> {
  const listening = createServer();
  server = listening;
  return new Promise((resolve) =>
    listening.listen(0, "127.0.0.1", () => resolve((listening.address() as { port: number }).port)),
  );
}

describe("Local stack: ports and health", () => {
  it("names a port that is already taken, and tells how to move", async () => {
    const taken = await listen();
    const busy = await busyPorts({ s3: taken });
    expect(busy).toEqual([["s3", taken]]);
    const message = portsInUseMessage(busy, 4566);
    expect(message).toContain(`${taken} (s3)`);
    expect(message).toContain("AIRLOCK_PORT_BASE=4666 npm start");
  });

  it("finds free ports free", async () => {
    const port = await listen();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    expect(await busyPorts({ api: port })).toEqual([]);
  });

  it("refuses a port base that is not a usable port range", () => {
    expect(portBase(undefined)).toEqual({ base: 4566 });
    expect(portBase("5566")).toEqual({ base: 5566 });
    for (const bad of ["80", "abc", "65535", "45.5"]) expect(portBase(bad)).toHaveProperty("problem");
  });

  it("reports each service and degrades when one does not answer", async () => {
    const port = await listen();
    const up = await checkHealth({ s3: `http://127.0.0.1:${port}` });
    expect(up).toEqual({ status: "running", services: { s3: "running" } });
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const down = await checkHealth({ s3: `http://127.0.0.1:${port}` });
    expect(down).toEqual({ status: "degraded", services: { s3: "unreachable" } });
  });
});
