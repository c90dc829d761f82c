/**
 * The local stack's S3: the operations Airlock, its CLI, console and tests use, with what S3 enforces on them.
 * Every request is SigV4-verified (header, presigned URL, or POST policy signature); POST policies are checked
 * condition by condition; keys are literal; both buckets are versioned (version ids, delete markers, reads and
 * copies by version); copies, puts and deletes honour their preconditions (412); bad requests get S3's 4xx.
 * ListParts is served too (the console resumes uploads with it). Anything else answers 501 NotImplemented rather than something S3 would not do.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import busboy from "busboy";
import { XMLParser } from "fast-xml-parser";
import { keepIdleConnections } from "../keep-alive.ts";
import type { S3EventRecordLike } from "../s3-events.ts";
import { errorXml, notImplemented, preconditionFailed, S3Error, toXml, type XmlNode } from "./errors.ts";
import { checkPostPolicy } from "./post-policy.ts";
import { type SecretLookup, UNSIGNED_PAYLOAD, verifyPostSignature, verifyRequest } from "./sigv4.ts";
import {
  type Blob,
  type ChecksumAlgorithm,
  type Entry,
  etagMatches,
  type ObjectAttributes,
  type StoredEvent,
  type Version,
  VersionedStore,
} from "./store.ts";

export interface LocalS3Options {
  dataDir: string;
  /** Keep the index in a journal in `dataDir` and restore it at start (see store.ts). */
  persistent?: boolean;
  buckets: string[];
  /** Browser origins each bucket answers CORS for (POST and PUT, ETag exposed). */
  cors?: Record<string, string[]>;
  credentials: { accessKeyId: string; secretAccessKey: string }[];
  region: string;
  port?: number;
  now?: () => Date;
}

export interface LocalS3 {
  url: string;
  store: VersionedStore;
  /** Each commit's event, with the store's number for it (`store.delivered(seq)` once handed on). */
  onEvent(listener: (record: S3EventRecordLike, seq: number) => void): void;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;
const MAX_OBJECT_BYTES = 5 * 1024 * MiB;
const MIN_PART_BYTES = 5 * MiB;
const MAX_XML_BYTES = MiB;
const MAX_KEY_BYTES = 1024;
const MAX_METADATA_BYTES = 2 * 1024;
const STORED_HEADERS = [
  "cache-control",
  "content-disposition",
  "content-encoding",
  "content-language",
  "expires",
];
const RESPONSE_OVERRIDES: Record<string, string> = {
  "response-cache-control": "cache-control",
  "response-content-disposition": "content-disposition",
  "response-content-encoding": "content-encoding",
  "response-content-language": "content-language",
  "response-content-type": "content-type",
  "response-expires": "expires",
};
const CHECKSUM_HEADERS: Record<string, ChecksumAlgorithm> = {
  "x-amz-checksum-sha256": "SHA256",
  "x-amz-checksum-sha1": "SHA1",
  "x-amz-checksum-crc32": "CRC32",
};

const xmlParser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  isArray: (name) => ["Part", "Tag", "Object"].includes(name),
});

function strictDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new S3Error("InvalidURI", "Couldn't parse the specified URI.");
  }
}

/** S3's canonical URI encoding: everything but RFC 3986 unreserved characters, per segment. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

interface Target {
  rawPath: string;
  canonicalPath: string;
  bucket?: string;
  key?: string;
  query: [string, string][];
}

function parseTarget(url: string): Target {
  if (!url.startsWith("/")) throw new S3Error("InvalidURI", "Couldn't parse the specified URI.");
  const q = url.indexOf("?");
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? "" : url.slice(q + 1);
  const segments = rawPath.split("/").map(strictDecode);
  const canonicalPath = segments.map(rfc3986).join("/");
  const query: [string, string][] = rawQuery
    .split("&")
    .filter((p) => p.length > 0)
    .map((pair) => {
      const eq = pair.indexOf("=");
      const k = eq < 0 ? pair : pair.slice(0, eq);
      const v = eq < 0 ? "" : pair.slice(eq + 1);
      return [strictDecode(k.replace(/\+/g, " ")), strictDecode(v.replace(/\+/g, " "))];
    });
  const afterSlash = rawPath.slice(1);
  const slash = afterSlash.indexOf("/");
  const bucket = strictDecode(slash < 0 ? afterSlash : afterSlash.slice(0, slash)) || undefined;
  const rawKey = slash < 0 ? "" : afterSlash.slice(slash + 1);
  const key = rawKey.length > 0 ? strictDecode(rawKey) : undefined;
  if (key !== undefined && Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES)
    throw new S3Error("KeyTooLongError", "Your key is too long");
  return { rawPath, canonicalPath, bucket, key, query };
}

function headerMap(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  return out;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  bucket: string;
  key: string;
  query: Map<string, string>;
  headers: Record<string, string>;
  payloadHash: string;
  cors: Record<string, string>;
}

const httpDate = (d: Date) => d.toUTCString();
const isoDate = (d: Date) => d.toISOString();
const unquote = (etag: string) => etag.replace(/"/g, "");

function parseHttpDate(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** Second precision, as S3 reports Last-Modified and compares If-(Un)Modified-Since. */
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

function parseTags(text: string): [string, string][] {
  const tags: [string, string][] = [];
  for (const pair of text.split("&").filter((p) => p.length > 0)) {
    const eq = pair.indexOf("=");
    const k = strictDecode((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, " "));
    const v = strictDecode((eq < 0 ? "" : pair.slice(eq + 1)).replace(/\+/g, " "));
    tags.push([k, v]);
  }
  return validateTags(tags);
}

function validateTags(tags: [string, string][]): [string, string][] {
  if (tags.length > 10) throw new S3Error("BadRequest", "Object tags cannot be greater than 10");
  const seen = new Set<string>();
  for (const [k, v] of tags) {
    if (k.length === 0 || k.length > 128 || v.length > 256 || seen.has(k))
      throw new S3Error("InvalidTag", "The TagKey or TagValue you have provided is invalid");
    seen.add(k);
  }
  return tags;
}

