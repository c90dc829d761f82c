/**
 * Who owns a file, in two namespaces that cannot meet: systems that drop files own `system:<name>` (from the
 * `drops/<name>/` prefix), and callers of the HTTP API own `user:<issuer>:<subject>`, where `<issuer>` is a
 * short hash of the token issuer. A token cannot name a system, whatever its `sub` claim says (`system:billing`
 * becomes `user:<issuer>:system:billing`), and two issuers that reuse a subject stay apart.
 */
import { createHash } from "node:crypto";

export const systemOwner = (system: string): string => `system:${system}`;

/** The issuer part of a token owner: the first 16 hex digits (64 bits) of the SHA-256 of the issuer URL. */
export function issuerTag(issuer: string): string {
  return createHash("sha256").update(issuer, "utf8").digest("hex").slice(0, 16);
}

export const tokenOwner = (issuer: string, subject: string): string => `user:${issuerTag(issuer)}:${subject}`;
