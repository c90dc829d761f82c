import { describe, expect, it } from "vitest";
import { combineEngineResults, createBuiltinEngine } from "../../../core/domain/scan/index.ts";
import { tee } from "../../../core/domain/scan/tee.ts";
import {
  compileYaraRules,
  createYaraEngine,
  validateYaraRules,
  type YaraRules,
  YaraRulesError,
} from "../../../core/domain/scan/yara.ts";
import { PE } from "../../fixtures/malicious.ts";

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

const RULES = `
rule Invoice_Lure {
  meta:
    description = "the word list of a phishing lure"
  strings:
    $a = "Your invoice is overdue" nocase
    $b = /pay within \\d+ hours/
  condition:
    all of them
}

rule Small_PE {
  condition:
    uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550 and filesize < 1MB
}
`;

describe("Function: compileYaraRules", () => {
  it("compiles rules and names their version by digest and count", () => {
    expect(compileYaraRules(RULES).version).toMatch(/^yara:[0-9a-f]{12}:2$/);
  });

  it.each([
    ["a syntax error", "rule broken { condition: $x }"],
    ["empty rules", "  \n"],
    ["an unknown module", 'import "nonexistent"\nrule a { condition: true }'],
  ])("refuses %s with the compiler's message", (_what, source) => {
    expect(validateYaraRules(source).length).toBeGreaterThan(0);
    expect(() => compileYaraRules(source)).toThrow(YaraRulesError);
  });
});

describe("Function: createYaraEngine", () => {
  const engine = createYaraEngine(compileYaraRules(RULES), { maxBytes: 4 * 1024 * 1024, timeoutMs: 10_000 });
  const scan = (data: Uint8Array, chunk = 7) =>
    engine.scan(chunks(data, chunk), { key: "k", size: data.length });

  it("finds a rule's strings across chunk boundaries, and names the rule", async () => {
    const data = new TextEncoder().encode(
      `Hello,\nYOUR INVOICE IS OVERDUE. Please pay within 24 hours.\n${"x".repeat(5000)}`,
    );
    expect(await scan(data)).toMatchObject({
      engine: "yara",
      status: "infected",
      findings: [{ name: "Yara.Invoice_Lure", path: "" }],
    });
  });

  it("runs conditions over the whole file (a PE by its header)", async () => {
    expect(await scan(PE, 64 * 1024)).toMatchObject({
      status: "infected",
      findings: [{ name: "Yara.Small_PE" }],
    });
  });

  it("is clean when no rule matches", async () => {
    expect(await scan(new TextEncoder().encode("an ordinary letter"))).toMatchObject({
      status: "clean",
      signatureVersion: expect.stringMatching(/^yara:/),
    });
  });

  it("holds an object above its size budget without reading it", async () => {
    const result = await createYaraEngine(compileYaraRules(RULES), { maxBytes: 10 }).scan(
      chunks(new Uint8Array(11), 4),
      {
        key: "k",
        size: 11,
      },
    );
    expect(result).toMatchObject({ status: "error", reason: "limit-exceeded" });
  });

  it("is an error, never clean, when the stream is shorter than announced", async () => {
    expect(await engine.scan(chunks(new Uint8Array(5), 2), { key: "k", size: 9 })).toMatchObject({
      status: "error",
      reason: "corrupt",
    });
  });

  it("is a timeout error, never clean, when the rules take longer than the budget", async () => {
    const stuck: YaraRules = { compiled: { scanAsync: () => new Promise(() => {}) }, version: "yara:test:1" };
    const started = Date.now();
    const result = await createYaraEngine(stuck, { timeoutMs: 50 }).scan(chunks(new Uint8Array(3), 3), {
      key: "k",
      size: 3,
    });
    expect(result).toMatchObject({ status: "error", reason: "timeout" });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("turns an INFECTED verdict on one teed read next to the built-in engine", async () => {
    const data = new TextEncoder().encode("Your invoice is overdue; pay within 2 hours.");
    const engines = [
      createBuiltinEngine({ maxDepth: 4, maxEntries: 50, maxExpandedBytes: 1 << 20, maxRatio: 100 }),
      engine,
    ];
    const { branches } = tee(chunks(data, 5), engines.length);
    const results = await Promise.all(
      engines.map((e, i) => e.scan(branches[i]?.stream ?? chunks(data, 5), { key: "k", size: data.length })),
    );
    expect(combineEngineResults(results)).toEqual({ status: "infected", reasons: ["Yara.Invoice_Lure"] });
  });
});
