/**
 * Decryption of PDF streams for files encrypted by the standard security handler with an empty user password
 * (ISO 32000-2 §7.6.4): readers open such files without asking, so their object streams must be searched too.
 * RC4 (40 to 128-bit, revisions 2-4), AES-128 (AESV2) and AES-256 (AESV3, revisions 5 and 6). A file whose user
 * password is not empty cannot be opened without it, and is reported as such.
 */
import { createCipheriv, createDecipheriv, createHash } from "node:crypto";

const PAD = Buffer.from("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a", "hex");

export interface EncryptParams {
  v: number;
  r: number;
  length: number;
  o: Buffer;
  u: Buffer;
  ue?: Buffer;
  p: number;
  id: Buffer;
  aes: boolean;
  encryptMetadata: boolean;
}

/** A PDF string as bytes: `<hex>` or `(literal)` with its escapes. */
export function pdfStringBytes(text: string | undefined): Buffer | undefined {
  return pdfString(text);
}

function pdfString(text: string | undefined): Buffer | undefined {
  if (text === undefined) return undefined;
  if (text.startsWith("<")) return Buffer.from(text.slice(1, -1).replace(/\s+/g, ""), "hex");
  const body = text.slice(1, -1);
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c !== 0x5c) {
      out.push(c & 0xff);
      continue;
    }
    const next = body[++i] ?? "";
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, f: 12, "(": 40, ")": 41, "\\": 92 };
    if (next in simple) out.push(simple[next] as number);
    else if (/[0-7]/.test(next)) {
      let octal = next;
      while (octal.length < 3 && /[0-7]/.test(body[i + 1] ?? "")) octal += body[++i];
      out.push(Number.parseInt(octal, 8) & 0xff);
    } else if (next === "\r" && body[i + 1] === "\n") i++;
    else if (next !== "\n" && next !== "\r") out.push(next.charCodeAt(0) & 0xff);
  }
  return Buffer.from(out);
}

const STRING = String.raw`(<[0-9A-Fa-f\s]*>|\((?:\\[\s\S]|[^\\)])*\))`;

/** The parameters of a standard security handler dictionary, or undefined when it is not one. */
export function encryptParams(dictionary: string, id: Buffer): EncryptParams | undefined {
  if (!/\/Filter\s*\/Standard\b/.test(dictionary)) return undefined;
  const number = (key: string) => {
    const m = new RegExp(`/${key}\\s+(-?\\d+)`).exec(dictionary);
    return m ? Number(m[1]) : undefined;
  };
  const string = (key: string) => pdfString(new RegExp(`/${key}\\s*${STRING}`).exec(dictionary)?.[1]);
  const o = string("O");
  const u = string("U");
  const p = number("P");
  if (!o || !u || p === undefined) return undefined;
  const v = number("V") ?? 0;
  return {
    v,
    r: number("R") ?? 2,
    length: number("Length") ?? 40,
    o,
    u,
    ue: string("UE"),
    p,
    id,
    aes: /\/CFM\s*\/AESV[23]\b/.test(dictionary),
    encryptMetadata: !/\/EncryptMetadata\s+false\b/.test(dictionary),
  };
}

function rc4(key: Buffer, data: Buffer): Buffer {
  const s = new Uint8Array(256).map((_, i) => i);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + (s[i] as number) + (key[i % key.length] as number)) & 0xff;
    [s[i], s[j]] = [s[j] as number, s[i] as number];
  }
  const out = Buffer.allocUnsafe(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + (s[i] as number)) & 0xff;
    [s[i], s[j]] = [s[j] as number, s[i] as number];
    out[n] = (data[n] as number) ^ (s[((s[i] as number) + (s[j] as number)) & 0xff] as number);
  }
  return out;
}

const md5 = (...parts: Buffer[]) => createHash("md5").update(Buffer.concat(parts)).digest();

/** Algorithm 2.B (revision 6): the hash of a password with a salt (and, for owner keys, U). */
function hash6(password: Buffer, salt: Buffer): Buffer {
  let k = createHash("sha256")
    .update(Buffer.concat([password, salt]))
    .digest();
  for (let round = 0; ; round++) {
    const k1 = Buffer.concat(Array.from({ length: 64 }, () => Buffer.concat([password, k])));
    const cipher = createCipheriv("aes-128-cbc", k.subarray(0, 16), k.subarray(16, 32));
    cipher.setAutoPadding(false);
    const e = Buffer.concat([cipher.update(k1), cipher.final()]);
    let sum = 0;
    for (let i = 0; i < 16; i++) sum += e[i] as number;
    k = createHash(["sha256", "sha384", "sha512"][sum % 3] as string)
      .update(e)
      .digest();
    if (round >= 63 && (e[e.length - 1] as number) <= round - 31) return k.subarray(0, 32);
  }
}

/** The file key for the empty user password, or undefined when the user password is not empty. */
export function fileKey(params: EncryptParams): Buffer | undefined {
  const empty = Buffer.alloc(0);
  if (params.r >= 5) {
    const validationSalt = params.u.subarray(32, 40);
    const keySalt = params.u.subarray(40, 48);
    const hash =
      params.r === 5
        ? (salt: Buffer) => createHash("sha256").update(salt).digest()
        : (salt: Buffer) => hash6(empty, salt);
    if (!hash(validationSalt).equals(params.u.subarray(0, 32)) || !params.ue) return undefined;
    const decipher = createDecipheriv("aes-256-cbc", hash(keySalt), Buffer.alloc(16));
    decipher.setAutoPadding(false);
    return Buffer.concat([decipher.update(params.ue.subarray(0, 32)), decipher.final()]);
  }
  const n = params.r === 2 ? 5 : Math.max(5, Math.min(16, Math.floor(params.length / 8)));
  const p = Buffer.alloc(4);
  p.writeInt32LE(params.p | 0);
  const parts = [PAD, params.o.subarray(0, 32), p, params.id];
  if (params.r >= 4 && !params.encryptMetadata) parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  let key = md5(...parts).subarray(0, n);
  if (params.r >= 3) for (let i = 0; i < 50; i++) key = md5(key).subarray(0, n);
  // Algorithms 4 and 5: the empty user password is the right one when U comes out of it.
  if (params.r === 2) return rc4(key, PAD).equals(params.u.subarray(0, 32)) ? key : undefined;
  let check = rc4(key, md5(PAD, params.id));
  for (let i = 1; i <= 19; i++) check = rc4(Buffer.from(key.map((b) => b ^ i)), check);
  return check.equals(params.u.subarray(0, 16)) ? key : undefined;
}

/** Decrypts one stream of object `number` generation `generation`; throws on data that cannot be AES data. */
export function decryptStream(
  params: EncryptParams,
  key: Buffer,
  number: number,
  generation: number,
  data: Buffer,
): Buffer {
  if (params.r >= 5) {
    const decipher = createDecipheriv("aes-256-cbc", key, data.subarray(0, 16));
    return Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]);
  }
  const suffix = Buffer.from([
    number & 0xff,
    (number >> 8) & 0xff,
    (number >> 16) & 0xff,
    generation & 0xff,
    (generation >> 8) & 0xff,
  ]);
  const objectKey = md5(key, suffix, params.aes ? Buffer.from("sAlT") : Buffer.alloc(0)).subarray(
    0,
    Math.min(key.length + 5, 16),
  );
  if (!params.aes) return rc4(objectKey, data);
  const decipher = createDecipheriv("aes-128-cbc", objectKey, data.subarray(0, 16));
  return Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]);
}
