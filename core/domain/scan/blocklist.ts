/**
 * The hash blocklist engine: the SHA-256 of every object (computed on the shared read) against a list of known
 * bad digests. A list is text, one entry per line or comma: a hex digest, optionally followed by whitespace and
 * a name (`Airlock.Hash.<name>`; without one, `Airlock.Hash.Blocklisted`); `#` starts a comment. The list's
 * own digest is the engine's signature version, so a record shows which list judged it.
 */
import { createHash } from "node:crypto";
import type { EngineResult } from "../types.ts";
import type { ScanContext, ScanEngine } from "./engine.ts";

export interface Blocklist {
  /** digest (lower-case hex) → finding name */
  entries: ReadonlyMap<string, string>;
  version: string;
}

export class BlocklistError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BlocklistError";
  }
}

export function parseBlocklist(text: string): Blocklist {
  const entries = new Map<string, string>();
  text.split(/[\n,]/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    const [digest = "", ...rest] = line.split(/\s+/);
    if (!/^[0-9a-fA-F]{64}$/.test(digest))
      throw new BlocklistError(
        `blocklist entry ${i + 1} is not a SHA-256 hex digest: ${JSON.stringify(digest)}`,
      );
    const label = rest.join("-").replace(/[^A-Za-z0-9._-]/g, "_");
    entries.set(digest.toLowerCase(), label ? `Airlock.Hash.${label}` : "Airlock.Hash.Blocklisted");
  });
  const canonical = [...entries].sort(([a], [b]) => a.localeCompare(b)).map(([d, n]) => `${d} ${n}`);
  const version = `blocklist:${createHash("sha256").update(canonical.join("\n")).digest("hex").slice(0, 12)}:${entries.size}`;
  return { entries, version };
}

export function createBlocklistEngine(list: Blocklist): ScanEngine {
  return {
    name: "blocklist",
    async scan(source: AsyncIterable<Uint8Array>, ctx: ScanContext): Promise<EngineResult> {
      const hash = createHash("sha256");
      let read = 0;
      for await (const chunk of source) {
        hash.update(chunk);
        read += chunk.length;
      }
      if (read !== ctx.size)
        return {
          engine: "blocklist",
          status: "error",
          reason: "corrupt",
          detail: `read ${read} of ${ctx.size} bytes, so the digest is not the object's`,
        };
      const digest = hash.digest("hex");
      const name = list.entries.get(digest);
      if (name)
        return {
          engine: "blocklist",
          status: "infected",
          findings: [{ name, path: "" }],
          signatureVersion: list.version,
        };
      return { engine: "blocklist", status: "clean", signatureVersion: list.version };
    },
  };
}
