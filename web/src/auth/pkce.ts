/**
 * OAuth 2.0 authorization code flow with PKCE (RFC 7636) for a public browser client: a random verifier and
 * state, the S256 challenge, the authorize URL, the callback check and the token exchange. Written out rather
 * than taken from an OIDC library because the whole flow is these few functions over Web Crypto and fetch.
 */

export interface OidcEndpoints {
  authorizationEndpoint: string;
  tokenEndpoint: string;
}

export interface TokenResponse {
  access_token: string;
  id_token?: string;
  expires_in?: number;
  token_type?: string;
}

/** base64url without padding (RFC 4648 §5), as PKCE and JWTs use. */
export function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A high-entropy random string of unreserved characters: 32 random bytes give 43 characters. */
export function randomToken(bytes = 32): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The S256 code challenge: base64url(SHA-256(ASCII(verifier))). */
export async function codeChallenge(verifier: string): Promise<string> {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier))
    throw new Error("A PKCE verifier is 43 to 128 unreserved characters");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

export function authorizeUrl(options: {
  authorizationEndpoint: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string;
  challenge: string;
}): string {
  const url = new URL(options.authorizationEndpoint);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", options.clientId);
  url.searchParams.set("redirect_uri", options.redirectUri);
  url.searchParams.set("scope", options.scope);
  url.searchParams.set("state", options.state);
  url.searchParams.set("code_challenge", options.challenge);
  url.searchParams.set("code_challenge_method", "S256");
  return url.toString();
}

export class SignInError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignInError";
  }
}

/**
 * Reads the provider's redirect back: the code when the state matches what this tab sent, undefined when the
 * URL is not a callback at all, an error otherwise (a forged or replayed callback, or the provider's refusal).
 */
export function parseCallback(href: string, expectedState: string | undefined): string | undefined {
  const params = new URL(href).searchParams;
  const error = params.get("error");
  const code = params.get("code");
  if (!error && !code) return undefined;
  if (!expectedState || params.get("state") !== expectedState)
    throw new SignInError("The sign-in response does not belong to this tab; please sign in again");
  if (error) throw new SignInError(`Sign-in refused: ${params.get("error_description") ?? error}`);
  return code ?? undefined;
}

/** Finds the endpoints in the issuer's discovery document unless both are given. */
export async function discoverEndpoints(
  issuer: string,
  given: Partial<OidcEndpoints>,
  fetcher: typeof fetch = fetch,
): Promise<OidcEndpoints> {
  if (given.authorizationEndpoint && given.tokenEndpoint)
    return { authorizationEndpoint: given.authorizationEndpoint, tokenEndpoint: given.tokenEndpoint };
  const res = await fetcher(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`);
  if (!res.ok) throw new SignInError(`The identity provider's discovery document answered ${res.status}`);
  const doc = (await res.json()) as { authorization_endpoint?: string; token_endpoint?: string };
  const authorizationEndpoint = given.authorizationEndpoint ?? doc.authorization_endpoint;
  const tokenEndpoint = given.tokenEndpoint ?? doc.token_endpoint;
  if (!authorizationEndpoint || !tokenEndpoint)
    throw new SignInError(
      "The identity provider's discovery document names no authorization or token endpoint",
    );
  return { authorizationEndpoint, tokenEndpoint };
}

/** Trades the code for tokens (form-encoded POST, the verifier proves this tab started the flow). */
export async function exchangeCode(
  options: { tokenEndpoint: string; clientId: string; code: string; redirectUri: string; verifier: string },
  fetcher: typeof fetch = fetch,
): Promise<TokenResponse> {
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    client_id: options.clientId,
    code: options.code,
    redirect_uri: options.redirectUri,
    code_verifier: options.verifier,
  });
  const res = await fetcher(options.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
  const json = (await res.json().catch(() => ({}))) as Partial<TokenResponse> & {
    error?: string;
    error_description?: string;
  };
  if (!res.ok || !json.access_token)
    throw new SignInError(
      `Sign-in failed: ${json.error_description ?? json.error ?? `status ${res.status}`}`,
    );
  return json as TokenResponse;
}

/** Seconds since the epoch at which a JWT expires, read without verifying it (the API verifies). */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp : undefined;
  } catch {
    return undefined;
  }
}
