/**
 * The validation rules: a key and file name that pass the file-name policy, size within bounds, a known real
 * type on the allow-list, and a declared extension and Content-Type that agree with it. Every broken rule is
 * reported, in plain words.
 */
import { keyProblems, nameReason, printable } from "../file-names.ts";
import { formatSize } from "../format.ts";
import { extensionOf } from "../keys.ts";
import type { DetectedType, ValidateResult } from "../types.ts";
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

/** The extensions a file of an allowed type may be named with (its id first), as the upload policy lists them. */
export function extensionsOf(id: string): string[] {
  return [...new Set([id, ...(EXTENSIONS[id] ?? [])])];
}

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

/** Whether the key's extension is one the type may be named with. No extension never agrees. */
export function extensionAgrees(type: DetectedType, key: string): boolean {
  const ext = extensionOf(key);
  if (ext === "") return false;
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
  const reasons = keyProblems(key).map((problem) =>
    nameReason(problem, problem.code === "key-layout" ? "key" : "file name"),
  );
  if (size === 0) return { status: "rejected", reasons: [...reasons, "empty file"], size };
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
    const ext = extensionOf(key);
    reasons.push(
      ext === ""
        ? `file name has no extension; a ${detectedType.id} file must be named .${detectedType.ext}`
        : `extension .${printable(ext)} does not match the detected type ${detectedType.id}`,
    );
  }
  if (!contentTypeAgrees(detectedType, input.contentType)) {
    reasons.push(
      `declared Content-Type ${printable(input.contentType ?? "")} does not match the detected type ${detectedType.mime}`,
    );
  }
  return { status: reasons.length === 0 ? "passed" : "rejected", reasons, detectedType, size };
}
