import { describe, expect, it } from "vitest";
import { OPTIONAL_HANDLER_ENV, readOptionalEnv } from "../../../core/runtime/env.ts";

describe("Function: readOptionalEnv", () => {
  const names = OPTIONAL_HANDLER_ENV.scan;

  it("returns nothing when ClamAV is not configured", () => {
    expect(readOptionalEnv(names, {})).toEqual({});
    expect(readOptionalEnv(names, { AIRLOCK_CLAMD_ENDPOINT: "" })).toEqual({});
  });

  it("parses the variables that are set", () => {
    expect(
      readOptionalEnv(names, {
        AIRLOCK_CLAMD_ENDPOINT: "tcp://10.0.1.5:3310",
        AIRLOCK_CLAMD_STREAM_MAX_BYTES: "26214400",
      }),
    ).toEqual({ AIRLOCK_CLAMD_ENDPOINT: "tcp://10.0.1.5:3310", AIRLOCK_CLAMD_STREAM_MAX_BYTES: 26214400 });
  });

  it("throws naming a malformed variable", () => {
    expect(() => readOptionalEnv(names, { AIRLOCK_CLAMD_ENDPOINT: "clamd:3310" })).toThrow(
      /AIRLOCK_CLAMD_ENDPOINT is malformed \(expected tcp:\/\/host:port or a Unix socket path\)/,
    );
    expect(() => readOptionalEnv(names, { AIRLOCK_CLAMD_TIMEOUT_MS: "soon" })).toThrow(
      /AIRLOCK_CLAMD_TIMEOUT_MS/,
    );
  });
});
