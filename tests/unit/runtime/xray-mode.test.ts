import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { tracingWillBeOn } from "../../../core/runtime/xray-mode.ts";

/** Loads the clients module in a fresh process and says whether the X-Ray SDK created its cls namespace. */
function namespaceAfterLoading(env: Record<string, string>): string {
  const script = `
    await import(${JSON.stringify(new URL("../../../core/runtime/clients.ts", import.meta.url).href)});
    const ns = process.namespaces?.AWSXRay;
    console.log(ns ? "automatic" : "manual");
  `;
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !["AWS_EXECUTION_ENV", "AWS_SAM_LOCAL", "POWERTOOLS_TRACE_ENABLED", "AWS_XRAY_MANUAL_MODE"].includes(
          k,
        ),
    ),
  );
  return execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    env: { ...clean, ...env },
    encoding: "utf8",
  }).trim();
}

describe("X-Ray SDK mode", () => {
  it("tracks no promises outside Lambda, where the tracer is off", () => {
    expect(namespaceAfterLoading({})).toBe("manual");
  });

  it("tracks none in Lambda with POWERTOOLS_TRACE_ENABLED=false", () => {
    expect(
      namespaceAfterLoading({
        AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
        POWERTOOLS_TRACE_ENABLED: "false",
      }),
    ).toBe("manual");
  });

  it("keeps automatic mode in Lambda with tracing on (the tracer's subsegments need it)", () => {
    expect(namespaceAfterLoading({ AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x" })).toBe("automatic");
  });

  it("follows the tracer's own rules for when it traces", () => {
    const lambda = { AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x" };
    expect(tracingWillBeOn(lambda)).toBe(true);
    expect(tracingWillBeOn({})).toBe(false);
    expect(tracingWillBeOn({ AWS_EXECUTION_ENV: "AWS_Lambda_amplify-mock" })).toBe(false);
    expect(tracingWillBeOn({ ...lambda, AWS_SAM_LOCAL: "true" })).toBe(false);
    expect(tracingWillBeOn({ ...lambda, POWERTOOLS_TRACE_ENABLED: "FALSE" })).toBe(false);
  });
});
