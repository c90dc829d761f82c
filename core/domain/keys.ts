/**
 * Object keys: how S3 events encode them, how Airlock lays them out, and how a key maps to a file id.
 * S3 event notifications URL-encode keys (a space becomes `+`, other bytes `%xx`); this module is the one place
 * that decodes them.
 */
import { createHash } from "node:crypto";
import { systemOwner } from "./owners.ts";
import type { Source } from "./types.ts";

export class MalformedKeyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MalformedKeyError";
  }
}

/** Decodes a key as it appears in an S3 event notification. */
export function decodeEventKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, " "));
  } catch (cause) {
    throw new MalformedKeyError(`S3 event key is not valid URL encoding: ${JSON.stringify(encoded)}`, {
      cause,
    });
  }
}

/**
 * Encodes a key the way S3 does in event notifications (form encoding: space as `+`, unreserved characters
 * and `/` kept). Used by the local stack so that handlers see what real S3 sends.
 */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%20/g, "+")
    .replace(/%2F/g, "/")
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The two key layouts, built and parsed only here: API uploads land at `uploads/<fileId>/<name>` (one name
 * segment), systems drop under `drops/<system>/…` (any path below their folder).
 */
export const UPLOADS_PREFIX = "uploads/";
export const DROPS_PREFIX = "drops/";

const UPLOAD_KEY = /^uploads\/([a-z0-9]{26})\/[^/]+$/;
// `s`: a name with a line break still belongs to its system (and is then rejected by the name policy).
const DROP_KEY = /^drops\/([A-Za-z0-9._-]{1,64})\/.+$/s;

/** The key an API upload lands at: `uploads/<fileId>/<name>` (the name already checked to be one segment). */
export function uploadKey(fileId: string, name: string): string {
  return `${UPLOADS_PREFIX}${fileId}/${name}`;
}

/** The folder a system drops into, optionally a sub-folder of it: `drops/<system>/[<folder>/]`. */
export function dropPrefix(system: string, folder?: string): string {
  const sub = folder?.replace(/^\/+|\/+$/g, "");
  return `${DROPS_PREFIX}${system}/${sub ? `${sub}/` : ""}`;
}

/** The key of a file a system drops: `drops/<system>/<path>`. */
export function dropKey(system: string, path: string): string {
  return `${dropPrefix(system)}${path}`;
}

/** Where a file's extracted text is published in the clean bucket: `text/<fileId>.txt`. */
export const textKey = (fileId: string): string => `text/${fileId}.txt`;

/** True for any key under `uploads/`, whether or not it has the exact upload layout. */
export const isUnderUploads = (key: string): boolean => key.startsWith(UPLOADS_PREFIX);

/** File ids are 26 lowercase base32 characters: either minted by the API or derived from a dropped key. */
export const FILE_ID = /^[a-z0-9]{26}$/;

const BASE32 = "0123456789abcdefghjkmnpqrstvwxyz";

export function toBase32(bytes: Uint8Array, length: number): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
    if (out.length >= length) break;
  }
  return out;
}

export interface KeyFacts {
  fileId: string;
  source: Source;
  /** `system:<name>` for drops; unknown for API uploads until the upload session is read. */
  owner?: string;
}

/**
 * What a key tells about its file: API uploads carry their file id in the key; any other key (system drops,
 * or objects put outside the conventions) gets a stable id derived from bucket and key, so that every stage
 * and every redelivery of an event converges on the same record.
 */
export function describeKey(bucket: string, key: string): KeyFacts {
  const upload = UPLOAD_KEY.exec(key);
  if (upload?.[1]) return { fileId: upload[1], source: "api" };
  const drop = DROP_KEY.exec(key);
  const fileId = toBase32(createHash("sha256").update(`${bucket}\n${key}`).digest(), 26);
  return drop?.[1] ? { fileId, source: "drop", owner: systemOwner(drop[1]) } : { fileId, source: "drop" };
}

/** The last path segment, for messages and download names. */
export function fileName(key: string): string {
  const i = key.lastIndexOf("/");
  return i >= 0 ? key.slice(i + 1) : key;
}

/** The lower-cased extension of a key's name in NFC (`""` when it has none, or ends with a dot). */
export function extensionOf(key: string): string {
  const name = fileName(key).normalize("NFC");
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

/**
 * S3 sequencers are hex strings of varying length; AWS says to left-pad the shorter with zeros and compare
 * lexicographically. Stored padded so DynamoDB conditions can compare them as strings.
 */
export function padSequencer(sequencer: string): string {
  const hex = sequencer.toUpperCase();
  if (!/^[0-9A-F]{1,64}$/.test(hex))
    throw new MalformedKeyError(`Invalid S3 sequencer: ${JSON.stringify(sequencer)}`);
  return hex.padStart(64, "0");
}
