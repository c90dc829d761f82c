/**
 * The HTTP API as the console calls it: bearer token on every call, JSON in and out, and the server's own
 * message (`{"message": …}`) carried by ApiError so the page can show it word for word.
 */

/** A file as the API shows it; a DELETED file is only its id, name, status and dates. */
export interface FileView {
  fileId: string;
  name?: string;
  status: string;
  reasons?: string[];
  size?: number;
  sha256?: string;
  detectedType?: { id: string; mime: string; ext: string };
  stages?: Record<string, unknown>;
  createdAt?: string;
  updatedAt?: string;
  decidedAt?: string;
  deletedAt?: string;
  [field: string]: unknown;
}

export interface PostUpload {
  method: "POST";
  url: string;
  fields: Record<string, string>;
}
export interface MultipartUpload {
  method: "MULTIPART";
  uploadId: string;
  partSize: number;
  /** Each URL is signed for exactly `size` bytes (its Content-Length). */
  parts: { partNumber: number; size: number; url: string }[];
}
/** What the server accepts, from `GET /uploads/policy`. */
export interface UploadPolicy {
  maxSizeBytes: number;
  multipartThresholdBytes: number;
  types: { id: string; contentType: string; extensions: string[] }[];
  /** The same in words: "PDF, images (PNG, …) and ZIP archives, up to 100 MiB each". */
  description: string;
}

/** An open multipart upload as `GET /uploads/{id}/parts` shows it: `parts` are the ones still to send. */
export interface ResumePlan {
  fileId: string;
  key: string;
  expiresAt: string;
  upload: MultipartUpload & { uploaded: { partNumber: number; size: number; etag: string }[] };
}

export interface UploadPlan {
  fileId: string;
  key: string;
  expiresAt: string;
  upload: PostUpload | MultipartUpload;
}

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
  presign(request: { filename: string; contentType: string; size: number }): Promise<UploadPlan> {
    return this.call("POST", "/uploads", request);
  }
  complete(fileId: string, parts: { partNumber: number; etag: string }[]): Promise<{ fileId: string }> {
    return this.call("POST", `/uploads/${encodeURIComponent(fileId)}/complete`, { parts });
  }
  abort(fileId: string): Promise<void> {
    return this.call("DELETE", `/uploads/${encodeURIComponent(fileId)}`);
  }
  list(query: { status?: string; type?: string; cursor?: string; limit?: number }) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, String(v));
    return this.call<{ files: FileView[]; nextCursor: string | null }>("GET", `/files?${params}`);
  }
  get(fileId: string): Promise<FileView> {
    return this.call("GET", `/files/${encodeURIComponent(fileId)}`);
  }
  downloadUrl(fileId: string, inline = false): Promise<{ url: string; expiresAt: string }> {
    return this.call("GET", `/files/${encodeURIComponent(fileId)}/download${inline ? "?inline=1" : ""}`);
  }
  remove(fileId: string): Promise<void> {
    return this.call("DELETE", `/files/${encodeURIComponent(fileId)}`);
  }
}
