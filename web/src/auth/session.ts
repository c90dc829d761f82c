/**
 * Who is signed in: the bearer token lives in this module's memory only (never localStorage, never a URL), so
 * a reload signs out. Only the PKCE verifier and state wait in sessionStorage while the browser visits the
 * identity provider, and they are removed as soon as the provider redirects back.
 */
import type { AuthConfig } from "../config.ts";
import {
  authorizeUrl,
  codeChallenge,
  discoverEndpoints,
  exchangeCode,
  jwtExpiry,
  parseCallback,
  randomToken,
  SignInError,
} from "./pkce.ts";

const PENDING_KEY = "airlock.signin";

export class Session {
  private token?: string;
  private expiresAt?: number;
  user = "";

  set(token: string): void {
    this.token = token;
    this.expiresAt = jwtExpiry(token);
    this.user = displayName(token);
  }

  /** The token while it is valid (with a little margin for clock skew). */
  get(): string | undefined {
    if (!this.token) return undefined;
    if (this.expiresAt !== undefined && this.expiresAt * 1000 < Date.now() + 5_000) return undefined;
    return this.token;
  }

  clear(): void {
    this.token = undefined;
    this.expiresAt = undefined;
    this.user = "";
  }
}

function displayName(token: string): string {
  try {
    const payload = token.split(".")[1] ?? "";
    const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    for (const key of ["email", "preferred_username", "cognito:username", "sub"])
      if (typeof claims[key] === "string") return claims[key] as string;
  } catch {
    // An opaque token: nothing to show.
  }
  return "signed in";
}

/** The local stack's dev sign-in: a token for any user name, minted by the stack's own issuer. */
export async function localSignIn(tokenUrl: string, user: string): Promise<string> {
  const res = await fetch(tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user }),
  });
  const json = (await res.json().catch(() => ({}))) as { token?: string; message?: string };
  if (!res.ok || !json.token) throw new SignInError(json.message ?? `Sign-in failed (${res.status})`);
  return json.token;
}

type OidcConfig = Extract<AuthConfig, { mode: "oidc" }>;

export function redirectUri(): string {
  return `${location.origin}${location.pathname}`;
}

/** Sends the browser to the identity provider's sign-in page. */
export async function startOidcSignIn(auth: OidcConfig): Promise<void> {
  const endpoints = await discoverEndpoints(auth.issuer, auth);
  const verifier = randomToken(48);
  const state = randomToken(16);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state }));
  location.assign(
    authorizeUrl({
      authorizationEndpoint: endpoints.authorizationEndpoint,
      clientId: auth.clientId,
      redirectUri: redirectUri(),
      scope: auth.scope ?? "openid email",
      state,
      challenge: await codeChallenge(verifier),
    }),
  );
}

/** On the provider's redirect back: the token, with the code removed from the address bar. */
export async function completeOidcSignIn(auth: OidcConfig): Promise<string | undefined> {
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? "{}") as {
    verifier?: string;
    state?: string;
  };
  let code: string | undefined;
  try {
    code = parseCallback(location.href, pending.state);
  } finally {
    if (new URL(location.href).searchParams.has("state")) {
      sessionStorage.removeItem(PENDING_KEY);
      history.replaceState(null, "", redirectUri());
    }
  }
  if (!code || !pending.verifier) return undefined;
  const endpoints = await discoverEndpoints(auth.issuer, auth);
  const tokens = await exchangeCode({
    tokenEndpoint: endpoints.tokenEndpoint,
    clientId: auth.clientId,
    code,
    redirectUri: redirectUri(),
    verifier: pending.verifier,
  });
  const token = auth.token === "access" ? tokens.access_token : (tokens.id_token ?? tokens.access_token);
  return token;
}