function attributesFrom(headers: Record<string, string>): ObjectAttributes {
  const metadata: Record<string, string> = {};
  let metadataBytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith("x-amz-meta-")) continue;
    const short = name.slice("x-amz-meta-".length);
    metadata[short] = value;
    metadataBytes += Buffer.byteLength(short) + Buffer.byteLength(value);
  }
  if (metadataBytes > MAX_METADATA_BYTES)
    throw new S3Error("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.");
  const stored: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const value = headers[name];
    if (value === undefined) continue;
    if (name === "content-encoding") {
      const encodings = value
        .split(",")
        .map((e) => e.trim())
        .filter((e) => e && e !== "aws-chunked");
      if (encodings.length > 0) stored[name] = encodings.join(",");
    } else stored[name] = value;
  }
  return {
    contentType: headers["content-type"] ?? "binary/octet-stream",
    headers: stored,
    metadata,
    tags: headers["x-amz-tagging"] !== undefined ? parseTags(headers["x-amz-tagging"]) : [],
    checksumAlgorithm: requestedChecksum(headers),
  };
}

function requestedChecksum(headers: Record<string, string>): ChecksumAlgorithm | undefined {
  for (const name of ["x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme"]) {
    if (headers[name] !== undefined) throw notImplemented();
  }
  const named = (
    headers["x-amz-checksum-algorithm"] ?? headers["x-amz-sdk-checksum-algorithm"]
  )?.toUpperCase();
  if (named !== undefined) {
    if (named !== "SHA256" && named !== "SHA1" && named !== "CRC32")
      throw new S3Error("InvalidRequest", `Checksum algorithm ${named} is not supported by the local stack`);
    return named;
  }
  for (const [name, algorithm] of Object.entries(CHECKSUM_HEADERS)) if (headers[name]) return algorithm;
  return undefined;
}

/** Content-MD5 and x-amz-checksum-* a write declared must match the bytes received. */
function checkDigests(headers: Record<string, string>, blob: Blob): void {
  const md5 = headers["content-md5"];
  if (md5 !== undefined) {
    const declared = Buffer.from(md5, "base64");
    if (declared.length !== 16)
      throw new S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.");
    if (declared.toString("hex") !== blob.checksums.md5)
      throw new S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.");
  }
  const actual: Record<ChecksumAlgorithm, string> = {
    SHA256: blob.checksums.sha256,
    SHA1: blob.checksums.sha1,
    CRC32: blob.checksums.crc32,
  };
  for (const [name, algorithm] of Object.entries(CHECKSUM_HEADERS)) {
    const declared = headers[name];
    if (declared !== undefined && declared !== actual[algorithm])
      throw new S3Error("BadDigest", `The ${algorithm} you specified did not match the calculated checksum.`);
  }
}

function checksumHeaders(version: Version): Record<string, string> {
  if (!version.checksumAlgorithm || version.parts) return {};
  const value = {
    SHA256: version.blob.checksums.sha256,
    SHA1: version.blob.checksums.sha1,
    CRC32: version.blob.checksums.crc32,
  }[version.checksumAlgorithm];
  return {
    [`x-amz-checksum-${version.checksumAlgorithm.toLowerCase()}`]: value,
    "x-amz-checksum-type": "FULL_OBJECT",
  };
}

/** The request body, checked against the signed payload hash and the declared length as it streams. */
async function* body(ctx: Ctx): AsyncGenerator<Uint8Array> {
  const expected = ctx.payloadHash;
  const signed = /^[0-9a-f]{64}$/.test(expected);
  if (!signed && expected !== UNSIGNED_PAYLOAD) throw notImplemented();
  const hash = signed ? createHash("sha256") : undefined;
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    hash?.update(chunk);
    yield chunk;
  }
  const declared = ctx.headers["content-length"];
  if (declared !== undefined && Number(declared) !== size)
    throw new S3Error(
      "IncompleteBody",
      "You did not provide the number of bytes specified by the Content-Length HTTP header",
    );
  if (hash && hash.digest("hex") !== expected)
    throw new S3Error(
      "XAmzContentSHA256Mismatch",
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
}

function requireLength(ctx: Ctx): void {
  const length = ctx.headers["content-length"];
  if (length === undefined)
    throw new S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.");
  if (!/^\d+$/.test(length)) throw new S3Error("InvalidArgument", "Content-Length must be a number");
  if (Number(length) > MAX_OBJECT_BYTES)
    throw new S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
}

async function readXml(ctx: Ctx): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body(ctx)) {
    size += chunk.length;
    if (size > MAX_XML_BYTES) throw new S3Error("MaxMessageLengthExceeded", "Your request was too big.");
    chunks.push(Buffer.from(chunk));
  }
  try {
    const parsed = xmlParser.parse(Buffer.concat(chunks).toString("utf8"), true) as unknown;
    if (typeof parsed !== "object" || parsed === null) throw new Error("not XML");
    return parsed as Record<string, unknown>;
  } catch {
    throw new S3Error(
      "MalformedXML",
      "The XML you provided was not well-formed or did not validate against our published schema",
    );
  }
}

function send(ctx: Ctx, status: number, headers: Record<string, string>, payload?: string): void {
  const out: Record<string, string> = { ...ctx.cors, ...headers };
  if (payload !== undefined) {
    out["content-type"] ??= "application/xml";
    out["content-length"] = String(Buffer.byteLength(payload));
  }
  ctx.res.writeHead(status, out);
  ctx.res.end(ctx.method === "HEAD" ? undefined : payload);
}

const DRAIN_BYTES = 64 * MiB;
const DRAIN_MS = 10_000;

/** Consumes the rest of a request body (up to a bound); past it the connection is closed instead. */
function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const timer = setTimeout(done, DRAIN_MS);
    function done() {
      clearTimeout(timer);
      req.off("data", onData);
      resolve();
    }
    function onData(chunk: Buffer) {
      seen += chunk.length;
      if (seen > DRAIN_BYTES) done();
    }
    req.on("data", onData);
    req.once("end", done);
    req.once("close", done);
    req.once("error", done);
    req.resume();
  });
}

