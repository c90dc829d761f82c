/**
 * What the console says when a file cannot be uploaded, in words: checked before anything is sent when the
 * upload policy is known (empty, too big, an extension no allowed type has), and the server's refusals
 * (413, 415, 422 with a file-name code) said the same way. The server stays the judge: a file that passes here
 * may still be refused there, and is then explained in the same words.
 */
import { formatSize } from "../../core/domain/format.ts";
import { explainReason, sizeLimit } from "../../core/domain/reasons.ts";
import type { ApiError, UploadPolicy } from "./api.ts";

export const accepted = (policy: UploadPolicy) => `Accepted: ${policy.description}.`;

const extension = (name: string) => /\.([^.]+)$/.exec(name)?.[1]?.toLowerCase() ?? "";

function typeRefusal(name: string, policy?: UploadPolicy): string {
  const ext = extension(name);
  const what = ext
    ? `this type of file (.${ext}) is not accepted.`
    : "the file has no extension, so its type cannot be told.";
  return `Not uploaded: ${what}${policy ? ` ${accepted(policy)}` : ""}`;
}

function sizeRefusal(size: number, policy?: UploadPolicy): string {
  const limit = policy ? `; files can be up to ${sizeLimit(policy.maxSizeBytes)}` : ", above the size limit";
  return `Not uploaded: the file is ${formatSize(size)}${limit}.`;
}

/** Why a file cannot be uploaded, before asking the server; undefined when it may be tried. */
export function precheck(file: { name: string; size: number }, policy?: UploadPolicy): string | undefined {
  if (file.size === 0) return "Not uploaded: the file is empty.";
  if (!policy) return undefined;
  if (file.size > policy.maxSizeBytes) return sizeRefusal(file.size, policy);
  const ext = extension(file.name);
  const known = policy.types.some((type) => type.extensions.includes(ext));
  return known ? undefined : typeRefusal(file.name, policy);
}

/** A refusal of the API in the same words; other errors are said as they are. */
export function refusalWords(
  error: ApiError,
  file: { name: string; size: number },
  policy?: UploadPolicy,
): string {
  if (error.status === 413) return sizeRefusal(file.size, policy);
  if (error.status === 415) return typeRefusal(file.name, policy);
  const detail = error.message.replace(/^Invalid request: (filename )?/, "");
  if (error.status === 422 && error.code?.startsWith("name-") && error.code !== "name-extension-mismatch")
    return `Not uploaded: ${explainReason(`file name ${detail} [${error.code}]`).text}`;
  if (error.status === 422 && error.code === "name-extension-mismatch")
    return `Not uploaded: the file name ${detail.replace(/^extension /, "has the extension ").replace(" does not match ", ", which does not match ")}.`;
  return `Refused by the server: ${error.message}`;
}
