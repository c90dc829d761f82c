/**
 * PDF stream filters, decoded as readers decode them (ISO 32000-1 §7.4): FlateDecode and LZWDecode with their PNG
 * and TIFF predictors, ASCIIHexDecode, ASCII85Decode and RunLengthDecode, in any chain. Image codecs (DCT, JPX,
 * JBIG2, CCITT fax) end a chain: what they produce is pixels, never objects. Output is capped; a chain that cannot
 * be decoded throws a `FilterError` saying why.
 *
 * Hand-written rather than taken from npm: pdf.js has these decoders but only as internals of its worker bundle,
 * and the small packages that offer one filter each (lzw, ascii85) differ from readers on the edge cases that
 * matter here (EarlyChange, `z` groups, missing end markers).
 */
import { constants, inflateSync } from "node:zlib";

export class FilterError extends Error {
  constructor(
    readonly reason: "corrupt" | "unsupported" | "limit-exceeded",
    message: string,
  ) {
    super(message);
    this.name = "FilterError";
  }
}

export interface FilterParams {
  predictor?: number;
  colors?: number;
  bitsPerComponent?: number;
  columns?: number;
  earlyChange?: number;
}

/** Filters after which the data is an image's pixels. */
export const IMAGE_FILTERS = new Set([
  "DCTDecode",
  "JPXDecode",
  "JBIG2Decode",
  "CCITTFaxDecode",
  "DCT",
  "CCF",
]);

const ABBREVIATIONS: Record<string, string> = {
  AHx: "ASCIIHexDecode",
  A85: "ASCII85Decode",
  LZW: "LZWDecode",
  Fl: "FlateDecode",
  RL: "RunLengthDecode",
};

export const canonicalFilter = (name: string) => ABBREVIATIONS[name] ?? name;

function asciiHex(data: Buffer): Buffer {
  const out: number[] = [];
  let high = -1;
  for (const byte of data) {
    if (byte === 0x3e) break; // '>' ends the data
    let value: number;
    if (byte >= 0x30 && byte <= 0x39) value = byte - 0x30;
    else if (byte >= 0x41 && byte <= 0x46) value = byte - 0x37;
    else if (byte >= 0x61 && byte <= 0x66) value = byte - 0x57;
    else if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09 || byte === 0x0c || byte === 0)
      continue;
    else throw new FilterError("corrupt", "a character that is not hexadecimal in ASCIIHexDecode data");
    if (high < 0) high = value;
    else {
      out.push((high << 4) | value);
      high = -1;
    }
  }
  if (high >= 0) out.push(high << 4);
  return Buffer.from(out);
}

function ascii85(data: Buffer): Buffer {
  const out: number[] = [];
  let group: number[] = [];
  let start = 0;
  if (data[0] === 0x3c && data[1] === 0x7e) start = 2; // an optional '<~'
  const flush = (count: number) => {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 85 + (group[i] ?? 84);
    for (let i = 0; i < count - 1; i++) out.push((value >>> (24 - 8 * i)) & 0xff);
  };
  for (let i = start; i < data.length; i++) {
    const byte = data[i] as number;
    if (byte === 0x7e) break; // '~>' ends the data
    if (byte <= 0x20) continue;
    if (byte === 0x7a && group.length === 0) {
      out.push(0, 0, 0, 0);
      continue;
    }
    if (byte < 0x21 || byte > 0x75)
      throw new FilterError("corrupt", "a character outside ASCII85Decode's alphabet");
    group.push(byte - 0x21);
    if (group.length === 5) {
      flush(5);
      group = [];
    }
  }
  if (group.length === 1) throw new FilterError("corrupt", "ASCII85Decode data ends inside a group");
  if (group.length > 0) flush(group.length);
  return Buffer.from(out);
}

function runLength(data: Buffer, max: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  for (let i = 0; i < data.length; ) {
    const length = data[i] as number;
    if (length === 128) break;
    let part: Buffer;
    if (length < 128) {
      part = data.subarray(i + 1, i + 2 + length);
      i += 2 + length;
    } else {
      part = Buffer.alloc(257 - length, data[i + 1] ?? 0);
      i += 2;
    }
    total += part.length;
    if (total > max) throw new FilterError("limit-exceeded", "a PDF stream decodes past its limit");
    parts.push(part);
  }
  return Buffer.concat(parts);
}

