import { TYPE_MIMES } from "../../core/domain/mime.ts";

/** Extensions as the allowed type ids name them, plus the other common spelling of JPEG. */
const BY_EXTENSION: Readonly<Record<string, string>> = { ...TYPE_MIMES, jpeg: "image/jpeg" };

/**
 * The Content-Type to declare for a file: what the browser says, or a guess from the extension when it says
 * nothing. The server decides whether it is accepted (and later checks it against the bytes).
 */

export function contentTypeFor(name: string, browserType: string): string {
  if (browserType) return browserType;
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? "";
  return BY_EXTENSION[ext] ?? "application/octet-stream";
}
