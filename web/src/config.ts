/**
 * The console's runtime configuration, fetched from `config.json` next to the page: where the API is and how
 * to sign in. The local stack serves it with its dev sign-in; the Pulumi component writes it for the stack.
 */

export type AuthConfig =
  | {
      /** The local stack only: a form that asks the stack to mint a token from its local issuer. */
      mode: "local";
      tokenUrl: string;
    }
  | {
      /** Any OIDC provider (Cognito hosted UI included): authorization code with PKCE. */
      mode: "oidc";
      issuer: string;
      clientId: string;
      scope?: string;
      /** Override discovery (`<issuer>/.well-known/openid-configuration`). */
      authorizationEndpoint?: string;
      tokenEndpoint?: string;
      /** Which token the API's JWT authorizer accepts; `id` by default (its audience is the client id). */
      token?: "id" | "access";
    };

export interface ConsoleConfig {
  apiUrl: string;
  auth: AuthConfig;
}

function text(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") throw new Error(`config.json: ${name} is missing`);
  return value;
}

/** Checks the shape of a parsed `config.json`; throws naming the first field that is wrong. */
export function parseConfig(raw: unknown): ConsoleConfig {
  const config = (raw ?? {}) as Record<string, unknown>;
  const auth = (config.auth ?? {}) as Record<string, unknown>;
  const apiUrl = text(config.apiUrl, "apiUrl").replace(/\/+$/, "");
  if (auth.mode === "local")
    return { apiUrl, auth: { mode: "local", tokenUrl: text(auth.tokenUrl, "auth.tokenUrl") } };
  if (auth.mode === "oidc") {
    const optional = (key: string) =>
      typeof auth[key] === "string" && auth[key] !== "" ? (auth[key] as string) : undefined;
    const token = optional("token");
    if (token !== undefined && token !== "id" && token !== "access")
      throw new Error('config.json: auth.token must be "id" or "access"');
    return {
      apiUrl,
      auth: {
        mode: "oidc",
        issuer: text(auth.issuer, "auth.issuer").replace(/\/+$/, ""),
        clientId: text(auth.clientId, "auth.clientId"),
        scope: optional("scope"),
        authorizationEndpoint: optional("authorizationEndpoint"),
        tokenEndpoint: optional("tokenEndpoint"),
        token,
      },
    };
  }
  throw new Error('config.json: auth.mode must be "local" or "oidc"');
}
