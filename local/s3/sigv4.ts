/**
 * Signature Version 4 verification for the local S3: header-signed requests, presigned URLs and POST-policy
 * signatures. Nothing is re-derived by hand: each signature is recomputed by the AWS SDK's own signer
 * (`@smithy/signature-v4`) from what the request says it signed, and compared in constant time.
 */
import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { accessDenied, S3Error } from "./errors.ts";

/** The Node digest behind the signer (the SDK's own `@smithy/hash-node` does the same). */
class Sha256 {
  private hash: Hash | Hmac;
  private readonly secret?: string | ArrayBuffer | ArrayBufferView;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.secret = secret;
    this.hash = this.create();
  }
  private create(): Hash | Hmac {
    if (this.secret === undefined) return createHash("sha256");
    const key =
      typeof this.secret === "string"
        ? this.secret
        : ArrayBuffer.isView(this.secret)
          ? Buffer.from(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength)
          : Buffer.from(this.secret);
    return createHmac("sha256", key);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(
      typeof data === "string"
        ? Buffer.from(data, "utf8")
        : ArrayBuffer.isView(data)
          ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
          : Buffer.from(data),
    );
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.create();
  }
}

export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
const AUTH_QUERY = [
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
  "X-Amz-Security-Token",
];

/** A request as S3 sees it for signing: canonical path, decoded query, lower-cased headers. */
export interface SigningRequest {
  method: string;
  /** The canonical URI: each decoded path segment re-encoded as RFC 3986 (what S3 computes). */
  path: string;
  query: [string, string][];
  headers: Record<string, string>;
}

export interface Verified {
  accessKeyId: string;
  /** What the body must hash to (hex SHA-256), or UNSIGNED-PAYLOAD / a streaming mode. */
  payloadHash: string;
}

export type SecretLookup = (accessKeyId: string) => string | undefined;

export interface VerifyOptions {
  secrets: SecretLookup;
  region: string;
  now?: Date;
}

/** `20130524T000000Z` → Date, or undefined when malformed. */
export function parseAmzDate(value: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? "");
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

interface Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

function parseCredential(value: string, region: string, malformed: string): Credential {
  const parts = value.split("/");
  if (parts.length !== 5 || parts[4] !== "aws4_request" || !/^\d{8}$/.test(parts[1] ?? ""))
    throw new S3Error(
      malformed,
      'The credential is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    );
  const [accessKeyId = "", date = "", credentialRegion = "", service = ""] = parts;
  if (credentialRegion !== region)
    throw new S3Error(
      malformed,
      `The authorization header is malformed; the region '${credentialRegion}' is wrong; expecting '${region}'`,
    );
  if (service !== "s3")
    throw new S3Error(
      malformed,
      `The authorization header is malformed; incorrect service '${service}'. This endpoint belongs to 's3'.`,
    );
  return { accessKeyId, date, region: credentialRegion, service };
}

function secretFor(credential: Credential, secrets: SecretLookup): string {
  const secret = secrets(credential.accessKeyId);
  if (secret === undefined)
    throw new S3Error(
      "InvalidAccessKeyId",
      "The AWS Access Key Id you provided does not exist in our records.",
    );
  return secret;
}

function sameSignature(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, "utf8");
  const b = Buffer.from(provided, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

const mismatch = () =>
  new S3Error(
    "SignatureDoesNotMatch",
    "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
  );

/**
 * One signer per key pair and region, kept: the SDK's signer caches the signing keys it derives (per date, region
 * and service, keyed by the credentials too), as AWS's own SDKs do, instead of four HMACs per request. The secret
 * is part of the key, so a changed secret gets a signer of its own.
 */
const signers = new Map<string, SignatureV4>();
const MAX_SIGNERS = 64;

function signer(credential: Credential, secret: string): SignatureV4 {
  const key = JSON.stringify([credential.accessKeyId, secret, credential.region]);
  let kept = signers.get(key);
  if (!kept) {
    if (signers.size >= MAX_SIGNERS) signers.clear();
    kept = newSigner(credential, secret);
    signers.set(key, kept);
  }
  return kept;
}

function newSigner(credential: Credential, secret: string): SignatureV4 {
  return new SignatureV4({
    service: "s3",
    region: credential.region,
    credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: secret },
    sha256: Sha256,
    // S3 signs the path as it is: no normalisation of `.` or `..`, no double encoding.
    uriEscapePath: false,
    applyChecksum: false,
  });
}

function queryRecord(pairs: [string, string][]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of pairs) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** Every x-amz-* header a request carries must be signed (S3 refuses the request otherwise). */
function assertAmzHeadersSigned(headers: Record<string, string>, signed: Set<string>, exempt: string[] = []) {
  const unsigned = Object.keys(headers).filter(
    (h) => h.startsWith("x-amz-") && !signed.has(h) && !exempt.includes(h),
  );
  if (unsigned.length > 0)
    throw accessDenied(
      `There were headers present in the request which were not signed: ${unsigned.join(", ")}`,
    );
}

/**
 * The headers the client said it signed, with their received values. A header the signer would skip on its own
 * (e.g. `expect`) is forced in, so that the recomputation covers exactly the client's list.
 */
function signedHeaderBag(headers: Record<string, string>, names: string[]) {
  const bag: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name];
    // A signed header that is absent cannot match: sign it as empty so the comparison fails honestly.
    bag[name] = value ?? "";
  }
  return bag;
}

