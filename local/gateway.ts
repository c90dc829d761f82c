/**
 * The local stand-in for API Gateway: an HTTP server on loopback that verifies bearer JWTs as the JWT
 * authorizer would (signature, issuer, audience, expiry), answers CORS preflights for the configured origins,
 * and turns each request into a payload v2 event for the same API handler that runs in Lambda.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2, Context } from "aws-lambda";
import { exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT } from "jose";
import { API_ROUTES } from "../core/http/routes.ts";
import { keepIdleConnections } from "./keep-alive.ts";

export type ApiHandler = (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

export interface LocalIssuer {
  issuer: string;
  audience: string;
  /** The signing key, so that `airlock token` can mint tokens. Local use only. */
  privateJwk: JWK;
}

export interface Gateway extends LocalIssuer {
  url: string;
  stop(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
const PATTERNS = API_ROUTES.map((routeKey) => {
  const [method, path = ""] = routeKey.split(" ");
  const names: string[] = [];
  const pattern = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  const regex = new RegExp(`^${pattern}$`);
  return { routeKey, method, regex, names };
});

function send(
  res: ServerResponse,
  status: number,
  body: string | undefined,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { ...(body ? { "content-type": "application/json" } : {}), ...headers });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return chunks.length > 0 ? Buffer.concat(chunks).toString("utf8") : undefined;
}

/** The request target as a URL; undefined when it cannot be parsed. */
/** The local stack's health, on the API port (LocalStack answers `/_localstack/health`). */
export const HEALTH_PATH = "/_airlock/health";

export function requestUrl(target: string | undefined): URL | undefined {
  try {
    const path = target ?? "/";
    return new URL(`http://localhost${path.startsWith("/") ? "" : "/"}${path}`);
  } catch {
    return undefined;
  }
}

/** decodeURIComponent that answers undefined for malformed percent-encoding instead of throwing. */
export function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

export async function startGateway(options: {
  handler: ApiHandler;
  port?: number;
  origins?: string[];
  /** `GET /_airlock/health` (no token): whether each part of the local stack answers. */
  health?: () => Promise<{ status: string }>;
  /** The issuer's private key (RS256 JWK), kept across restarts; a new one when unset. */
  signingKey?: JWK;
}): Promise<Gateway> {
  const privateJwk = options.signingKey ?? {
    ...(await exportJWK((await generateKeyPair("RS256", { extractable: true })).privateKey)),
    alg: "RS256",
    kid: "local",
  };
  const { kty, n, e } = privateJwk;
  const publicKey = await importJWK({ kty, n, e }, "RS256");
  const audience = "airlock";
  let issuer = "";
  const origins = new Set(options.origins ?? []);

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    const cors: Record<string, string> =
      origin && origins.has(origin) ? { "access-control-allow-origin": origin, vary: "Origin" } : {};
    const url = requestUrl(req.url);
    if (!url || safeDecode(url.pathname) === undefined)
      return send(res, 400, JSON.stringify({ message: "Bad request: malformed URL" }), cors);
    if (req.method === "OPTIONS") {
      const allowed = Object.keys(cors).length > 0;
      return send(
        res,
        204,
        undefined,
        allowed
          ? {
              ...cors,
              "access-control-allow-methods": "GET,POST,DELETE,OPTIONS",
              "access-control-allow-headers": "authorization,content-type",
              "access-control-max-age": "600",
            }
          : {},
      );
    }
    if (options.health && req.method === "GET" && url.pathname === HEALTH_PATH) {
      const health = await options.health();
      return send(res, health.status === "running" ? 200 : 503, JSON.stringify(health), cors);
    }
    const route = PATTERNS.map((p) => ({
      p,
      m: p.method === req.method ? p.regex.exec(url.pathname) : null,
    })).find((x) => x.m);
    if (!route?.m) return send(res, 404, JSON.stringify({ message: "Not Found" }), cors);
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    let claims: Record<string, string | number | boolean | string[]>;
    try {
      if (!token) throw new Error("no token");
      claims = (await jwtVerify(token, publicKey, { issuer, audience })).payload as typeof claims;
    } catch {
      return send(res, 401, JSON.stringify({ message: "Unauthorized" }), cors);
    }
    let body: string | undefined;
    try {
      body = await readBody(req);
    } catch {
      return send(res, 413, JSON.stringify({ message: "Request body too large" }), cors);
    }
    const decoded = route.p.names.map((n, i) => [n, safeDecode(route.m?.[i + 1] ?? "")] as const);
    if (decoded.some(([, v]) => v === undefined))
      return send(
        res,
        400,
        JSON.stringify({ message: "Bad request: malformed percent-encoding in the path" }),
        cors,
      );
    const pathParameters = Object.fromEntries(decoded) as Record<string, string>;
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : (v ?? "")]),
    );
    const now = Date.now();
    const event: APIGatewayProxyEventV2WithJWTAuthorizer = {
      version: "2.0",
      routeKey: route.p.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
      pathParameters: route.p.names.length > 0 ? pathParameters : undefined,
      body,
      isBase64Encoded: false,
      requestContext: {
        accountId: "000000000000",
        apiId: "local",
        domainName: url.host,
        domainPrefix: "local",
        requestId: randomUUID(),
        routeKey: route.p.routeKey,
        stage: "$default",
        time: new Date(now).toISOString(),
        timeEpoch: now,
        http: {
          method: req.method ?? "GET",
          path: url.pathname,
          protocol: "HTTP/1.1",
          sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
          userAgent: req.headers["user-agent"] ?? "",
        },
        authorizer: { principalId: "", integrationLatency: 0, jwt: { claims, scopes: [] } },
      },
    };
    const context = {
      functionName: "airlock-api",
      awsRequestId: event.requestContext.requestId,
      getRemainingTimeInMillis: () => 30_000,
    } as Context;
    try {
      const result = await options.handler(event, context);
      const out = typeof result === "string" ? { statusCode: 200, body: result } : result;
      send(res, out.statusCode ?? 200, out.body, {
        ...((out.headers ?? {}) as Record<string, string>),
        ...cors,
      });
    } catch {
      send(res, 500, JSON.stringify({ message: "Internal Server Error" }), cors);
    }
  };
  const server = createServer((req, res) => {
    // Whatever a request does, it cannot take the gateway down: at worst it gets a 500.
    serve(req, res).catch(() => {
      if (res.headersSent) res.destroy();
      else send(res, 500, JSON.stringify({ message: "Internal Server Error" }));
    });
  });
  keepIdleConnections(server);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  issuer = `http://127.0.0.1:${port}/local-issuer`;
  return {
    url: `http://127.0.0.1:${port}`,
    issuer,
    audience,
    privateJwk,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Mints a token from the local issuer, as an identity provider would. Local use only. */
export async function mintToken(
  issuer: LocalIssuer,
  claims: { sub: string; ttlSeconds?: number; audience?: string },
): Promise<string> {
  const key = await importJWK(issuer.privateJwk, "RS256");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "RS256", kid: issuer.privateJwk.kid })
    .setSubject(claims.sub)
    .setIssuer(issuer.issuer)
    .setAudience(claims.audience ?? issuer.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.ttlSeconds ?? 3600))
    .sign(key);
}
