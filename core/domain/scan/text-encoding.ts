/** Whether the first bytes of a stream are text, and in which encoding (scripts and text signatures use it). */

/** How a text stream's bytes map to characters for the search. */
export type TextEncoding = "8bit" | "utf16le" | "utf16be";

/**
 * Whether a stream's first bytes are text, and how its bytes are laid out: almost no control bytes or NULs
 * (8-bit text: ASCII, UTF-8, Latin-1), or UTF-16 with a BOM or with zero high bytes (UTF-16 without a BOM).
 */
export function textEncodingOf(head: Buffer): TextEncoding | undefined {
  if (head.length < 2) return undefined;
  if (head[0] === 0xff && head[1] === 0xfe) return "utf16le";
  if (head[0] === 0xfe && head[1] === 0xff) return "utf16be";
  let control = 0;
  let zeroEven = 0;
  let zeroOdd = 0;
  for (let i = 0; i < head.length; i++) {
    const b = head[i] as number;
    if (b === 0) {
      if (i & 1) zeroOdd++;
      else zeroEven++;
    } else if ((b < 0x20 && b !== 9 && b !== 10 && b !== 13 && b !== 12 && b !== 0x1b) || b === 0x7f)
      control++;
  }
  const pairs = Math.floor(head.length / 2);
  // A stray NUL does not stop a script host from running the rest: a few count as control characters.
  if (zeroOdd + zeroEven + control <= Math.max(2, head.length / 100)) return "8bit";
  // UTF-16 text of Latin script has a zero high byte in almost every code unit.
  if (zeroOdd >= pairs * 0.7 && zeroEven === 0 && control <= pairs / 50) return "utf16le";
  if (zeroEven >= pairs * 0.7 && zeroOdd === 0 && control <= pairs / 50) return "utf16be";
  return undefined;
}