async function verifyHeader(request: SigningRequest, options: VerifyOptions, now: Date): Promise<Verified> {
  const authorization = request.headers.authorization ?? "";
  const space = authorization.indexOf(" ");
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  if (algorithm !== "AWS4-HMAC-SHA256")
    throw new S3Error(
      "InvalidArgument",
      "Unsupported Authorization Type: the authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
    );
  const fields = Object.fromEntries(
    authorization
      .slice(space + 1)
      .split(",")
      .map((part) => {
        const eq = part.indexOf("=");
        return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
      }),
  ) as Record<string, string | undefined>;
  const { Credential: credentialText, SignedHeaders: signedText, Signature: signature } = fields;
  if (!credentialText || !signedText || !signature)
    throw new S3Error(
      "AuthorizationHeaderMalformed",
      "The authorization header is malformed; it must name Credential, SignedHeaders and Signature.",
    );
  const credential = parseCredential(credentialText, options.region, "AuthorizationHeaderMalformed");
  const secret = secretFor(credential, options.secrets);
  const amzDate = request.headers["x-amz-date"];
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) throw accessDenied("AWS authentication requires a valid Date or x-amz-date header");
  if (amzDate?.slice(0, 8) !== credential.date)
    throw new S3Error(
      "AuthorizationHeaderMalformed",
      `The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date: ${credential.date}.`,
    );
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS)
    throw new S3Error(
      "RequestTimeTooSkewed",
      "The difference between the request time and the current time is too large.",
    );
  const payloadHash = request.headers["x-amz-content-sha256"];
  if (!payloadHash)
    throw new S3Error("InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  const names = signedText.split(";");
  const signed = new Set(names);
  if (!signed.has("host")) throw accessDenied("The host header must be signed");
  assertAmzHeadersSigned(request.headers, signed);

  const headers = signedHeaderBag(request.headers, names);
  delete headers["x-amz-date"]; // the signer sets it from the signing date
  const unsignable = new Set<string>();
  if (!signed.has("x-amz-content-sha256")) {
    headers["x-amz-content-sha256"] = payloadHash;
    unsignable.add("x-amz-content-sha256");
  }
  const recomputed = await signer(credential, secret).sign(
    {
      method: request.method,
      protocol: "http:",
      hostname: request.headers.host ?? "",
      path: request.path,
      query: queryRecord(request.query),
      headers,
    },
    { signingDate, signableHeaders: signed, unsignableHeaders: unsignable },
  );
  const expected = /Signature=([0-9a-f]+)/.exec(recomputed.headers.authorization ?? "")?.[1] ?? "";
  if (!sameSignature(expected, signature)) throw mismatch();
  return { accessKeyId: credential.accessKeyId, payloadHash };
}

