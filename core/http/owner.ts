/**
 * The owner of an API call, from the claims API Gateway's JWT authorizer passed on (it has already checked the
 * signature, issuer, audience and expiry). The owner is issuer + subject in the `user:` namespace, so no token
 * can name a dropping system (`system:<name>`) or another issuer's user with the same subject.
 */
import { tokenOwner } from "../domain/owners.ts";

/** OpenID Connect: `sub` is at most 255 ASCII characters; anything else is not a subject we can key on. */
const SUBJECT = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/;

export function ownerFromClaims(claims: Record<string, unknown> | undefined): string | undefined {
  const issuer = claims?.iss;
  const subject = claims?.sub;
  if (typeof issuer !== "string" || issuer === "" || typeof subject !== "string") return undefined;
  if (!SUBJECT.test(subject)) return undefined;
  return tokenOwner(issuer, subject);
}
