/**
 * Structural rules of the core that the compiler does not check: no import cycles between its modules, and no
 * anonymous `new Error(` in domain and use-case code (every error there is a named class a caller can catch).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");
const core = join(root, "core");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Relative imports and re-exports of one module, resolved to files (type-only imports included). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"/g)];
  return specifiers.map((m) => resolve(dirname(file), m[1] ?? ""));
}

/** Every cycle found by a depth-first walk, each as the list of modules on it. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe("The core's module graph", () => {
  it("finds a cycle where there is one (the check can fail)", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", ["a"]],
    ]);
    expect(findCycles(graph)).toEqual([["a", "b", "c", "a"]]);
    expect(
      findCycles(
        new Map([
          ["a", ["b"]],
          ["b", []],
        ]),
      ),
    ).toEqual([]);
  });

  it("has no import cycle", () => {
    const files = sources(core);
    const graph = new Map(files.map((file) => [file, importsOf(file)]));
    const cycles = findCycles(graph).map((cycle) => cycle.map((file) => relative(root, file)).join(" → "));
    expect(cycles).toEqual([]);
  });
});

describe("Errors in the core", () => {
  it("domain and use-case code raise named errors only, never a bare new Error(", () => {
    const offenders = [...sources(join(core, "domain")), ...sources(join(core, "usecases"))].flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .flatMap((line, i) => (/\bnew Error\(/.test(line) ? [`${relative(root, file)}:${i + 1}`] : [])),
    );
    expect(offenders).toEqual([]);
  });

  it("error classes of the use cases, the ports and the domain's own modules end in Error and take { cause }", () => {
    // The content and scan rules (core/domain/content, core/domain/scan) keep their own error types for now.
    const domainOwn = readdirSync(join(core, "domain"))
      .filter((name) => name.endsWith(".ts"))
      .map((name) => join(core, "domain", name));
    const files = [...domainOwn, ...sources(join(core, "usecases")), ...sources(join(core, "ports"))];
    const problems: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const match of text.matchAll(/export class (\w+) extends (\w*Error)\b[^{]*\{([\s\S]*?)\n\}/g)) {
        const [, name = "", , body = ""] = match;
        const where = `${relative(root, file)}: ${name}`;
        if (!name.endsWith("Error")) problems.push(`${where} does not end in Error`);
        const ctor = /constructor\(([\s\S]*?)\)\s*\{([\s\S]*?)\n {2}\}/.exec(body);
        if (ctor && !(/ErrorOptions/.test(ctor[1] ?? "") && /super\([^)]*options/.test(ctor[2] ?? "")))
          problems.push(`${where} does not pass { cause } on`);
      }
    }
    expect(problems).toEqual([]);
  });
});
