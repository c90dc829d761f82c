import { describe, expect, it } from "vitest";
import { isFinal, statusWords } from "../../../web/src/status.ts";

describe("Function: statusWords", () => {
  it.each([
    ["VERIFIED", "Verified", "ok"],
    ["INFECTED", "Infected", "bad"],
    ["FAILED", "Failed", "bad"],
    ["REJECTED", "Rejected", "warn"],
    ["PENDING", "Checking", "busy"],
    ["AWAITING_UPLOAD", "Uploading", "busy"],
  ])("labels %s as %s with the %s tone", (status, label, tone) => {
    expect(statusWords(status)).toMatchObject({ label, tone });
    expect(statusWords(status).summary.length).toBeGreaterThan(10);
  });

  it("says why a held file cannot be downloaded", () => {
    expect(statusWords("INFECTED").summary).toContain("cannot be downloaded");
    expect(statusWords("FAILED").summary).toContain("not released");
  });

  it("keeps an unknown status readable instead of failing", () => {
    expect(statusWords("QUARANTINED")).toEqual({
      label: "QUARANTINED",
      summary: "The file is QUARANTINED.",
      tone: "warn",
    });
  });
});

describe("Function: isFinal", () => {
  it("treats verdicts and deletion as final and checking as not", () => {
    expect(["VERIFIED", "REJECTED", "INFECTED", "FAILED", "DELETED"].every(isFinal)).toBe(true);
    expect(isFinal("PENDING")).toBe(false);
    expect(isFinal("AWAITING_UPLOAD")).toBe(false);
  });
});
