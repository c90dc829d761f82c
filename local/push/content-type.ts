/** The Content-Type a file is declared as, from its extension; the pipeline checks it against the bytes. */
import { TYPE_MIMES } from "../../core/domain/mime.ts";

const BY_EXTENSION: Readonly<Record<string, string>> = {
  ...TYPE_MIMES,
  jpeg: "image/jpeg",
  md: "text/plain",
};

/** Undefined when the extension names no allowed type (the API then refuses it; a drop declares nothing). */
export function contentTypeFor(name: string): string | undefined {
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? "";
  return BY_EXTENSION[ext];
}
