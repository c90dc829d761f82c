/** Pulumi.yaml declares every key the program reads, with the program's own default. */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../infra/config.ts";

describe("Pulumi.yaml: the config reference", () => {
  it("declares every key of the typed config, and its defaults are the program's", () => {
    const declared = (
      parse(readFileSync("Pulumi.yaml", "utf8")) as { config: Record<string, { default?: unknown }> }
    ).config;
    pulumi.runtime.setAllConfig({});
    const defaults = loadConfig(new pulumi.Config("airlock"), "us-east-1") as unknown as Record<
      string,
      unknown
    >;
    expect(Object.keys(declared).sort()).toEqual(Object.keys(defaults).sort());
    for (const [key, value] of Object.entries(defaults)) {
      const expected = declared[key]?.default;
      // Optional strings are undefined in the program and "" in Pulumi.yaml.
      expect(value ?? "", key).toEqual(expected);
    }
  });
});
