import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type {
  EngineResult,
  FileRecord,
  MetadataResult,
  ScanResult,
  ValidateResult,
} from "../../../core/domain/types.ts";
import { decideVerdict, missingStages } from "../../../core/domain/verdict.ts";

const at = "2026-11-22T00:00:00.000Z";
const validate = (status: ValidateResult["status"], reasons: string[] = []): ValidateResult => ({
  stage: "validate",
  status,
  reasons,
  size: 10,
  at,
});
const scan = (
  status: ScanResult["status"],
  engines: EngineResult[] = [],
  reasons: string[] = [],
): ScanResult => ({
  stage: "scan",
  status,
  engines,
  reasons,
  at,
});
/** A metadata result; an `ok` one carries the digest of the bytes it read, as the metadata stage's does. */
const metadata = (status: MetadataResult["status"], reasons: string[] = []): MetadataResult => ({
  stage: "metadata",
  status,
  reasons,
  ...(status === "ok" ? { facts: { sha256: "a".repeat(64), size: 10 } } : {}),
  at,
});
const corrupt: EngineResult = { engine: "builtin", status: "error", reason: "corrupt", detail: "truncated" };
const unavailable: EngineResult = {
  engine: "clamav",
  status: "error",
  reason: "engine-unavailable",
  detail: "down",
};

describe("Function: decideVerdict", () => {
  it("waits while any stage is missing", () => {
    expect(decideVerdict({ validate: validate("passed"), scan: scan("clean") })).toBeUndefined();
    expect(missingStages({ validate: validate("passed") })).toEqual(["scan", "metadata"]);
  });

  it.each<[string, FileRecord["stages"], string]>([
    ["all good", { validate: validate("passed"), scan: scan("clean"), metadata: metadata("ok") }, "VERIFIED"],
    [
      "a finding",
      {
        validate: validate("passed"),
        scan: scan("infected", [], ["Airlock.Eicar"]),
        metadata: metadata("ok"),
      },
      "INFECTED",
    ],
    [
      "a finding in a rejected file",
      {
        validate: validate("rejected", ["type exe is not allowed"]),
        scan: scan("infected"),
        metadata: metadata("ok"),
      },
      "INFECTED",
    ],
    [
      "wrong type",
      { validate: validate("rejected", ["x"]), scan: scan("clean"), metadata: metadata("ok") },
      "REJECTED",
    ],
    [
      "a corrupt archive",
      { validate: validate("passed"), scan: scan("error", [corrupt], ["corrupt"]), metadata: metadata("ok") },
      "REJECTED",
    ],
    [
      "an engine that is down",
      {
        validate: validate("passed"),
        scan: scan("error", [unavailable], ["down"]),
        metadata: metadata("ok"),
      },
      "FAILED",
    ],
    [
      "a dead-lettered metadata stage",
      { validate: validate("passed"), scan: scan("clean"), metadata: metadata("error", ["gave up"]) },
      "FAILED",
    ],
    [
      "a validation that crashed",
      { validate: validate("error", ["gave up"]), scan: scan("clean"), metadata: metadata("ok") },
      "FAILED",
    ],
  ])("decides %s", (_what, stages, status) => {
    expect(decideVerdict(stages)?.status).toBe(status);
  });

  it("rejects content whose SHA-256 is not the one declared at upload, and accepts it when it matches", () => {
    const digest = "ab".repeat(32);
    const facts = { sha256: digest, size: 10 };
    const declared = (sha: string): ValidateResult => ({ ...validate("passed"), declaredSha256: sha });
    const described: MetadataResult = { ...metadata("ok"), facts };
    expect(
      decideVerdict({ validate: declared(digest.toUpperCase()), scan: scan("clean"), metadata: described }),
    ).toEqual({ status: "VERIFIED", reasons: [] });
    const other = "cd".repeat(32);
    expect(decideVerdict({ validate: declared(other), scan: scan("clean"), metadata: described })).toEqual({
      status: "REJECTED",
      reasons: [`the content's SHA-256 ${digest} is not the ${other} declared at upload`],
    });
  });

  it("names the finding first and keeps validation's refusals beside it when a refused file is infected", () => {
    const verdict = decideVerdict({
      validate: validate("rejected", [
        "the file name ends with a dot or a space [name-trailing-dot-or-space]",
      ]),
      scan: scan("infected", [], ["Airlock.Script.WindowsHost"]),
      metadata: metadata("ok"),
    });
    expect(verdict).toEqual({
      status: "INFECTED",
      reasons: [
        "Airlock.Script.WindowsHost",
        "the file name ends with a dot or a space [name-trailing-dot-or-space]",
      ],
    });
  });

  it("rejects a PDF that no PDF reader can open", () => {
    const unreadable: MetadataResult = {
      ...metadata("ok"),
      facts: { sha256: "ab".repeat(32), size: 10, pdf: { pages: 0, encrypted: false, readable: false } },
    };
    expect(
      decideVerdict({ validate: validate("passed"), scan: scan("clean"), metadata: unreadable }),
    ).toEqual({
      status: "REJECTED",
      reasons: ["the PDF cannot be opened by a PDF reader (its structure is invalid)"],
    });
  });

  it("never verifies bytes whose SHA-256 was not computed: promotion carries it", () => {
    const noDigest: MetadataResult = { stage: "metadata", status: "ok", reasons: [], at };
    expect(decideVerdict({ validate: validate("passed"), scan: scan("clean"), metadata: noDigest })).toEqual({
      status: "FAILED",
      reasons: ["no SHA-256 was computed for the bytes judged"],
    });
  });

  it("is VERIFIED only when validation passed and the scan was clean (property)", () => {
    const stages = fc.record({
      validate: fc
        .constantFrom("passed", "rejected", "error")
        .map((s) => validate(s as ValidateResult["status"], ["v"])),
      scan: fc
        .constantFrom<[ScanResult["status"], EngineResult[]]>(
          ["clean", []],
          ["infected", []],
          ["error", [corrupt]],
          ["error", [unavailable]],
        )
        .map(([s, e]) => scan(s, e, ["s"])),
      metadata: fc.constantFrom("ok", "error").map((s) => metadata(s as MetadataResult["status"], ["m"])),
    });
    fc.assert(
      fc.property(stages, (s) => {
        const verdict = decideVerdict(s);
        const safe =
          s.validate.status === "passed" && s.scan.status === "clean" && s.metadata.status === "ok";
        expect(verdict?.status === "VERIFIED").toBe(safe);
        if (!safe) expect(verdict?.reasons.length).toBeGreaterThan(0);
        if (s.scan.status === "infected") expect(verdict?.status).toBe("INFECTED");
      }),
    );
  });
});