/** A commit's event as the notification builder reads it (raw key, version id, sequencer). */
export function eventRecord(event: StoredEvent): S3EventRecordLike {
  return {
    eventName: event.eventName,
    s3: {
      bucket: { name: event.bucket },
      object: {
        key: event.key,
        versionId: event.versionId,
        sequencer: event.sequencer,
        ...(event.deleteMarker ? {} : { size: event.size, eTag: unquote(event.etag ?? "") }),
      },
    },
  };
}

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const store = new VersionedStore(options.dataDir, { persistent: options.persistent });
  await store.init(options.buckets);
  const now = options.now ?? (() => new Date());
  const secretsByKey = new Map(options.credentials.map((c) => [c.accessKeyId, c.secretAccessKey]));
  const secrets: SecretLookup = (id) => secretsByKey.get(id);
  const listeners: ((record: S3EventRecordLike, seq: number) => void)[] = [];
  store.onCommit((_commit, event) => {
    const record = eventRecord(event);
    for (const listener of listeners) {
      try {
        listener(record, event.seq);
      } catch (error) {
        console.error("local S3: an event listener failed", error);
      }
    }
  });

  // ---------------------------------------------------------------- objects

  async function getObject(ctx: Ctx): Promise<void> {
    if (ctx.query.has("partNumber")) throw notImplemented();
    const version = store.resolve(ctx.bucket, ctx.key, ctx.query.get("versionId"));
    const { headers } = ctx;
    const modified = seconds(version.lastModified);
    const tag = { etag: version.etag, "last-modified": httpDate(version.lastModified) };
    if (headers["if-match"] !== undefined && !etagMatches(headers["if-match"], version.etag))
      throw preconditionFailed("If-Match");
    const unmodifiedSince = parseHttpDate(headers["if-unmodified-since"]);
    if (headers["if-match"] === undefined && unmodifiedSince && modified > seconds(unmodifiedSince))
      throw preconditionFailed("If-Unmodified-Since");
    if (headers["if-none-match"] !== undefined && etagMatches(headers["if-none-match"], version.etag))
      return send(ctx, 304, tag);
    const modifiedSince = parseHttpDate(headers["if-modified-since"]);
    if (headers["if-none-match"] === undefined && modifiedSince && modified <= seconds(modifiedSince))
      return send(ctx, 304, tag);

    const size = version.blob.size;
    let range: { start: number; end: number } | undefined;
    const rangeHeader = headers.range;
    const m = rangeHeader ? /^bytes=(\d*)-(\d*)$/.exec(rangeHeader.trim()) : null;
    if (m && (m[1] !== "" || m[2] !== "")) {
      let start: number;
      let end: number;
      if (m[1] === "") {
        start = Math.max(0, size - Number(m[2]));
        end = size - 1;
      } else {
        start = Number(m[1]);
        end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
      }
      if (start >= size || start > end) {
        throw new S3Error("InvalidRange", "The requested range is not satisfiable", {
          fields: { RangeRequested: rangeHeader ?? "", ActualObjectSize: String(size) },
        });
      }
      range = { start, end };
    }
    const out: Record<string, string> = {
      ...tag,
      "accept-ranges": "bytes",
      "content-type": version.contentType,
      "x-amz-version-id": version.versionId,
      ...version.headers,
    };
    for (const [name, value] of Object.entries(version.metadata)) out[`x-amz-meta-${name}`] = value;
    if (version.tags.length > 0) out["x-amz-tagging-count"] = String(version.tags.length);
    if (version.parts) out["x-amz-mp-parts-count"] = String(version.parts);
    if (!range && headers["x-amz-checksum-mode"]?.toUpperCase() === "ENABLED")
      Object.assign(out, checksumHeaders(version));
    for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
      const value = ctx.query.get(param);
      if (value !== undefined) out[header] = value;
    }
    if (range) {
      out["content-range"] = `bytes ${range.start}-${range.end}/${size}`;
      out["content-length"] = String(range.end - range.start + 1);
    } else out["content-length"] = String(size);
    ctx.res.writeHead(range ? 206 : 200, { ...ctx.cors, ...out });
    if (ctx.method === "HEAD" || size === 0) {
      ctx.res.end();
      return;
    }
    const stream = store.read(version.blob, range);
    await new Promise<void>((resolve) => {
      stream.on("error", () => {
        // The version was deleted while being read: the response cannot be completed.
        ctx.res.destroy();
        resolve();
      });
      ctx.res.on("close", () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(ctx.res);
    });
  }

  async function putObject(ctx: Ctx): Promise<void> {
    requireLength(ctx);
    const attributes = attributesFrom(ctx.headers);
    const blob = await store.writeBlob(body(ctx));
    try {
      checkDigests(ctx.headers, blob);
    } catch (error) {
      await store.discard(blob);
      throw error;
    }
    const version = await store.commit(ctx.bucket, ctx.key, blob, attributes, {
      conditions: { ifMatch: ctx.headers["if-match"], ifNoneMatch: ctx.headers["if-none-match"] },
      eventName: "ObjectCreated:Put",
    });
    send(ctx, 200, {
      etag: version.etag,
      "x-amz-version-id": version.versionId,
      ...checksumHeaders(version),
    });
  }

  interface CopySource {
    version: Version;
    bucket: string;
    key: string;
  }

  /** Resolves x-amz-copy-source and checks the x-amz-copy-source-if-* preconditions on that version. */
  function copySource(ctx: Ctx): CopySource {
    const raw = ctx.headers["x-amz-copy-source"] ?? "";
    const q = raw.indexOf("?");
    const path = strictDecode((q < 0 ? raw : raw.slice(0, q)).replace(/^\//, ""));
    let versionId: string | undefined;
    if (q >= 0) {
      for (const pair of raw.slice(q + 1).split("&")) {
        const [k = "", v = ""] = pair.split("=");
        if (k === "versionId") versionId = strictDecode(v);
        else if (k) throw new S3Error("InvalidArgument", "x-amz-copy-source may only carry a versionId");
      }
    }
    const slash = path.indexOf("/");
    if (slash <= 0 || slash === path.length - 1)
      throw new S3Error(
        "InvalidArgument",
        "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
      );
    const bucket = path.slice(0, slash);
    const key = path.slice(slash + 1);
    if (!store.hasBucket(bucket)) throw new S3Error("NoSuchBucket", "The specified bucket does not exist");
    let version: Version;
    try {
      version = store.resolve(bucket, key, versionId);
    } catch (error) {
      if (error instanceof S3Error && error.code === "MethodNotAllowed")
        throw new S3Error(
          "InvalidRequest",
          "The source of a copy request may not specifically refer to a delete marker by version id.",
        );
      throw error;
    }
    const h = ctx.headers;
    const modified = seconds(version.lastModified);
    const ifMatch = h["x-amz-copy-source-if-match"];
    const ifNoneMatch = h["x-amz-copy-source-if-none-match"];
    const unmodifiedSince = parseHttpDate(h["x-amz-copy-source-if-unmodified-since"]);
    const modifiedSince = parseHttpDate(h["x-amz-copy-source-if-modified-since"]);
    if (ifMatch !== undefined && !etagMatches(ifMatch, version.etag))
      throw preconditionFailed("x-amz-copy-source-If-Match");
    if (ifMatch === undefined && unmodifiedSince && modified > seconds(unmodifiedSince))
      throw preconditionFailed("x-amz-copy-source-If-Unmodified-Since");
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, version.etag))
      throw preconditionFailed("x-amz-copy-source-If-None-Match");
    if (ifNoneMatch === undefined && modifiedSince && modified <= seconds(modifiedSince))
      throw preconditionFailed("x-amz-copy-source-If-Modified-Since");
    return { version, bucket, key };
  }

  /** A second name for the source version's bytes; a version deleted meanwhile is gone (404). */
  async function cloneSource(source: CopySource): Promise<Blob> {
    try {
      return await store.cloneBlob(source.version.blob);
    } catch {
      throw new S3Error("NoSuchKey", "The specified key does not exist.", { fields: { Key: source.key } });
    }
  }

  async function copyObject(ctx: Ctx): Promise<void> {
    const source = copySource(ctx);
    const src = source.version;
    const metadataDirective = (ctx.headers["x-amz-metadata-directive"] ?? "COPY").toUpperCase();
    const taggingDirective = (ctx.headers["x-amz-tagging-directive"] ?? "COPY").toUpperCase();
    if (!["COPY", "REPLACE"].includes(metadataDirective) || !["COPY", "REPLACE"].includes(taggingDirective))
      throw new S3Error("InvalidArgument", "Unknown metadata or tagging directive");
    const requested = requestedChecksum(ctx.headers);
    if (
      source.bucket === ctx.bucket &&
      source.key === ctx.key &&
      metadataDirective === "COPY" &&
      requested === undefined
    ) {
      throw new S3Error(
        "InvalidRequest",
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    const replaced = metadataDirective === "REPLACE" ? attributesFrom(ctx.headers) : undefined;
    const attributes: ObjectAttributes = {
      contentType: replaced?.contentType ?? src.contentType,
      headers: replaced?.headers ?? { ...src.headers },
      metadata: replaced?.metadata ?? { ...src.metadata },
      tags:
        taggingDirective === "REPLACE"
          ? ctx.headers["x-amz-tagging"] !== undefined
            ? parseTags(ctx.headers["x-amz-tagging"])
            : []
          : [...src.tags],
      checksumAlgorithm: requested ?? src.checksumAlgorithm,
    };
    const blob = await cloneSource(source);
    const version = await store.commit(ctx.bucket, ctx.key, blob, attributes, {
      conditions: { ifMatch: ctx.headers["if-match"], ifNoneMatch: ctx.headers["if-none-match"] },
      eventName: "ObjectCreated:Copy",
    });
    const checksums = checksumHeaders(version);
    const checksum = version.checksumAlgorithm
      ? { [`Checksum${version.checksumAlgorithm}`]: Object.values(checksums)[0] }
      : {};
    send(
      ctx,
      200,
      { "x-amz-version-id": version.versionId, "x-amz-copy-source-version-id": src.versionId },
      toXml("CopyObjectResult", {
        LastModified: isoDate(version.lastModified),
        ETag: version.etag,
        ...checksum,
      }),
    );
  }

  async function putObjectTagging(ctx: Ctx): Promise<void> {
    const version = store.resolve(ctx.bucket, ctx.key, ctx.query.get("versionId"));
    const xml = await readXml(ctx);
    const tagSet = (xml.Tagging as { TagSet?: { Tag?: { Key?: unknown; Value?: unknown }[] } } | undefined)
      ?.TagSet;
    if (!xml.Tagging) throw new S3Error("MalformedXML", "The XML you provided was not well-formed");
    const tags = validateTags(
      (tagSet?.Tag ?? []).map((t) => {
        if (typeof t.Key !== "string") throw new S3Error("MalformedXML", "Each tag needs a Key");
        return [t.Key, typeof t.Value === "string" ? t.Value : ""] as [string, string];
      }),
    );
    // Re-resolved: the version may have been deleted while the body was read.
    const still = store.resolve(ctx.bucket, ctx.key, version.versionId);
    store.setTags(still, tags);
    send(ctx, 200, { "x-amz-version-id": still.versionId });
  }

  function getObjectTagging(ctx: Ctx): void {
    const version = store.resolve(ctx.bucket, ctx.key, ctx.query.get("versionId"));
    send(
      ctx,
      200,
      { "x-amz-version-id": version.versionId },
      toXml("Tagging", { TagSet: { Tag: version.tags.map(([Key, Value]) => ({ Key, Value })) } }),
    );
  }

  async function deleteObject(ctx: Ctx): Promise<void> {
    const result = await store.delete(ctx.bucket, ctx.key, {
      versionId: ctx.query.get("versionId"),
      ifMatch: ctx.headers["if-match"],
    });
    send(ctx, 204, {
      ...(result.versionId ? { "x-amz-version-id": result.versionId } : {}),
      ...(result.deleteMarker ? { "x-amz-delete-marker": "true" } : {}),
    });
  }

  // -------------------------------------------------------------- multipart

  function createMultipartUpload(ctx: Ctx): void {
    const upload = store.createUpload(ctx.bucket, ctx.key, attributesFrom(ctx.headers));
    send(
      ctx,
      200,
      {},
      toXml("InitiateMultipartUploadResult", { Bucket: ctx.bucket, Key: ctx.key, UploadId: upload.uploadId }),
    );
  }

  function partNumber(ctx: Ctx): number {
    const text = ctx.query.get("partNumber") ?? "";
    const n = Number(text);
    if (!/^\d{1,5}$/.test(text) || n < 1 || n > 10_000)
      throw new S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
    return n;
  }

  async function uploadPart(ctx: Ctx): Promise<void> {
    const number = partNumber(ctx);
    const upload = store.upload(ctx.bucket, ctx.key, ctx.query.get("uploadId") ?? "");
    if (ctx.headers["x-amz-copy-source"] !== undefined) {
      const source = copySource(ctx);
      const size = source.version.blob.size;
      let range = { start: 0, end: size - 1 };
      const rangeHeader = ctx.headers["x-amz-copy-source-range"];
      if (rangeHeader !== undefined) {
        const m = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader);
        if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) >= size)
          throw new S3Error(
            "InvalidArgument",
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
          );
        range = { start: Number(m[1]), end: Number(m[2]) };
      }
      let blob: Blob;
      try {
        blob =
          size === 0
            ? await store.writeBlob((async function* () {})())
            : await store.writeBlob(store.read(source.version.blob, range) as AsyncIterable<Uint8Array>);
      } catch {
        throw new S3Error("NoSuchKey", "The specified key does not exist.", { fields: { Key: source.key } });
      }
      const part = await store.putPart(upload, number, blob);
      return send(
        ctx,
        200,
        { "x-amz-copy-source-version-id": source.version.versionId },
        toXml("CopyPartResult", { LastModified: isoDate(part.lastModified), ETag: part.etag }),
      );
    }
    requireLength(ctx);
    const blob = await store.writeBlob(body(ctx));
    try {
      checkDigests(ctx.headers, blob);
    } catch (error) {
      await store.discard(blob);
      throw error;
    }
    const part = await store.putPart(upload, number, blob);
    send(ctx, 200, { etag: part.etag });
  }

  /** ListParts: the stored parts of an open upload in part-number order, paged by max-parts and the marker. */
  function listParts(ctx: Ctx): void {
    const upload = store.upload(ctx.bucket, ctx.key, ctx.query.get("uploadId") ?? "");
    const count = (name: string, fallback: number) => {
      const text = ctx.query.get(name);
      if (text === undefined) return fallback;
      if (!/^\d{1,5}$/.test(text))
        throw new S3Error("InvalidArgument", `${name} must be a non-negative integer`);
      return Number(text);
    };
    const marker = count("part-number-marker", 0);
    const maxParts = Math.min(1000, Math.max(1, count("max-parts", 1000)));
    const after = [...upload.parts.values()]
      .filter((part) => part.partNumber > marker)
      .sort((a, b) => a.partNumber - b.partNumber);
    const page = after.slice(0, maxParts);
    const truncated = after.length > page.length;
    send(
      ctx,
      200,
      {},
      toXml("ListPartsResult", {
        Bucket: ctx.bucket,
        Key: ctx.key,
        UploadId: upload.uploadId,
        PartNumberMarker: String(marker),
        NextPartNumberMarker: String(page.at(-1)?.partNumber ?? marker),
        MaxParts: String(maxParts),
        IsTruncated: String(truncated),
        Part: page.map((part) => ({
          PartNumber: String(part.partNumber),
          LastModified: isoDate(part.lastModified),
          ETag: part.etag,
          Size: String(part.blob.size),
        })),
      }),
    );
  }

  async function completeMultipartUpload(ctx: Ctx): Promise<void> {
    const upload = store.upload(ctx.bucket, ctx.key, ctx.query.get("uploadId") ?? "");
    const xml = await readXml(ctx);
    const listed = (
      xml.CompleteMultipartUpload as { Part?: { PartNumber?: unknown; ETag?: unknown }[] } | undefined
    )?.Part;
    if (!listed || listed.length === 0)
      throw new S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
      );
    const invalidPart = () =>
      new S3Error(
        "InvalidPart",
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      );
    const parts = listed.map((p) => {
      const n = Number(p.PartNumber);
      if (typeof p.PartNumber !== "string" || !Number.isInteger(n) || typeof p.ETag !== "string")
        throw invalidPart();
      return { number: n, etag: p.ETag };
    });
    for (let i = 1; i < parts.length; i++) {
      if ((parts[i]?.number ?? 0) <= (parts[i - 1]?.number ?? 0))
        throw new S3Error(
          "InvalidPartOrder",
          "The list of parts was not in ascending order. The parts list must be specified in order of the part number.",
        );
    }
    const stored = parts.map((p) => {
      const part = upload.parts.get(p.number);
      if (!part || !etagMatches(p.etag, part.etag)) throw invalidPart();
      return part;
    });
    stored.forEach((part, i) => {
      if (i < stored.length - 1 && part.blob.size < MIN_PART_BYTES)
        throw new S3Error(
          "EntityTooSmall",
          "Your proposed upload is smaller than the minimum allowed object size.",
        );
    });
    // Re-checked after the body was read: a concurrent complete or abort may have won.
    store.upload(ctx.bucket, ctx.key, upload.uploadId);
    store.beginComplete(upload);
    let done = false;
    try {
      const blob = await store.concat(stored.map((p) => p.blob));
      const md5s = Buffer.concat(stored.map((p) => Buffer.from(unquote(p.etag), "hex")));
      const etag = `"${createHash("md5").update(md5s).digest("hex")}-${stored.length}"`;
      const version = await store.commit(ctx.bucket, ctx.key, blob, upload.attributes, {
        conditions: { ifMatch: ctx.headers["if-match"], ifNoneMatch: ctx.headers["if-none-match"] },
        eventName: "ObjectCreated:CompleteMultipartUpload",
        etag,
        parts: stored.length,
        upload: upload.uploadId,
      });
      done = true;
      send(
        ctx,
        200,
        { "x-amz-version-id": version.versionId },
        toXml("CompleteMultipartUploadResult", {
          Location: `/${ctx.bucket}/${ctx.key}`,
          Bucket: ctx.bucket,
          Key: ctx.key,
          ETag: version.etag,
        }),
      );
    } finally {
      await store.endComplete(upload, done);
    }
  }

  async function abortMultipartUpload(ctx: Ctx): Promise<void> {
    const upload = store.upload(ctx.bucket, ctx.key, ctx.query.get("uploadId") ?? "");
    await store.abortUpload(upload);
    send(ctx, 204, {});
  }

  // ---------------------------------------------------------------- buckets

  function maxKeys(ctx: Ctx): number {
    const text = ctx.query.get("max-keys");
    if (text === undefined) return 1000;
    if (!/^\d+$/.test(text))
      throw new S3Error("InvalidArgument", "Provided max-keys not an integer or within integer range");
    return Math.min(1000, Number(text));
  }

  function listObjects(ctx: Ctx, v2: boolean): void {
    const prefix = ctx.query.get("prefix") ?? "";
    const delimiter = ctx.query.get("delimiter") ?? "";
    const limit = maxKeys(ctx);
    const urlEncode = ctx.query.get("encoding-type") === "url";
    const enc = (s: string) => (urlEncode ? rfc3986(s).replace(/%2F/g, "/") : s);
    const token = ctx.query.get("continuation-token");
    let after = v2 ? (ctx.query.get("start-after") ?? "") : (ctx.query.get("marker") ?? "");
    if (v2 && token !== undefined) {
      after = Buffer.from(token, "base64url").toString("utf8");
      if (after.length === 0)
        throw new S3Error("InvalidArgument", "The continuation token provided is incorrect");
    }
    const afterBytes = Buffer.from(after, "utf8");
    const contents: XmlNode[] = [];
    const prefixes: string[] = [];
    let truncated = false;
    let last = "";
    for (const [key, entries] of store.sortedKeys(ctx.bucket, prefix)) {
      if (after && Buffer.compare(Buffer.from(key, "utf8"), afterBytes) <= 0) continue;
      // A page that ended on a common prefix resumes after every key under it.
      if (delimiter && after.endsWith(delimiter) && after.startsWith(prefix) && key.startsWith(after))
        continue;
      const current = entries[entries.length - 1];
      if (!current || current.deleteMarker) continue;
      let rolled: string | undefined;
      if (delimiter) {
        const i = key.indexOf(delimiter, prefix.length);
        if (i >= 0) rolled = key.slice(0, i + delimiter.length);
      }
      if (rolled !== undefined && prefixes[prefixes.length - 1] === rolled) continue;
      if (contents.length + prefixes.length >= limit) {
        truncated = true;
        break;
      }
      if (rolled !== undefined) {
        prefixes.push(rolled);
        last = rolled;
        // Skip the rest of this common prefix by moving the cursor past it.
        continue;
      }
      contents.push({
        Key: enc(key),
        LastModified: isoDate(current.lastModified),
        ETag: current.etag,
        Size: current.blob.size,
        StorageClass: "STANDARD",
      });
      last = key;
    }
    const common = prefixes.map((p) => ({ Prefix: enc(p) }));
    const base: XmlNode = {
      Name: ctx.bucket,
      Prefix: enc(prefix),
      ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
      MaxKeys: limit,
      ...(urlEncode ? { EncodingType: "url" } : {}),
      IsTruncated: truncated,
    };
    const body = v2
      ? {
          ...base,
          KeyCount: contents.length + common.length,
          ...(token !== undefined ? { ContinuationToken: token } : {}),
          ...(truncated ? { NextContinuationToken: Buffer.from(last, "utf8").toString("base64url") } : {}),
          ...(ctx.query.has("start-after") ? { StartAfter: enc(ctx.query.get("start-after") ?? "") } : {}),
          Contents: contents,
          CommonPrefixes: common,
        }
      : {
          ...base,
          Marker: enc(ctx.query.get("marker") ?? ""),
          ...(truncated && delimiter ? { NextMarker: enc(last) } : {}),
          Contents: contents,
          CommonPrefixes: common,
        };
    send(ctx, 200, {}, toXml("ListBucketResult", body));
  }

  function listObjectVersions(ctx: Ctx): void {
    const prefix = ctx.query.get("prefix") ?? "";
    const delimiter = ctx.query.get("delimiter") ?? "";
    const limit = maxKeys(ctx);
    const keyMarker = ctx.query.get("key-marker") ?? "";
    const versionMarker = ctx.query.get("version-id-marker");
    const keyMarkerBytes = Buffer.from(keyMarker, "utf8");
    const versions: XmlNode[] = [];
    const markers: XmlNode[] = [];
    const prefixes: string[] = [];
    let truncated = false;
    let next: { key: string; versionId?: string } | undefined;
    let count = 0;
    outer: for (const [key, entries] of store.sortedKeys(ctx.bucket, prefix)) {
      const cmp = keyMarker ? Buffer.compare(Buffer.from(key, "utf8"), keyMarkerBytes) : 1;
      if (cmp < 0 || (cmp === 0 && versionMarker === undefined)) continue;
      if (delimiter) {
        const i = key.indexOf(delimiter, prefix.length);
        if (i >= 0) {
          const rolled = key.slice(0, i + delimiter.length);
          if (prefixes[prefixes.length - 1] !== rolled) {
            if (count >= limit) {
              truncated = true;
              break;
            }
            prefixes.push(rolled);
            count++;
            next = { key: rolled };
          }
          continue;
        }
      }
      const newestFirst = [...entries].reverse();
      let start = 0;
      if (cmp === 0 && versionMarker !== undefined) {
        start = newestFirst.findIndex((e) => e.versionId === versionMarker) + 1;
        if (start === 0) continue;
      }
      for (let i = start; i < newestFirst.length; i++) {
        const entry = newestFirst[i] as Entry;
        if (count >= limit) {
          truncated = true;
          break outer;
        }
        const common = {
          Key: key,
          VersionId: entry.versionId,
          IsLatest: i === 0,
          LastModified: isoDate(entry.lastModified),
        };
        if (entry.deleteMarker) markers.push(common);
        else versions.push({ ...common, ETag: entry.etag, Size: entry.blob.size, StorageClass: "STANDARD" });
        count++;
        next = { key, versionId: entry.versionId };
      }
    }
    send(
      ctx,
      200,
      {},
      toXml("ListVersionsResult", {
        Name: ctx.bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        VersionIdMarker: versionMarker ?? "",
        ...(delimiter ? { Delimiter: delimiter } : {}),
        MaxKeys: limit,
        IsTruncated: truncated,
        ...(truncated && next
          ? { NextKeyMarker: next.key, ...(next.versionId ? { NextVersionIdMarker: next.versionId } : {}) }
          : {}),
        Version: versions,
        DeleteMarker: markers,
        CommonPrefixes: prefixes.map((p) => ({ Prefix: p })),
      }),
    );
  }

  // ----------------------------------------------------------- browser POST

  async function postObject(ctx: Ctx): Promise<void> {
    const type = ctx.headers["content-type"] ?? "";
    if (!/^multipart\/form-data/i.test(type))
      throw new S3Error(
        "PreconditionFailed",
        "Bucket POST must be of the enclosure-type multipart/form-data",
        {
          fields: { Condition: "Bucket POST must be of the enclosure-type multipart/form-data" },
        },
      );
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: ctx.req.headers,
        limits: { fieldNameSize: 1024, fieldSize: 20 * 1024, fields: 200, files: 1, parts: 201 },
      });
    } catch {
      throw new S3Error(
        "MalformedPOSTRequest",
        "The body of your POST request is not well-formed multipart/form-data.",
      );
    }
    const fields = new Map<string, string>();
    const original = new Map<string, string>();
    let failure: S3Error | undefined;
    const fail = (error: S3Error) => {
      failure ??= error;
    };
    let fileSeen = false;
    const finished = new Promise<void>((resolve) => {
      parser.on("close", resolve);
      parser.on("error", () => {
        fail(
          new S3Error(
            "MalformedPOSTRequest",
            "The body of your POST request is not well-formed multipart/form-data.",
          ),
        );
        resolve();
      });
    });
    parser.on("fieldsLimit", () =>
      fail(new S3Error("MalformedPOSTRequest", "Your POST request has too many fields.")),
    );
    parser.on("partsLimit", () =>
      fail(new S3Error("MalformedPOSTRequest", "Your POST request has too many parts.")),
    );
    parser.on("filesLimit", () =>
      fail(new S3Error("InvalidArgument", "POST requires exactly one file upload per request.")),
    );
    parser.on("field", (name, value, info) => {
      if (fileSeen) return; // S3 ignores fields after the file
      if (info.nameTruncated || info.valueTruncated)
        return fail(new S3Error("MalformedPOSTRequest", `The form field ${name} is too long.`));
      const lower = name.toLowerCase();
      if (fields.has(lower))
        return fail(new S3Error("InvalidArgument", `The form field ${name} appears more than once.`));
      fields.set(lower, value);
      original.set(lower, name);
    });
    const upload = new Promise<{ version?: Version; key?: string }>((resolve) => {
      parser.on("file", (name, stream, info) => {
        if (fileSeen || name.toLowerCase() !== "file") {
          stream.resume();
          if (name.toLowerCase() !== "file")
            fail(new S3Error("InvalidArgument", `Unexpected file field ${name}`));
          return;
        }
        fileSeen = true;
        handleFile(stream, info.filename ?? "").then(resolve, (error: unknown) => {
          stream.resume();
          fail(
            error instanceof S3Error
              ? error
              : new S3Error("InternalError", "We encountered an internal error."),
          );
          resolve({});
        });
      });
      // No file at all: nothing to wait for once the form has been read.
      finished.then(() => {
        if (!fileSeen) resolve({});
      });
    });

    async function handleFile(stream: NodeJS.ReadableStream, filename: string) {
      if (failure) throw failure;
      const keyTemplate = fields.get("key");
      if (keyTemplate === undefined)
        throw new S3Error(
          "InvalidArgument",
          "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
        );
      // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal placeholder for the file's name
      const key = keyTemplate.replaceAll("${filename}", filename);
      if (key.length === 0 || Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES)
        throw new S3Error("KeyTooLongError", "Your key is too long");
      fields.set("key", key);
      await verifyPostSignature(
        {
          algorithm: fields.get("x-amz-algorithm"),
          credential: fields.get("x-amz-credential"),
          date: fields.get("x-amz-date"),
          signature: fields.get("x-amz-signature"),
          policy: fields.get("policy"),
        },
        { secrets, region: options.region, now: now() },
      );
      const range = checkPostPolicy(fields.get("policy") ?? "", fields, ctx.bucket, now());
      const headers: Record<string, string> = {};
      for (const [name, value] of fields) {
        if (name.startsWith("x-amz-meta-") || STORED_HEADERS.includes(name) || name === "content-type")
          headers[name] = value;
      }
      const attributes = attributesFrom(headers);
      const tagging = fields.get("tagging");
      if (tagging !== undefined) attributes.tags = parseTaggingXml(tagging);
      const tooLarge = () =>
        new S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", {
          fields: { MaxSizeAllowed: String(range.max) },
        });
      const blob = await store.writeBlob(stream as AsyncIterable<Uint8Array>, {
        maxBytes: Math.min(range.max, MAX_OBJECT_BYTES),
        tooLarge,
      });
      if (blob.size < range.min) {
        await store.discard(blob);
        throw new S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", {
          fields: { MinSizeAllowed: String(range.min) },
        });
      }
      if (failure) {
        await store.discard(blob);
        throw failure;
      }
      const version = await store.commit(ctx.bucket, key, blob, attributes, {
        eventName: "ObjectCreated:Post",
      });
      return { version, key };
    }

    ctx.req.pipe(parser);
    const result = await upload;
    if (failure) {
      // Refused mid-form: answer now; the rest of the body is drained and the connection closed.
      ctx.req.unpipe(parser);
      throw failure;
    }
    await finished;
    if (failure) throw failure;
    if (!result.version || !result.key)
      throw new S3Error("InvalidArgument", "POST requires exactly one file upload per request.");
    const { version, key } = result;
    const location = `/${ctx.bucket}/${key.split("/").map(rfc3986).join("/")}`;
    const headers = { etag: version.etag, location, "x-amz-version-id": version.versionId };
    const redirect = fields.get("success_action_redirect");
    if (redirect) {
      const target = `${redirect}${redirect.includes("?") ? "&" : "?"}bucket=${rfc3986(ctx.bucket)}&key=${rfc3986(key)}&etag=${rfc3986(version.etag)}`;
      return send(ctx, 303, { ...headers, location: target });
    }
    const status = fields.get("success_action_status");
    if (status === "201")
      return send(
        ctx,
        201,
        headers,
        toXml("PostResponse", { Location: location, Bucket: ctx.bucket, Key: key, ETag: version.etag }),
      );
    send(ctx, status === "200" ? 200 : 204, headers);
  }

  function parseTaggingXml(text: string): [string, string][] {
    try {
      const xml = xmlParser.parse(text, true) as {
        Tagging?: { TagSet?: { Tag?: { Key?: unknown; Value?: unknown }[] } };
      };
      return validateTags(
        (xml.Tagging?.TagSet?.Tag ?? []).map(
          (t) => [String(t.Key ?? ""), String(t.Value ?? "")] as [string, string],
        ),
      );
    } catch (error) {
      if (error instanceof S3Error) throw error;
      throw new S3Error("MalformedXML", "The tagging field is not well-formed XML");
    }
  }

  // ---------------------------------------------------------------- routing

  function corsFor(bucket: string | undefined, origin: string | undefined): Record<string, string> {
    if (!bucket || !origin) return {};
    if (!(options.cors?.[bucket] ?? []).includes(origin)) return {};
    return { "access-control-allow-origin": origin, "access-control-expose-headers": "ETag", vary: "Origin" };
  }

  function preflight(ctx: Ctx, target: Target): void {
    const origin = ctx.headers.origin;
    const method = ctx.headers["access-control-request-method"];
    if (!origin || !method)
      throw new S3Error("BadRequest", "Insufficient information. Origin request header needed.");
    const origins = target.bucket ? (options.cors?.[target.bucket] ?? []) : [];
    if (origins.length === 0)
      throw new S3Error("AccessDenied", "CORSResponse: CORS is not enabled for this bucket.");
    if (!origins.includes(origin) || !["POST", "PUT"].includes(method))
      throw new S3Error("AccessDenied", "CORSResponse: This CORS request is not allowed.");
    send(ctx, 200, {
      "access-control-allow-origin": origin,
      "access-control-allow-methods": "POST, PUT",
      ...(ctx.headers["access-control-request-headers"]
        ? { "access-control-allow-headers": ctx.headers["access-control-request-headers"] }
        : {}),
      "access-control-expose-headers": "ETag",
      "access-control-max-age": "600",
      vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    });
  }

  const SUBRESOURCES = [
    "acl",
    "attributes",
    "cors",
    "delete",
    "encryption",
    "legal-hold",
    "lifecycle",
    "list-type",
    "location",
    "notification",
    "object-lock",
    "policy",
    "restore",
    "retention",
    "select",
    "tagging",
    "uploadId",
    "uploads",
    "versioning",
    "versions",
    "website",
  ];

  async function dispatch(ctx: Ctx, target: Target): Promise<void> {
    const has = (name: string) => ctx.query.has(name);
    const sub = SUBRESOURCES.filter(has);
    if (target.bucket === undefined) {
      if (ctx.method !== "GET") throw notImplemented();
      return send(
        ctx,
        200,
        {},
        toXml("ListAllMyBucketsResult", {
          Owner: { ID: "local", DisplayName: "local" },
          Buckets: {
            Bucket: store.bucketNames().map((b) => ({ Name: b.name, CreationDate: isoDate(b.created) })),
          },
        }),
      );
    }
    if (ctx.method === "PUT" && target.key === undefined && sub.length === 0) {
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(target.bucket))
        throw new S3Error("InvalidBucketName", "The specified bucket is not valid.");
      if (!store.createBucket(target.bucket))
        throw new S3Error(
          "BucketAlreadyOwnedByYou",
          "Your previous request to create the named bucket succeeded and you already own it.",
        );
      return send(ctx, 200, { location: `/${target.bucket}` });
    }
    if (!store.hasBucket(target.bucket))
      throw new S3Error("NoSuchBucket", "The specified bucket does not exist", {
        fields: { BucketName: target.bucket },
      });
    const m = ctx.method;
    if (target.key === undefined) {
      if (m === "HEAD" && sub.length === 0) return send(ctx, 200, { "x-amz-bucket-region": options.region });
      if (m === "GET") {
        if (sub.length === 0) return listObjects(ctx, false);
        if (sub.length === 1 && has("list-type")) {
          if (ctx.query.get("list-type") !== "2") throw new S3Error("InvalidArgument", "Invalid list type");
          return listObjects(ctx, true);
        }
        if (sub.length === 1 && has("versions")) return listObjectVersions(ctx);
        if (sub.length === 1 && has("location")) return send(ctx, 200, {}, toXml("LocationConstraint", {}));
        if (sub.length === 1 && has("versioning"))
          return send(ctx, 200, {}, toXml("VersioningConfiguration", { Status: "Enabled" }));
      }
      if (m === "POST" && ctx.query.size === 0) return postObject(ctx);
      throw notImplemented();
    }
    if (sub.length > 1)
      throw new S3Error("InvalidArgument", `Conflicting query string parameters: ${sub.join(", ")}`);
    const [only] = sub;
    if (m === "GET" || m === "HEAD") {
      if (only === undefined) return getObject(ctx);
      if (only === "tagging" && m === "GET") return getObjectTagging(ctx);
      if (only === "uploadId" && m === "GET") return listParts(ctx);
    }
    if (m === "PUT") {
      if (only === undefined)
        return ctx.headers["x-amz-copy-source"] !== undefined ? copyObject(ctx) : putObject(ctx);
      if (only === "uploadId") return uploadPart(ctx);
      if (only === "tagging") return putObjectTagging(ctx);
    }
    if (m === "POST") {
      if (only === "uploads") return createMultipartUpload(ctx);
      if (only === "uploadId") return completeMultipartUpload(ctx);
    }
    if (m === "DELETE") {
      if (only === undefined) return deleteObject(ctx);
      if (only === "uploadId") return abortMultipartUpload(ctx);
      if (only === "tagging") {
        const version = store.resolve(ctx.bucket, ctx.key, ctx.query.get("versionId"));
        store.setTags(version, []);
        return send(ctx, 204, { "x-amz-version-id": version.versionId });
      }
    }
    throw notImplemented();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomBytes(8).toString("hex").toUpperCase();
    res.setHeader("x-amz-request-id", requestId);
    const headers = headerMap(req);
    const ctx: Ctx = {
      req,
      res,
      method: req.method ?? "GET",
      bucket: "",
      key: "",
      query: new Map(),
      headers,
      payloadHash: UNSIGNED_PAYLOAD,
      cors: {},
    };
    let resource = "/";
    try {
      const target = parseTarget(req.url ?? "/");
      resource = target.rawPath;
      ctx.bucket = target.bucket ?? "";
      ctx.key = target.key ?? "";
      ctx.query = new Map(target.query);
      ctx.cors = corsFor(target.bucket, headers.origin);
      if (ctx.method === "OPTIONS") {
        ctx.cors = {};
        return preflight(ctx, target);
      }
      const browserPost = ctx.method === "POST" && target.key === undefined && target.query.length === 0;
      if (!browserPost) {
        const verified = await verifyRequest(
          { method: ctx.method, path: target.canonicalPath, query: target.query, headers },
          { secrets, region: options.region, now: now() },
        );
        ctx.payloadHash = verified.payloadHash;
      }
      await dispatch(ctx, target);
    } catch (error) {
      // The client went away mid-request: nobody to answer, nothing to report.
      if ((error as { code?: string }).code === "ECONNRESET" || req.errored || res.destroyed) {
        res.destroy();
        return;
      }
      const s3Error =
        error instanceof S3Error
          ? error
          : new S3Error("InternalError", "We encountered an internal error. Please try again.");
      if (!(error instanceof S3Error)) console.error("local S3: internal error", error);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // Read what is left of a refused upload before answering, so the client sees the answer, not a reset.
      if (!req.complete) await drain(req);
      const payload = errorXml(s3Error, resource, requestId);
      res.writeHead(s3Error.status, {
        ...ctx.cors,
        ...(s3Error.extra.headers ?? {}),
        "content-type": "application/xml",
        "content-length": String(Buffer.byteLength(payload)),
        // An unread body cannot be left on a kept-alive connection.
        ...(req.complete ? {} : { connection: "close" }),
      });
      res.end(ctx.method === "HEAD" ? undefined : payload);
      if (!req.complete) req.resume();
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error("local S3: request failed", error);
      res.destroy();
    });
  });
  keepIdleConnections(server);
  server.on("clientError", (_error, socket) => {
    if (socket.writable)
      socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    onEvent: (listener) => listeners.push(listener),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          store.close();
          resolve();
        });
      }),
  };
}
