/**
 * The YARA engine: user-supplied rules (YARA-X, through the `@litko/yara-x` binding) run on the same single read
 * as the other engines. YARA rules may look anywhere in a file (`filesize`, `uint32(@x)`, the `pe` module), so
 * YARA-X scans a whole buffer: the engine copies the object into memory as the shared read passes, up to a size
 * budget, then scans it off the main thread.
 *
 * Fail closed: a rule that matches is a finding `Yara.<rule>` (`Yara.<namespace>.<rule>` outside the default
 * namespace) and the file is INFECTED; an object larger than the budget is `limit-exceeded`; a scan that outlasts
 * its time budget is a `timeout` error, never clean (the binding has no cancellation: the native scan finishes on
 * its worker thread and its answer is dropped); a binding that cannot load or rules that do not compile fail the
 * cold start, naming the problem. The signature version is `yara:<digest of the rules>:<rule count>`.
 *
 * The binding is loaded on first use (and only where rules are configured), so bundles and machines without it
 * are unaffected.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import type { EngineResult } from "../types.ts";
import type { ScanContext, ScanEngine } from "./engine.ts";

export class YaraRulesError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "YaraRulesError";
  }
}

interface RuleMatch {
  ruleIdentifier: string;
  namespace: string;
}
interface Compiled {
  scanAsync(data: Buffer): Promise<RuleMatch[]>;
}
interface Binding {
  compile(source: string, options?: object): Compiled;
  validate(source: string, options?: object): { errors: { message: string; line?: number }[] };
}

export const YARA_DEFAULTS = {
  /** Objects larger than this are not scanned (limit-exceeded): YARA-X holds the whole object in memory. */
  maxBytes: 100 * 1024 * 1024,
  timeoutMs: 30_000,
} as const;

/** Compiler options: slow patterns and loops are refused up front instead of timing out on every file. */
const COMPILER_OPTIONS = { errorOnSlowPattern: true, errorOnSlowLoop: true };

function binding(): Binding {
  try {
    // The binding's native module itself: the `@litko/yara-x` wrapper names macOS packages that were never
    // published, which would make every clean install (`npm ci`) fail.
    return createRequire(import.meta.url)("@litko/yara-x-linux-x64-gnu") as Binding;
  } catch (error) {
    throw new YaraRulesError(
      `the YARA engine needs the YARA-X native binding (@litko/yara-x-linux-x64-gnu, published for linux-x64 with glibc only), which does not load here: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/** Compiler errors of a rule source, in plain sentences (empty when it compiles). */
export function validateYaraRules(source: string): string[] {
  if (source.trim() === "") return ["the YARA rules are empty"];
  return binding()
    .validate(source, COMPILER_OPTIONS)
    .errors.map((e) => e.message.split("\n")[0] ?? e.message);
}

export interface YaraRules {
  compiled: Compiled;
  version: string;
}

/** Compiles rules once (per cold start); throws YaraRulesError naming the first compiler error. */
export function compileYaraRules(source: string): YaraRules {
  const errors = validateYaraRules(source);
  if (errors.length > 0) throw new YaraRulesError(`the YARA rules do not compile: ${errors[0]}`);
  const compiled = binding().compile(source, COMPILER_OPTIONS);
  const rules = (source.match(/^\s*(?:(?:private|global)\s+)*rule\s+\w+/gm) ?? []).length;
  const digest = createHash("sha256").update(source).digest("hex").slice(0, 12);
  return { compiled, version: `yara:${digest}:${rules}` };
}

const findingName = (m: RuleMatch) =>
  `Yara.${m.namespace && m.namespace !== "default" ? `${m.namespace}.` : ""}${m.ruleIdentifier}`;

export function createYaraEngine(
  rules: YaraRules,
  options: { maxBytes?: number; timeoutMs?: number } = {},
): ScanEngine {
  const maxBytes = options.maxBytes ?? YARA_DEFAULTS.maxBytes;
  const timeoutMs = options.timeoutMs ?? YARA_DEFAULTS.timeoutMs;
  const error = (
    reason: "limit-exceeded" | "corrupt" | "timeout" | "internal",
    detail: string,
  ): EngineResult => ({
    engine: "yara",
    status: "error",
    reason,
    detail,
  });
  return {
    name: "yara",
    async scan(source: AsyncIterable<Uint8Array>, ctx: ScanContext): Promise<EngineResult> {
      if (ctx.size > maxBytes)
        return error("limit-exceeded", `${ctx.size} bytes is above the YARA engine's budget of ${maxBytes}`);
      const data = Buffer.allocUnsafe(ctx.size);
      let read = 0;
      for await (const chunk of source) {
        if (read + chunk.length > ctx.size)
          return error("limit-exceeded", `the object grew past its announced ${ctx.size} bytes`);
        data.set(chunk, read);
        read += chunk.length;
      }
      if (read !== ctx.size) return error("corrupt", `read ${read} of ${ctx.size} bytes`);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      try {
        const outcome = await Promise.race([rules.compiled.scanAsync(data), timedOut]);
        if (outcome === "timeout") return error("timeout", `the YARA rules took longer than ${timeoutMs} ms`);
        if (outcome.length === 0) return { engine: "yara", status: "clean", signatureVersion: rules.version };
        const findings = [...new Set(outcome.map(findingName))].map((name) => ({ name, path: "" }));
        return { engine: "yara", status: "infected", findings, signatureVersion: rules.version };
      } catch (cause) {
        return error(
          "internal",
          `YARA scan failed: ${cause instanceof Error ? cause.message : String(cause)}`,
        );
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
