/** GuardDuty's result events: parsing, the mapping of every documented result, and malformed input. */
import { describe, expect, it } from "vitest";
import {
  GuardDutyEventError,
  guardDutyEngineResult,
  parseGuardDutyEvent,
} from "../../../core/domain/scan/guardduty.ts";
import { guardDutyEvent } from "../../fixtures/guardduty.ts";

const parsed = (e: object) => parseGuardDutyEvent(JSON.stringify(e));
const base = { bucket: "airlock-ingest", key: "drops/billing/invoice 1+1 ✓.pdf" };

describe("Function: guardDutyEngineResult", () => {
  it.each([
    ["NO_THREATS_FOUND", { engine: "guardduty", status: "clean" }],
    [
      "THREATS_FOUND",
      {
        engine: "guardduty",
        status: "infected",
        findings: [{ name: "GuardDuty.EICAR-Test-File_not_a_virus_", path: "" }],
      },
    ],
    ["UNSUPPORTED", { engine: "guardduty", status: "error", reason: "unsupported" }],
    ["ACCESS_DENIED", { engine: "guardduty", status: "error", reason: "engine-unavailable" }],
    ["FAILED", { engine: "guardduty", status: "error", reason: "internal" }],
  ] as const)("maps %s", (result, expected) => {
    expect(guardDutyEngineResult(parsed(guardDutyEvent({ ...base, result })))).toMatchObject(expected);
  });

  it("names every threat, and still reports THREATS_FOUND without names as infected", () => {
    const many = guardDutyEngineResult(
      parsed(guardDutyEvent({ ...base, result: "THREATS_FOUND", threats: ["Trojan:Win32/X", "Backdoor.Y"] })),
    );
    expect(many).toMatchObject({
      status: "infected",
      findings: [{ name: "GuardDuty.Trojan_Win32_X" }, { name: "GuardDuty.Backdoor.Y" }],
    });
    const unnamed = guardDutyEvent({ ...base, result: "THREATS_FOUND" });
    unnamed.detail.scanResultDetails.threats = null;
    expect(guardDutyEngineResult(parsed(unnamed))).toMatchObject({
      status: "infected",
      findings: [{ name: "GuardDuty.Unnamed" }],
    });
  });

  it("treats an unknown result value as an error, never clean", () => {
    const odd = guardDutyEvent({ ...base, result: "NO_THREATS_FOUND" });
    (odd.detail.scanResultDetails as { scanResultStatus: string }).scanResultStatus = "SOMETHING_NEW";
    expect(guardDutyEngineResult(parsed(odd))).toMatchObject({ status: "error", reason: "internal" });
  });
});

describe("Function: parseGuardDutyEvent", () => {
  it("keeps the object's key as written, with its version", () => {
    const event = parsed(guardDutyEvent({ ...base, result: "NO_THREATS_FOUND", versionId: "v1" }));
    expect(event.detail.s3ObjectDetails).toMatchObject({ objectKey: base.key, versionId: "v1" });
  });

  it.each([
    ["not JSON", "{", /not JSON/],
    [
      "another event type",
      JSON.stringify({
        ...guardDutyEvent({ ...base, result: "FAILED" }),
        "detail-type": "GuardDuty Finding",
      }),
      /detail-type/,
    ],
    [
      "no object details",
      JSON.stringify({ ...guardDutyEvent({ ...base, result: "FAILED" }), detail: { scanStatus: "FAILED" } }),
      /detail/,
    ],
  ])("refuses %s with a clear error", (_what, body, message) => {
    expect(() => parseGuardDutyEvent(body)).toThrow(GuardDutyEventError);
    expect(() => parseGuardDutyEvent(body)).toThrow(message);
  });
});
