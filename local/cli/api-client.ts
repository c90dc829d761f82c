/**
 * Every call the CLI makes to Airlock's HTTP API, with typed answers. A bearer token on each call; on a 401 the
 * token source gets one chance to renew (client credentials) before the call fails. Errors carry the server's
 * own message and whether trying again could help (network trouble, 429, 5xx).
 */

import type {
  CompleteResult,
  FileList,
  FileView,
  UploadPlan,
  UploadRequest,
} from "../../core/contract/api.ts";

// The answers' shapes are the server's own, from the one contract module.
export type {
  FileList,
  FileView,
  MultipartUpload,
  PostUpload,
  UploadPlan,
  UploadRequest,
} from "../../core/contract/api.ts";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Where bearer tokens come from: a fixed one, or one fetched (and renewed) with client credentials. */
export interface TokenSource {
  token(): Promise<string>;
  /** Called after a 401: true when a fresh token is worth a second try. */
  renew(): Promise<boolean>;
}

export function fixedToken(token: string): TokenSource {
  return { token: async () => token, renew: async () => false };
}

/** The OAuth 2.0 client credentials grant (RFC 6749 §4.4), for machines: no browser, no refresh token. */
export function clientCredentials(options: {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
}): TokenSource {
  let current: { token: string; expiresAt: number } | undefined;
  const fetchToken = async () => {
    const body = new URLSearchParams({ grant_type: "client_credentials" });
    if (options.scope) body.set("scope", options.scope);
    let res: Response;
    try {
      res = await fetch(options.tokenUrl, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString("base64")}`,
        },
        body,
      });
    } catch {
      throw new ApiError(0, `The token endpoint ${options.tokenUrl} cannot be reached`, true);
    }
    const json = (await res.json().catch(() => ({}))) as {
      access_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
      error_description?: unknown;
    };
    if (!res.ok || typeof json.access_token !== "string") {
      const why = typeof json.error_description === "string" ? json.error_description : json.error;
      throw new ApiError(
        res.status,
        `The token endpoint refused the client credentials (${res.status}${why ? `: ${String(why)}` : ""})`,
        res.status >= 500 || res.status === 429,
      );
    }
    const ttl = typeof json.expires_in === "number" ? json.expires_in : 300;
    // Renew a minute early (or at half life for short tokens) so no request leaves with a token about to expire.
    current = { token: json.access_token, expiresAt: Date.now() + Math.max(ttl / 2, ttl - 60) * 1000 };
    return current.token;
  };
  return {
    async token() {
      if (current && Date.now() < current.expiresAt) return current.token;
      return fetchToken();
    },
    async renew() {
      current = undefined;
      return true;
    },
  };
}

export class AirlockApi {
  constructor(
    readonly baseUrl: string,
    private readonly tokens: TokenSource,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown, renewed = false): Promise<T> {
    const token = await this.tokens.token();
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl.replace(/\/$/, "")}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, `The API at ${this.baseUrl} cannot be reached`, true);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.status === 401 && !renewed && (await this.tokens.renew())) {
      return this.call(method, path, body, true);
    }
    if (!res.ok) {
      const message = (json as { message?: unknown } | undefined)?.message;
      const text =
        res.status === 401
          ? "The API refused the token (401): it is missing, expired or for another audience"
          : typeof message === "string" && message !== ""
            ? message
            : `The API answered ${res.status}`;
      throw new ApiError(res.status, text, res.status === 429 || res.status >= 500 || res.status === 408);
    }
    return json as T;
  }

  presign(request: UploadRequest): Promise<UploadPlan> {
    return this.call("POST", "/uploads", request);
  }

  complete(fileId: string, parts: { partNumber: number; etag: string }[]): Promise<CompleteResult> {
    return this.call("POST", `/uploads/${encodeURIComponent(fileId)}/complete`, { parts });
  }

  abort(fileId: string): Promise<void> {
    return this.call("DELETE", `/uploads/${encodeURIComponent(fileId)}`);
  }

  list(query: { status?: string; type?: string; cursor?: string; limit?: number }): Promise<FileList> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, String(v));
    return this.call("GET", `/files?${params}`);
  }

  get(fileId: string): Promise<FileView> {
    return this.call("GET", `/files/${encodeURIComponent(fileId)}`);
  }
}