async function verifyQuery(request: SigningRequest, options: VerifyOptions, now: Date): Promise<Verified> {
  const query = new Map<string, string>();
  for (const [k, v] of request.query) {
    if (AUTH_QUERY.includes(k) && query.has(k))
      throw new S3Error("AuthorizationQueryParametersError", `${k} must appear once`);
    query.set(k, v);
  }
  if (query.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256")
    throw new S3Error(
      "AuthorizationQueryParametersError",
      'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
    );
  const credentialText = query.get("X-Amz-Credential");
  const amzDate = query.get("X-Amz-Date");
  const expiresText = query.get("X-Amz-Expires");
  const signedText = query.get("X-Amz-SignedHeaders");
  const signature = query.get("X-Amz-Signature");
  if (!credentialText || !amzDate || !expiresText || !signedText || !signature)
    throw new S3Error(
      "AuthorizationQueryParametersError",
      "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
    );
  if (query.has("X-Amz-Security-Token"))
    throw new S3Error("InvalidAccessKeyId", "Session tokens are not issued by the local stack.");
  const credential = parseCredential(credentialText, options.region, "AuthorizationQueryParametersError");
  const secret = secretFor(credential, options.secrets);
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate || amzDate.slice(0, 8) !== credential.date)
    throw new S3Error(
      "AuthorizationQueryParametersError",
      "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\" and match the credential date",
    );
  if (!/^\d{1,6}$/.test(expiresText) || Number(expiresText) > MAX_PRESIGN_SECONDS)
    throw new S3Error(
      "AuthorizationQueryParametersError",
      "X-Amz-Expires must be a number of seconds between 0 and 604800",
    );
  const expiresIn = Number(expiresText);
  if (signingDate.getTime() - now.getTime() > MAX_SKEW_MS) throw accessDenied("Request is not valid yet");
  if (now.getTime() > signingDate.getTime() + expiresIn * 1000) throw accessDenied("Request has expired");
  const names = signedText.split(";");
  const signed = new Set(names);
  if (!signed.has("host")) throw accessDenied("The host header must be signed");
  assertAmzHeadersSigned(request.headers, signed, ["x-amz-content-sha256"]);

  const headers = signedHeaderBag(request.headers, names);
  const unsignable = new Set<string>();
  // Presigned URLs sign UNSIGNED-PAYLOAD unless they say otherwise in the query.
  const payloadHash = query.get("X-Amz-Content-Sha256") ?? UNSIGNED_PAYLOAD;
  if (!signed.has("x-amz-content-sha256")) {
    headers["x-amz-content-sha256"] = payloadHash;
    unsignable.add("x-amz-content-sha256");
  }
  const rest = request.query.filter(([k]) => !AUTH_QUERY.includes(k));
  const recomputed = await signer(credential, secret).presign(
    {
      method: request.method,
      protocol: "http:",
      hostname: request.headers.host ?? "",
      path: request.path,
      query: queryRecord(rest),
      headers,
    },
    {
      signingDate,
      expiresIn,
      signableHeaders: signed,
      unsignableHeaders: unsignable,
      // Only what the client sent in the query is in the query.
      unhoistableHeaders: new Set(Object.keys(headers)),
    },
  );
  const expected = String(recomputed.query?.["X-Amz-Signature"] ?? "");
  if (!sameSignature(expected, signature)) throw mismatch();
  return { accessKeyId: credential.accessKeyId, payloadHash };
}

/**
 * Verifies a header-signed or presigned request. A request with neither is anonymous: the local buckets, like
 * Airlock's in AWS, grant anonymous callers nothing.
 */
export async function verifyRequest(request: SigningRequest, options: VerifyOptions): Promise<Verified> {
  const now = options.now ?? new Date();
  const byHeader = request.headers.authorization !== undefined;
  const byQuery = request.query.some(([k]) => k === "X-Amz-Algorithm" || k === "X-Amz-Signature");
  if (byHeader && byQuery)
    throw new S3Error(
      "InvalidArgument",
      "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
    );
  if (request.query.some(([k]) => k === "Signature" || k === "AWSAccessKeyId"))
    throw new S3Error(
      "InvalidRequest",
      "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
    );
  if (byHeader) return verifyHeader(request, options, now);
  if (byQuery) return verifyQuery(request, options, now);
  throw accessDenied("Access Denied: anonymous requests are not allowed");
}

export interface PostSignatureFields {
  algorithm?: string;
  credential?: string;
  date?: string;
  signature?: string;
  policy?: string;
}

/** Verifies a browser-upload form's signature over its base64 policy; returns the signer's access key id. */
export async function verifyPostSignature(
  form: PostSignatureFields,
  options: VerifyOptions,
): Promise<string> {
  if (form.signature === undefined && form.policy === undefined)
    throw accessDenied("Access Denied: anonymous uploads are not allowed");
  if (form.algorithm !== "AWS4-HMAC-SHA256")
    throw new S3Error("InvalidArgument", "POST requires x-amz-algorithm AWS4-HMAC-SHA256");
  if (!form.credential || !form.date || !form.signature || !form.policy)
    throw new S3Error(
      "InvalidArgument",
      "POST requires the fields x-amz-credential, x-amz-date, policy and x-amz-signature",
    );
  const credential = parseCredential(form.credential, options.region, "InvalidArgument");
  const secret = secretFor(credential, options.secrets);
  const date = parseAmzDate(form.date);
  if (!date || form.date.slice(0, 8) !== credential.date)
    throw new S3Error(
      "InvalidArgument",
      "x-amz-date must be yyyyMMdd'T'HHmmss'Z' and match the credential date",
    );
  const expected = await signer(credential, secret).sign(form.policy, { signingDate: date });
  if (!sameSignature(expected, form.signature)) throw mismatch();
  return credential.accessKeyId;
}
