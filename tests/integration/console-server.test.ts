/**
 * The local console server over HTTP: static files with the security headers, config.json pointing at the
 * API, and the dev sign-in that mints tokens the local gateway accepts — for well-formed names, same origin only.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleServer, startConsoleServer } from "../../local/console.ts";

let server: ConsoleServer;
let publicKey: Awaited<ReturnType<typeof generateKeyPair>>["publicKey"];
const issuer = { issuer: "http://127.0.0.1:1/local-issuer", audience: "airlock" };

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), "airlock-console-test-"));
  await writeFile(join(dir, "index.html"), "<!doctype html><title>console</title>");
  await writeFile(join(dir, "app.js"), "export {};");
  const pair = await generateKeyPair("RS256", { extractable: true });
  publicKey = pair.publicKey;
  server = await startConsoleServer({ dir });
  server.attach({
    apiUrl: "http://127.0.0.1:4569",
    s3Url: "http://127.0.0.1:4567",
    issuer: { ...issuer, privateJwk: { ...(await exportJWK(pair.privateKey)), alg: "RS256", kid: "local" } },
  });
});
afterAll(() => server?.stop());

const token = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(new URL("dev/token", server.url), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("Local console server", () => {
  it("serves the page with CSP, nosniff, no referrer and no framing", async () => {
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' http://127.0.0.1:4569 http://127.0.0.1:4567");
    expect((await fetch(new URL("app.js", server.url))).headers.get("content-type")).toContain("javascript");
  });

  it("does not serve files outside its directory", async () => {
    // A raw request: fetch would normalise the dots away before sending.
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(server.url);
      request({ host: url.hostname, port: url.port, path: "/..%2f..%2f..%2fetc%2fpasswd" }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on("error", reject)
        .end();
    });
    expect(status).toBe(404);
  });

  it("points the console at the API with the local sign-in", async () => {
    expect(await (await fetch(new URL("config.json", server.url))).json()).toEqual({
      apiUrl: "http://127.0.0.1:4569",
      auth: { mode: "local", tokenUrl: "dev/token" },
    });
  });

  it("mints a token for the user name from the local issuer", async () => {
    const res = await token({ user: "alice@example.com" }, { origin: server.origins[0] ?? "" });
    expect(res.status).toBe(200);
    const { token: jwt } = (await res.json()) as { token: string };
    const { payload } = await jwtVerify(jwt, publicKey, issuer);
    expect(payload.sub).toBe("alice@example.com");
  });

  it.each([[{}], [{ user: "" }], [{ user: "a b" }], [{ user: "x".repeat(65) }], [{ user: 42 }]])(
    "refuses the user name in %j",
    async (body) => {
      const res = await token(body);
      expect(res.status).toBe(422);
      expect(((await res.json()) as { message: string }).message).toContain("user name");
    },
  );

  it("refuses a request from another origin, a GET and a body that is not JSON", async () => {
    expect((await token({ user: "alice" }, { origin: "https://evil.example" })).status).toBe(403);
    expect((await fetch(new URL("dev/token", server.url))).status).toBe(405);
    expect((await token("{not json")).status).toBe(400);
  });
});