/** LZW with a prefix table (code → previous code + last byte), so memory stays at 4096 entries. */
function lzw(data: Buffer, earlyChange: number, max: number): Buffer {
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const lengths = new Uint32Array(4096);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    suffix[i] = i;
    lengths[i] = 1;
  }
  const out = Buffer.allocUnsafe(Math.min(max, Math.max(1024, data.length * 8)));
  let target = out;
  let written = 0;
  const emit = (code: number) => {
    const length = lengths[code] as number;
    if (written + length > target.length) {
      if (written + length > max)
        throw new FilterError("limit-exceeded", "a PDF stream decodes past its limit");
      const grown = Buffer.allocUnsafe(Math.min(max, Math.max(target.length * 2, written + length)));
      target.copy(grown, 0, 0, written);
      target = grown;
    }
    let at = written + length - 1;
    for (let c = code; c >= 0; c = prefix[c] as number) target[at--] = suffix[c] as number;
    written += length;
  };
  let size = 258;
  let width = 9;
  let bits = 0;
  let buffer = 0;
  let previous = -1;
  for (const byte of data) {
    buffer = ((buffer << 8) | byte) >>> 0;
    bits += 8;
    while (bits >= width) {
      const code = (buffer >>> (bits - width)) & ((1 << width) - 1);
      bits -= width;
      buffer &= (1 << bits) - 1;
      if (code === 256) {
        size = 258;
        width = 9;
        previous = -1;
        continue;
      }
      if (code === 257) return target.subarray(0, written);
      let first: number;
      if (code < size) {
        let c = code;
        while ((prefix[c] as number) >= 0) c = prefix[c] as number;
        first = suffix[c] as number;
      } else if (previous >= 0 && code === size) {
        let c = previous;
        while ((prefix[c] as number) >= 0) c = prefix[c] as number;
        first = suffix[c] as number;
      } else throw new FilterError("corrupt", "an LZWDecode code outside its table");
      if (previous >= 0 && size < 4096) {
        prefix[size] = previous;
        suffix[size] = first;
        lengths[size] = (lengths[previous] as number) + 1;
        size++;
      }
      emit(code);
      previous = code;
      const next = size + earlyChange;
      if (next >= 512 && width === 9) width = 10;
      if (next >= 1024 && width === 10) width = 11;
      if (next >= 2048 && width === 11) width = 12;
    }
  }
  return target.subarray(0, written);
}

function flate(data: Buffer, max: number): Buffer {
  try {
    return inflateSync(data, { maxOutputLength: max });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE")
      throw new FilterError("limit-exceeded", "a PDF stream decodes past its limit");
    // Readers keep what decodes before a broken or missing end: so does the scan.
    try {
      const partial = inflateSync(data, { maxOutputLength: max, finishFlush: constants.Z_SYNC_FLUSH });
      if (partial.length > 0) return partial;
    } catch {}
    throw new FilterError("corrupt", "FlateDecode data that does not inflate");
  }
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function predict(data: Buffer, params: FilterParams): Buffer {
  const predictor = params.predictor ?? 1;
  if (predictor <= 1) return data;
  const colors = params.colors ?? 1;
  const bpc = params.bitsPerComponent ?? 8;
  const columns = params.columns ?? 1;
  const rowBytes = Math.ceil((colors * bpc * columns) / 8);
  const pixelBytes = Math.max(1, Math.ceil((colors * bpc) / 8));
  if (!(rowBytes > 0 && rowBytes < 1 << 24))
    throw new FilterError("corrupt", "a predictor with impossible rows");
  if (predictor === 2) {
    if (bpc !== 8) throw new FilterError("unsupported", `a TIFF predictor with ${bpc}-bit components`);
    const out = Buffer.from(data);
    for (let row = 0; row < out.length; row += rowBytes)
      for (let i = row + pixelBytes; i < Math.min(row + rowBytes, out.length); i++)
        out[i] = ((out[i] as number) + (out[i - pixelBytes] as number)) & 0xff;
    return out;
  }
  if (predictor < 10) throw new FilterError("unsupported", `predictor ${predictor}`);
  // PNG predictors: every row starts with its own filter type byte.
  const rows = Math.floor(data.length / (rowBytes + 1));
  const out = Buffer.alloc(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowBytes + 1)] as number;
    const src = r * (rowBytes + 1) + 1;
    const dst = r * rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      const raw = data[src + i] as number;
      const left = i >= pixelBytes ? (out[dst + i - pixelBytes] as number) : 0;
      const up = r > 0 ? (out[dst - rowBytes + i] as number) : 0;
      const upLeft = r > 0 && i >= pixelBytes ? (out[dst - rowBytes + i - pixelBytes] as number) : 0;
      let value: number;
      if (type === 0) value = raw;
      else if (type === 1) value = raw + left;
      else if (type === 2) value = raw + up;
      else if (type === 3) value = raw + ((left + up) >> 1);
      else if (type === 4) value = raw + paeth(left, up, upLeft);
      else throw new FilterError("corrupt", `PNG predictor row type ${type}`);
      out[dst + i] = value & 0xff;
    }
  }
  return out;
}

/**
 * Decodes `data` through `filters` in order, stopping before an image codec. `params[i]` belongs to
 * `filters[i]`. Throws FilterError for unknown filters, undecodable data and output past `max` bytes.
 */
export function decodeStream(
  data: Buffer,
  filters: readonly string[],
  params: readonly (FilterParams | undefined)[],
  max: number,
): Buffer {
  let out = data;
  for (const [i, raw] of filters.entries()) {
    const filter = canonicalFilter(raw);
    if (IMAGE_FILTERS.has(filter)) return out;
    const p = params[i] ?? {};
    if (filter === "FlateDecode") out = predict(flate(out, max), p);
    else if (filter === "LZWDecode") out = predict(lzw(out, p.earlyChange ?? 1, max), p);
    else if (filter === "ASCIIHexDecode") out = asciiHex(out);
    else if (filter === "ASCII85Decode") out = ascii85(out);
    else if (filter === "RunLengthDecode") out = runLength(out, max);
    else if (filter === "Crypt") throw new FilterError("unsupported", "an encrypted (Crypt) PDF stream");
    else throw new FilterError("unsupported", `the PDF filter /${filter}`);
    if (out.length > max) throw new FilterError("limit-exceeded", "a PDF stream decodes past its limit");
  }
  return out;
}
