/** The console's colour pairs meet WCAG AA contrast (4.5:1 for normal text), read from its stylesheet. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const css = readFileSync(resolve("web/styles.css"), "utf8");
const variable = (name: string) => {
  const value = new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})`).exec(css)?.[1];
  if (!value) throw new Error(`--${name} is not a six-digit colour in web/styles.css`);
  return value;
};

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return ((hi ?? 0) + 0.05) / ((lo ?? 0) + 0.05);
}

describe("Stylesheet: colour contrast", () => {
  it("computes the WCAG ratio (black on white is 21:1)", () => {
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrast("#777777", "#ffffff")).toBeCloseTo(4.48, 2);
  });

  it.each([
    ["text", "panel"],
    ["text", "bg"],
    ["muted", "panel"],
    ["muted", "bg"],
    ["accent", "panel"],
    ["accent-text", "accent"],
    ["danger", "panel"],
    ["accent-text", "danger"],
    ["ok-text", "ok-bg"],
    ["bad-text", "bad-bg"],
    ["warn-text", "warn-bg"],
    ["busy-text", "busy-bg"],
  ])("--%s on --%s is at least 4.5:1", (fg, bg) => {
    expect(contrast(variable(fg), variable(bg))).toBeGreaterThanOrEqual(4.5);
  });
});
