/**
 * Opaque list cursors: the store's last key, bound to the owner who asked and authenticated with an HMAC, so
 * a cursor cannot be edited or replayed by another owner to read their items.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { InvalidCursorError } from "../usecases/api/errors.ts";

function sign(payload: string, secret: string): string {
  return createHmac("sha256", secret).update(payload).digest("base64url");
}

export function encodeCursor(last: Record<string, string>, owner: string, secret: string): string {
  const payload = Buffer.from(JSON.stringify({ k: last, o: owner })).toString("base64url");
  return `${payload}.${sign(payload, secret)}`;
}

export function decodeCursor(cursor: string, owner: string, secret: string): Record<string, string> {
  const [payload, mac, extra] = cursor.split(".");
  if (!payload || !mac || extra !== undefined) throw new InvalidCursorError("Invalid cursor");
  const expected = Buffer.from(sign(payload, secret));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    throw new InvalidCursorError("Invalid cursor");
  let parsed: { k?: unknown; o?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { k?: unknown; o?: unknown };
  } catch {
    throw new InvalidCursorError("Invalid cursor");
  }
  if (parsed.o !== owner || typeof parsed.k !== "object" || parsed.k === null)
    throw new InvalidCursorError("Invalid cursor");
  return parsed.k as Record<string, string>;
}
