/**
 * What the local stack can say about itself: which ports are free before it starts, and whether each emulator
 * answers once it runs (`GET /_airlock/health` on the API port, as LocalStack has `/_localstack/health`).
 */
import { connect, createServer } from "node:net";

export type ServiceState = "running" | "unreachable";

export interface Health {
  status: "running" | "degraded";
  services: Record<string, ServiceState>;
}

/** Whether something accepts TCP connections at the URL's host and port. */
export function answers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export async function checkHealth(endpoints: Record<string, string>): Promise<Health> {
  const entries = await Promise.all(
    Object.entries(endpoints).map(
      async ([name, url]) => [name, (await answers(url)) ? "running" : "unreachable"] as const,
    ),
  );
  const services = Object.fromEntries(entries) as Record<string, ServiceState>;
  const status = Object.values(services).every((s) => s === "running") ? "running" : "degraded";
  return { status, services };
}

/** The ports (by service) that something else already listens on, on the loopback address the stack uses. */
export async function busyPorts(ports: Record<string, number>): Promise<[string, number][]> {
  const busy: [string, number][] = [];
  for (const [name, port] of Object.entries(ports)) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (!free) busy.push([name, port]);
  }
  return busy;
}

/** `AIRLOCK_PORT_BASE`: five consecutive ports from it; undefined with a reason when it cannot be one. */
export function portBase(value: string | undefined): { base: number } | { problem: string } {
  if (value === undefined || value === "") return { base: 4566 };
  const base = Number(value);
  if (!Number.isInteger(base) || base < 1024 || base > 65_531)
    return { problem: `AIRLOCK_PORT_BASE must be a whole number from 1024 to 65531 (got "${value}")` };
  return { base };
}

/** The sentence a person reads when a port is taken: which one, and how to move the stack. */
export function portsInUseMessage(busy: [string, number][], base: number): string {
  const list = busy.map(([name, port]) => `${port} (${name})`).join(", ");
  const other = base + 100;
  return (
    `Port${busy.length === 1 ? "" : "s"} ${list} ${busy.length === 1 ? "is" : "are"} already in use — ` +
    "another Airlock stack (or LocalStack) may be running.\n" +
    `Stop it, or start this one on other ports: AIRLOCK_PORT_BASE=${other} npm start`
  );
}
