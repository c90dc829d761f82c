/**
 * ListParts for s3rver, which has none (`GET /bucket/key?uploadId=…` is "method not allowed"). Like the abort shim
 * in emulators.ts it runs around s3rver's router, which authenticates the request before it refuses the method:
 * the refusal therefore means a signed request, answered as S3 would from the parts s3rver stored
 * (`uploads/<uploadId>/<partNumber>` with a `.md5` beside each), in part-number order, paged by `max-parts` and
 * `part-number-marker`. An upload that does not exist, or that belongs to another key, is NoSuchUpload.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);

interface Store {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
}
type Context = {
  method: string;
  path: string;
  query: Record<string, unknown>;
  status: number;
  body: unknown;
};
type Middleware = (ctx: Context, next: () => Promise<void>) => Promise<void>;

const number = (value: unknown, fallback: number) => {
  const n = typeof value === "string" ? Number.parseInt(value, 10) : Number.NaN;
  return Number.isInteger(n) && n >= 0 ? n : fallback;
};

export function listPartsMiddleware(store: Store): Middleware {
  const S3Error = require("@20minutes/s3rver/lib/models/error.js") as new (
    code: string,
    message: string,
  ) => Error;
  const noSuchUpload = () => new S3Error("NoSuchUpload", "The specified upload does not exist.");
  return async (ctx, next) => {
    const uploadId = ctx.query.uploadId;
    if (ctx.method !== "GET" || typeof uploadId !== "string") return next();
    try {
      await next();
    } catch (error) {
      if ((error as { code?: string }).code !== "MethodNotAllowed") throw error;
      const [, rawBucket = "", ...rawKey] = ctx.path.split("/");
      const bucket = decodeURIComponent(rawBucket);
      const key = rawKey.map(decodeURIComponent).join("/");
      if (!/^[0-9a-f]+$/.test(uploadId)) throw noSuchUpload();
      const dir = join(store.getResourcePath(bucket, undefined, "uploads"), uploadId);
      if (!existsSync(dir)) throw noSuchUpload();
      if ((await readFile(join(dir, "key"), "utf8")) !== key) throw noSuchUpload();
      const marker = number(ctx.query["part-number-marker"], 0);
      const maxParts = Math.min(1000, Math.max(1, number(ctx.query["max-parts"], 1000)));
      const numbers = (await readdir(dir))
        .filter((name) => /^\d+$/.test(name))
        .map(Number)
        .filter((n) => n > marker)
        .sort((a, b) => a - b);
      const page = numbers.slice(0, maxParts);
      const parts = await Promise.all(
        page.map(async (n) => {
          const file = join(dir, String(n));
          const [info, md5] = await Promise.all([stat(file), readFile(`${file}.md5`, "utf8")]);
          return {
            PartNumber: n,
            LastModified: info.mtime.toISOString(),
            ETag: JSON.stringify(md5.trim()),
            Size: info.size,
          };
        }),
      );
      const truncated = numbers.length > page.length;
      ctx.status = 200;
      ctx.body = {
        ListPartsResult: {
          "@": { xmlns: "http://s3.amazonaws.com/doc/2006-03-01/" },
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumberMarker: marker,
          NextPartNumberMarker: page.at(-1) ?? marker,
          MaxParts: maxParts,
          IsTruncated: truncated,
          Part: parts,
        },
      };
    }
  };
}
