import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../web/src/config.ts";
import { contentTypeFor } from "../../../web/src/content-type.ts";
import { factsOf, humanize } from "../../../web/src/facts.ts";

const sha = "a".repeat(64);

describe("Function: factsOf", () => {
  it("shows type, size, document facts and sha256 of a record", () => {
    const facts = factsOf({
      fileId: "F1",
      name: "report.pdf",
      status: "VERIFIED",
      size: 1_215_000,
      sha256: sha,
      detectedType: { id: "pdf", mime: "application/pdf", ext: "pdf" },
      stages: {
        metadata: {
          facts: { sha256: sha, size: 1_215_000, pdf: { pages: 3 }, text: { words: 1200, lines: 80 } },
        },
      },
    });
    expect(facts).toEqual([
      { label: "Type", value: "PDF (application/pdf)" },
      { label: "Size", value: "1.2 MiB (1,215,000 bytes)" },
      { label: "Pages", value: "3" },
      { label: "Words", value: "1,200" },
      { label: "Lines", value: "80" },
      { label: "SHA-256", value: sha },
    ]);
  });

  it("shows image dimensions and parser warnings", () => {
    const facts = factsOf({
      size: 96,
      stages: { metadata: { facts: { image: { width: 40, height: 30 }, warnings: ["exif unreadable"] } } },
    });
    expect(facts).toContainEqual({ label: "Dimensions", value: "40 × 30 px" });
    expect(facts).toContainEqual({ label: "Warnings", value: "exif unreadable" });
    expect(facts).toContainEqual({ label: "Size", value: "96 bytes" });
  });

  it("shows fields it has never heard of, and long text collapsed", () => {
    const preview = "Lorem ipsum ".repeat(20);
    const facts = factsOf({
      fileId: "F2",
      pages: 7,
      language: "en",
      stages: { metadata: { facts: { textPreview: preview, pdf: { pages: 7, encrypted: false } } } },
    });
    expect(facts).toContainEqual({ label: "Pages", value: "7" });
    expect(facts).toContainEqual({ label: "Language", value: "en" });
    expect(facts).toContainEqual({ label: "Text preview", value: preview, long: true });
    expect(facts).toContainEqual({ label: "Pdf encrypted", value: "no" });
    expect(facts.filter((f) => f.label === "Pages")).toHaveLength(1);
  });

  it("leaves out what is not a fact and what is empty", () => {
    const labels = factsOf({
      fileId: "F3",
      status: "PENDING",
      reasons: [],
      owner: "alice",
      createdAt: "x",
    }).map((f) => f.label);
    expect(labels).toEqual([]);
  });
});

describe("Function: humanize", () => {
  it.each([
    ["textPreview", "Text preview"],
    ["text.preview", "Text preview"],
    ["ocr_confidence", "Ocr confidence"],
  ])("labels %s as %s", (path, label) => {
    expect(humanize(path)).toBe(label);
  });
});

describe("Function: parseConfig", () => {
  it("accepts the local stack's config", () => {
    expect(
      parseConfig({ apiUrl: "http://127.0.0.1:4569/", auth: { mode: "local", tokenUrl: "dev/token" } }),
    ).toEqual({
      apiUrl: "http://127.0.0.1:4569",
      auth: { mode: "local", tokenUrl: "dev/token" },
    });
  });

  it("accepts an OIDC config with optional endpoints", () => {
    const config = parseConfig({
      apiUrl: "https://api.example.com",
      auth: { mode: "oidc", issuer: "https://idp.example.com/", clientId: "c1", tokenEndpoint: "https://t" },
    });
    expect(config.auth).toEqual({
      mode: "oidc",
      issuer: "https://idp.example.com",
      clientId: "c1",
      scope: undefined,
      authorizationEndpoint: undefined,
      tokenEndpoint: "https://t",
      token: undefined,
    });
  });

  it("names what is missing or wrong", () => {
    expect(() => parseConfig({})).toThrow("apiUrl is missing");
    expect(() => parseConfig({ apiUrl: "x", auth: { mode: "saml" } })).toThrow("auth.mode");
    expect(() => parseConfig({ apiUrl: "x", auth: { mode: "oidc", issuer: "i" } })).toThrow("auth.clientId");
    expect(() =>
      parseConfig({ apiUrl: "x", auth: { mode: "oidc", issuer: "i", clientId: "c", token: "x" } }),
    ).toThrow("auth.token");
  });
});

describe("Function: contentTypeFor", () => {
  it("keeps the browser's type and guesses from the extension when there is none", () => {
    expect(contentTypeFor("a.pdf", "application/pdf")).toBe("application/pdf");
    expect(contentTypeFor("notes.CSV", "")).toBe("text/csv");
    expect(contentTypeFor("tool.exe", "")).toBe("application/octet-stream");
  });

  it("leaves out OCR bookkeeping, and a held file's text preview", () => {
    const record = (status: string) => ({
      status,
      stages: {
        metadata: {
          facts: {
            extracted: { source: "text", characters: 68, words: 1, preview: "X5O!P%@AP" },
            ocr: { engine: "textract", status: "skipped", reason: "not an image or PDF" },
          },
        },
      },
    });
    const labels = (status: string) => factsOf(record(status)).map((f) => f.label);
    expect(labels("INFECTED")).toEqual(["Extracted words"]);
    expect(labels("VERIFIED")).toEqual(["Extracted words", "Extracted preview"]);
  });

  it("names the language of prose only, in words", () => {
    const prose =
      "The quarterly report shows that revenue grew in every region, and that the new office in the north " +
      "opened on time. The board thanks all staff for their work during a difficult year for the company.";
    const record = (preview: string, words: number) => ({
      status: "VERIFIED",
      stages: {
        metadata: {
          facts: {
            extracted: { source: "text", characters: preview.length, words, language: "eng", preview },
          },
        },
      },
    });
    expect(factsOf(record(prose, 38))).toContainEqual({
      label: "Language (a guess)",
      value: "English (eng)",
    });
    const table = "12,13,14\n15,16,17\n".repeat(20);
    expect(factsOf(record(table, 40)).map((f) => f.label)).not.toContain("Language (a guess)");
  });
});
