/**
 * Serves the web console from the local stack: the built static files with the same security headers the
 * CloudFront distribution sends, `config.json` pointing at the local API, and the dev sign-in endpoint
 * (`POST /dev/token {"user": "alice"}`) that mints a token from the local issuer. Only the local stack has
 * that endpoint; in AWS the console signs in through the configured OIDC provider.
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { consoleCsp } from "../web/csp.ts";
import { type LocalIssuer, mintToken, requestUrl, safeDecode } from "./gateway.ts";
import { keepIdleConnections } from "./keep-alive.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".json": "application/json",
};
const USER = /^[A-Za-z0-9._@-]{1,64}$/;

export interface ConsoleTargets {
  apiUrl: string;
  s3Url: string;
  issuer: LocalIssuer;
}

export interface ConsoleServer {
  url: string;
  /** The browser origins the console runs on (the API and the ingest bucket must allow them). */
  origins: string[];
  /** Points the console at the API and storage once they are up. */
  attach(targets: ConsoleTargets): void;
  stop(): Promise<void>;
}

export async function startConsoleServer(options: { dir: string; port?: number }): Promise<ConsoleServer> {
  let targets: ConsoleTargets | undefined;
  let origins: string[] = [];
  const root = normalize(options.dir + sep);

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const headers = (type: string): Record<string, string> => ({
      "content-type": type,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "x-frame-options": "DENY",
      ...(targets
        ? {
            "content-security-policy": consoleCsp({
              connect: [targets.apiUrl, targets.s3Url],
              previews: [targets.s3Url],
            }),
          }
        : {}),
    });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, headers("application/json"));
      res.end(JSON.stringify(body));
    };
    if (!targets) return json(503, { message: "The local stack is still starting" });
    const url = requestUrl(req.url);
    if (!url) return json(400, { message: "Bad request: malformed URL" });

    if (url.pathname === "/config.json" && req.method === "GET") {
      return json(200, { apiUrl: targets.apiUrl, auth: { mode: "local", tokenUrl: "dev/token" } });
    }
    if (url.pathname === "/dev/token") {
      if (req.method !== "POST") return json(405, { message: "Use POST" });
      // Same-origin only: a page elsewhere cannot mint tokens through a visitor's browser.
      const origin = req.headers.origin;
      if (origin && !origins.includes(origin)) return json(403, { message: "Foreign origin" });
      let user: unknown;
      try {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        user = (JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as { user?: unknown }).user;
      } catch {
        return json(400, { message: "The request body must be JSON" });
      }
      if (typeof user !== "string" || !USER.test(user))
        return json(422, { message: "A user name is 1 to 64 letters, digits or . _ @ -" });
      return json(200, { token: await mintToken(targets.issuer, { sub: user }) });
    }
    if (req.method !== "GET" && req.method !== "HEAD") return json(405, { message: "Method not allowed" });
    const decoded = url.pathname === "/" ? "index.html" : safeDecode(url.pathname);
    if (decoded === undefined || decoded.includes("\0"))
      return json(400, { message: "Bad request: malformed percent-encoding in the path" });
    const path = normalize(join(root, decoded));
    if (!path.startsWith(root)) return json(404, { message: "Not found" });
    try {
      const body = await readFile(path);
      res.writeHead(200, headers(TYPES[extname(path)] ?? "application/octet-stream"));
      res.end(req.method === "HEAD" ? undefined : body);
    } catch {
      json(404, { message: "Not found" });
    }
  };
  const server = createServer((req, res) => {
    // Whatever a request does, it cannot take the console server down: at worst it gets a 500.
    serve(req, res).catch(() => {
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "Internal Server Error" }));
      }
    });
  });
  keepIdleConnections(server);

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  origins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  return {
    url: `http://127.0.0.1:${port}/`,
    origins,
    attach(next) {
      targets = next;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
