/**
 * The HTTP API as the console calls it: bearer token on every call, JSON in and out, and the server's own
 * message (`{"message": …}`) carried by ApiError so the page can show it word for word.
 */

import type {
  CompleteResult,
  DownloadLink,
  FileList,
  FileView,
  ResumePlan,
  UploadPlan,
  UploadPolicy,
  UploadRequest,
} from "../../core/contract/api.ts";

// The answers' shapes are the server's own (one contract module); only types are imported, so no schema code
// reaches the bundle.
export type {
  FileView,
  MultipartUpload,
  PostUpload,
  ResumePlan,
  UploadPlan,
  UploadPolicy,
} from "../../core/contract/api.ts";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The server's stable code, when it gave one (`name-colon`, `name-extension-mismatch`, …). */
    readonly code?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly token: () => string | undefined,
    private readonly onUnauthorized: () => void = () => {},
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = this.token();
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "The API cannot be reached; check your connection and try again");
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      if (res.status === 401) this.onUnauthorized();
      const { message, code } = (json ?? {}) as { message?: unknown; code?: unknown };
      throw new ApiError(
        res.status,
        typeof message === "string" && message !== "" ? message : `The API answered ${res.status}`,
        typeof code === "string" ? code : undefined,
      );
    }
    return json as T;
  }

  policy(): Promise<UploadPolicy> {
    return this.call("GET", "/uploads/policy");
  }
  parts(fileId: string): Promise<ResumePlan> {
    return this.call("GET", `/uploads/${encodeURIComponent(fileId)}/parts`);
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
  list(query: { status?: string; type?: string; cursor?: string; limit?: number }) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, String(v));
    return this.call<FileList>("GET", `/files?${params}`);
  }
  get(fileId: string): Promise<FileView> {
    return this.call("GET", `/files/${encodeURIComponent(fileId)}`);
  }
  downloadUrl(fileId: string, inline = false): Promise<DownloadLink> {
    return this.call("GET", `/files/${encodeURIComponent(fileId)}/download${inline ? "?inline=1" : ""}`);
  }
  remove(fileId: string): Promise<void> {
    return this.call("DELETE", `/files/${encodeURIComponent(fileId)}`);
  }
}
