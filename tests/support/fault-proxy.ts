/**
 * An HTTP proxy in front of a local emulator or the local gateway that can fail, delay or cut requests, and logs
 * every request it saw: how the push tests inject transient errors and refusals over real HTTP, and count what
 * was sent. Requests are forwarded byte for byte with their Host header, so SigV4 signatures stay valid.
 */
import { createServer, type IncomingHttpHeaders, request } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The body, when `captureBodies` (small JSON API calls only). */
  body?: string;
}

export type Fault =
  | { status: number; body?: string; contentType?: string }
  | { delayMs: number }
  | { reset: true }
  | undefined;

export interface FaultProxy {
  url: string;
  requests: SeenRequest[];
  stop(): Promise<void>;
}

export async function startFaultProxy(
  upstream: string,
  rule: (req: SeenRequest) => Fault | Promise<Fault> = () => undefined,
  options: { captureBodies?: boolean } = {},
): Promise<FaultProxy> {
  const target = new URL(upstream);
  const requests: SeenRequest[] = [];
  const server = createServer(async (req, res) => {
    const seen: SeenRequest = { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers };
    let buffered: Buffer | undefined;
    if (options.captureBodies) {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      buffered = Buffer.concat(chunks);
      seen.body = buffered.toString("utf8");
    }
    requests.push(seen);
    const fault = await rule(seen);
    if (fault && "reset" in fault) {
      req.socket.destroy();
      return;
    }
    if (fault && "status" in fault) {
      if (!buffered) req.resume();
      res.writeHead(fault.status, { "content-type": fault.contentType ?? "application/xml" });
      res.end(fault.body ?? "");
      return;
    }
    if (fault && "delayMs" in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
    const forward = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.on("aborted", () => forward.destroy());
    if (buffered) forward.end(buffered);
    else req.pipe(forward);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** S3's XML error body. */
export const s3ErrorBody = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
