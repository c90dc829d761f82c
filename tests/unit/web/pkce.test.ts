import { describe, expect, it } from "vitest";
import {
  authorizeUrl,
  base64Url,
  codeChallenge,
  discoverEndpoints,
  exchangeCode,
  jwtExpiry,
  parseCallback,
  randomToken,
  SignInError,
} from "../../../web/src/auth/pkce.ts";

/** A fetch that answers from a table and records what it was asked. */
function fakeFetch(answers: Record<string, { status: number; body: unknown }>) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const fetcher = (async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    const answer = answers[url];
    if (!answer) return new Response("not found", { status: 404 });
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  }) as unknown as typeof fetch;
  return { fetcher, calls };
}

describe("Function: codeChallenge", () => {
  it("matches the S256 example of RFC 7636 appendix B", async () => {
    expect(await codeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
  });

  it("refuses a verifier that is too short or has reserved characters", async () => {
    await expect(codeChallenge("short")).rejects.toThrow("43 to 128");
    await expect(codeChallenge(`${"a".repeat(43)}+`)).rejects.toThrow("43 to 128");
  });
});

describe("Function: randomToken", () => {
  it("makes distinct base64url verifiers of the right length", () => {
    const a = randomToken();
    const b = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(randomToken(96)).toHaveLength(128);
  });

  it("encodes without padding or URL-unsafe characters", () => {
    expect(base64Url(new Uint8Array([251, 255, 191]))).toBe("-_-_");
    expect(base64Url(new Uint8Array([1]))).toBe("AQ");
  });
});

describe("Function: authorizeUrl", () => {
  it("asks for a code with the S256 challenge and the state", () => {
    const url = new URL(
      authorizeUrl({
        authorizationEndpoint: "https://auth.example.com/oauth2/authorize?lang=en",
        clientId: "client-1",
        redirectUri: "https://console.example.com/",
        scope: "openid email",
        state: "s-1",
        challenge: "c-1",
      }),
    );
    expect(url.origin + url.pathname).toBe("https://auth.example.com/oauth2/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      lang: "en",
      response_type: "code",
      client_id: "client-1",
      redirect_uri: "https://console.example.com/",
      scope: "openid email",
      state: "s-1",
      code_challenge: "c-1",
      code_challenge_method: "S256",
    });
  });
});

describe("Function: parseCallback", () => {
  it("returns the code when the state is this tab's", () => {
    expect(parseCallback("https://c.example/?code=abc&state=s-1", "s-1")).toBe("abc");
  });

  it("ignores a page load that is not a callback", () => {
    expect(parseCallback("https://c.example/", "s-1")).toBeUndefined();
  });

  it("refuses a callback with another state or none expected", () => {
    expect(() => parseCallback("https://c.example/?code=abc&state=evil", "s-1")).toThrow(SignInError);
    expect(() => parseCallback("https://c.example/?code=abc&state=s-1", undefined)).toThrow(
      "does not belong",
    );
  });

  it("reports the provider's refusal", () => {
    expect(() =>
      parseCallback(
        "https://c.example/?error=access_denied&error_description=User+cancelled&state=s-1",
        "s-1",
      ),
    ).toThrow("Sign-in refused: User cancelled");
  });
});

describe("Function: discoverEndpoints", () => {
  it("reads the issuer's discovery document", async () => {
    const { fetcher, calls } = fakeFetch({
      "https://idp.example.com/pool/.well-known/openid-configuration": {
        status: 200,
        body: {
          authorization_endpoint: "https://login.example.com/authorize",
          token_endpoint: "https://login.example.com/token",
        },
      },
    });
    expect(await discoverEndpoints("https://idp.example.com/pool/", {}, fetcher)).toEqual({
      authorizationEndpoint: "https://login.example.com/authorize",
      tokenEndpoint: "https://login.example.com/token",
    });
    expect(calls).toHaveLength(1);
  });

  it("does not fetch when both endpoints are configured", async () => {
    const { fetcher, calls } = fakeFetch({});
    const given = { authorizationEndpoint: "https://a/authorize", tokenEndpoint: "https://a/token" };
    expect(await discoverEndpoints("https://idp", given, fetcher)).toEqual(given);
    expect(calls).toHaveLength(0);
  });

  it("fails clearly when discovery fails or names no endpoints", async () => {
    await expect(discoverEndpoints("https://idp", {}, fakeFetch({}).fetcher)).rejects.toThrow("answered 404");
    const empty = fakeFetch({ "https://idp/.well-known/openid-configuration": { status: 200, body: {} } });
    await expect(discoverEndpoints("https://idp", {}, empty.fetcher)).rejects.toThrow("names no");
  });
});

describe("Function: exchangeCode", () => {
  const options = {
    tokenEndpoint: "https://login.example.com/token",
    clientId: "client-1",
    code: "abc",
    redirectUri: "https://console.example.com/",
    verifier: "v".repeat(43),
  };

  it("posts the code with the verifier, form-encoded, and returns the tokens", async () => {
    const { fetcher, calls } = fakeFetch({
      [options.tokenEndpoint]: {
        status: 200,
        body: { access_token: "at", id_token: "it", expires_in: 3600 },
      },
    });
    expect(await exchangeCode(options, fetcher)).toMatchObject({ access_token: "at", id_token: "it" });
    const init = calls[0]?.init;
    expect(init?.method).toBe("POST");
    expect((init?.headers as Record<string, string> | undefined)?.["content-type"]).toBe(
      "application/x-www-form-urlencoded",
    );
    expect(Object.fromEntries(new URLSearchParams(String(init?.body)))).toEqual({
      grant_type: "authorization_code",
      client_id: "client-1",
      code: "abc",
      redirect_uri: "https://console.example.com/",
      code_verifier: options.verifier,
    });
  });

  it("reports the provider's error", async () => {
    const { fetcher } = fakeFetch({
      [options.tokenEndpoint]: {
        status: 400,
        body: { error: "invalid_grant", error_description: "PKCE check failed" },
      },
    });
    await expect(exchangeCode(options, fetcher)).rejects.toThrow("Sign-in failed: PKCE check failed");
  });
});

describe("Function: jwtExpiry", () => {
  it("reads exp from a JWT payload and nothing from an opaque token", () => {
    const payload = base64Url(new TextEncoder().encode(JSON.stringify({ sub: "a", exp: 1_900_000_000 })));
    expect(jwtExpiry(`h.${payload}.s`)).toBe(1_900_000_000);
    expect(jwtExpiry("opaque")).toBeUndefined();
    expect(jwtExpiry("h.!!!.s")).toBeUndefined();
  });
});
