/**
 * The validation rules: size within bounds, a known real type on the allow-list, and a declared extension and
 * Content-Type that agree with it. Every broken rule is reported, in plain words.
 */
import { formatSize } from "../domain/format.ts";
import { extensionOf } from "../domain/keys.ts";
import type { DetectedType, ValidateResult } from "../domain/types.ts";
import { detectType } from "./detect.ts";

export interface ValidationPolicy {
  maxSizeBytes: number;
  allowedTypes: readonly string[];
}

export interface ValidationInput {
  size: number;
  head: Uint8Array;
  key: string;
  contentType?: string;
  /** Whether more bytes follow the head (defaults to head shorter than size). */
  truncated?: boolean;
  /** The object's last bytes, when the head is a zip (an Office package is known by its central directory). */
  tail?: { bytes: Uint8Array; size: number };
}

/** Extensions a type may be named with. Text-family types accept each other's extensions (a CSV is text). */
const EXTENSIONS: Record<string, readonly string[]> = {
  jpg: ["jpg", "jpeg", "jpe", "jfif"],
  tif: ["tif", "tiff"],
  txt: ["txt", "text", "log", "md", "csv", "json"],
  csv: ["csv", "txt", "tsv"],
  json: ["json", "txt", "geojson"],
  html: ["html", "htm"],
  xml: ["xml"],
  gz: ["gz", "gzip", "tgz"],
};

/** Content-Types a type may be declared as, besides its own. */
const MIME_ALIASES: Record<string, readonly string[]> = {
  jpg: ["image/jpg", "image/pjpeg"],
  png: ["image/x-png"],
  txt: ["text/markdown"],
  csv: [
    "text/plain",
    "application/csv",
    "text/x-csv",
    "application/vnd.ms-excel",
    "text/tab-separated-values",
  ],
  json: ["text/plain", "text/json"],
  zip: ["application/x-zip-compressed", "application/x-zip"],
  xml: ["text/xml"],
  gz: ["application/x-gzip", "application/gzip"],
};

/** Content-Types that declare nothing. */
const UNDECLARED = new Set(["", "application/octet-stream", "binary/octet-stream"]);

export function extensionAgrees(type: DetectedType, key: string): boolean {
  const ext = extensionOf(key);
  if (ext === "") return true;
  return ext === type.ext || ext === type.id || (EXTENSIONS[type.id] ?? []).includes(ext);
}

export function contentTypeAgrees(type: DetectedType, contentType: string | undefined): boolean {
  const declared = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (UNDECLARED.has(declared)) return true;
  return declared === type.mime || (MIME_ALIASES[type.id] ?? []).includes(declared);
}

export async function evaluateValidation(
  input: ValidationInput,
  policy: ValidationPolicy,
): Promise<Omit<ValidateResult, "stage" | "at">> {
  const { size, key } = input;
  if (size === 0) return { status: "rejected", reasons: ["empty file"], size };
  const reasons: string[] = [];
  if (size > policy.maxSizeBytes) {
    reasons.push(`file is ${formatSize(size)}, above the ${formatSize(policy.maxSizeBytes)} limit`);
  }
  const detectedType = await detectType(input.head, input.truncated ?? input.head.length < size, input.tail);
  if (!detectedType) {
    reasons.push("file type could not be determined from its content");
    return { status: "rejected", reasons, size };
  }
  if (!policy.allowedTypes.includes(detectedType.id)) reasons.push(`type ${detectedType.id} is not allowed`);
  if (!extensionAgrees(detectedType, key)) {
    reasons.push(`extension .${extensionOf(key)} does not match the detected type ${detectedType.id}`);
  }
  if (!contentTypeAgrees(detectedType, input.contentType)) {
    reasons.push(
      `declared Content-Type ${input.contentType} does not match the detected type ${detectedType.mime}`,
    );
  }
  return { status: reasons.length === 0 ? "passed" : "rejected", reasons, detectedType, size };
}
