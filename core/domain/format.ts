/** Sizes and counts in the words people read (binary prefixes, English plurals), for reasons and notifications. */

const PLURALS = new Intl.PluralRules("en");

/** `1 page`, `3 pages`, `1,204 words`: the number and the noun in the form the number takes. */
export function count(n: number, one: string, other = `${one}s`): string {
  return `${n.toLocaleString("en")} ${PLURALS.select(n) === "one" ? one : other}`;
}

export function formatSize(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? count(bytes, "byte") : `${value.toFixed(1)} ${units[unit]}`;
}
