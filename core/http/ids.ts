/** File ids minted for uploads: 26 base32 characters, time-ordered (48-bit milliseconds) then random. */
import { randomBytes } from "node:crypto";
import { toBase32 } from "../domain/keys.ts";

export function newFileId(now = Date.now()): string {
  const bytes = Buffer.alloc(17);
  bytes.writeUIntBE(now, 0, 6);
  randomBytes(11).copy(bytes, 6);
  return toBase32(bytes, 26);
}
