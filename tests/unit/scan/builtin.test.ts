import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUILTIN_SIGNATURES } from "../../../core/domain/scan/builtin.ts";
import {
  combineEngineResults,
  createBuiltinEngine,
  type ScanLimits,
} from "../../../core/domain/scan/index.ts";
import type { EngineResult } from "../../../core/domain/types.ts";
import { gzip, nest, truncate, zip, zipBomb } from "../../fixtures/archives.ts";
import { CLEAN_DOCUMENTS, docm, pdf } from "../../fixtures/documents.ts";
import {
  BENIGN,
  EICAR,
  ELF,
  HTML_WITH_JS_URL,
  HTML_WITH_SCRIPT,
  MACHO_64,
  MACHO_FAT,
  PE,
  SHELL_SCRIPT,
  SVG_WITH_ONLOAD,
  SVG_WITH_SCRIPT,
} from "../../fixtures/malicious.ts";

const LIMITS: ScanLimits = { maxDepth: 4, maxEntries: 50, maxExpandedBytes: 64 * 1024 * 1024, maxRatio: 100 };

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

function scan(
  data: Uint8Array,
  { chunk = 64 * 1024, limits = LIMITS, size = data.length } = {},
): Promise<EngineResult> {
  return createBuiltinEngine(limits).scan(chunks(data, chunk), { key: "k", size });
}

const names = (r: EngineResult) =>
  r.status === "infected" ? r.findings.map((f) => `${f.name}@${f.path}`) : [];

describe("Function: createBuiltinEngine", () => {
  describe("finds what it must", () => {
    it.each<[string, Uint8Array, string]>([
      ["EICAR", EICAR, "Airlock.Eicar@"],
      ["a PE", PE, "Airlock.Executable.PE@"],
      ["an ELF", ELF, "Airlock.Executable.ELF@"],
      ["a 64-bit Mach-O", MACHO_64, "Airlock.Executable.MachO@"],
      ["a universal Mach-O", MACHO_FAT, "Airlock.Executable.MachO@"],
      ["a shebang script", SHELL_SCRIPT, "Airlock.Script.Shebang@"],
      ["HTML with script", HTML_WITH_SCRIPT, "Airlock.Html.Script@"],
      ["HTML with a javascript: URL", HTML_WITH_JS_URL, "Airlock.Html.Script@"],
      ["SVG with script", SVG_WITH_SCRIPT, "Airlock.Svg.Script@"],
      ["SVG with onload", SVG_WITH_ONLOAD, "Airlock.Svg.Script@"],
      ["EICAR zipped", zip([{ name: "e.com", data: EICAR }]), "Airlock.Eicar@e.com"],
      ["EICAR deflated", zip([{ name: "e.com", data: EICAR, method: "deflate" }]), "Airlock.Eicar@e.com"],
      [
        "EICAR behind a data descriptor",
        zip([
          { name: "a.txt", data: new Uint8Array(3000).fill(97), method: "deflate", dataDescriptor: true },
          { name: "e.com", data: EICAR, method: "deflate", dataDescriptor: true },
        ]),
        "Airlock.Eicar@e.com",
      ],
      [
        "EICAR in a zip64 entry",
        zip([{ name: "e.com", data: EICAR, zip64: true, method: "deflate" }]),
        "Airlock.Eicar@e.com",
      ],
      ["EICAR gzipped", gzip(EICAR), "Airlock.Eicar@(gunzip)"],
      [
        "EICAR double-zipped",
        zip([{ name: "in.zip", data: zip([{ name: "e.com", data: EICAR }]) }]),
        "Airlock.Eicar@in.zip/e.com",
      ],
      [
        "a PE gzipped inside a zip",
        zip([{ name: "x.gz", data: gzip(PE) }]),
        "Airlock.Executable.PE@x.gz/(gunzip)",
      ],
      ["a zip inside gzip", gzip(zip([{ name: "run", data: ELF }])), "Airlock.Executable.ELF@(gunzip)/run"],
    ])("finds %s", async (_what, data, finding) => {
      expect(names(await scan(data))).toContain(finding);
    });

    const pdfWith = (dictionary: string) => {
      const base = Buffer.from(pdf({ pages: 1, text: "hello" })).toString("latin1");
      return new Uint8Array(
        Buffer.from(base.replace("/Type /Catalog", `/Type /Catalog ${dictionary}`), "latin1"),
      );
    };

    it.each([
      [
        "a PDF that opens with JavaScript",
        pdfWith("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
        "Airlock.Pdf.JavaScript@",
      ],
      [
        "a PDF that launches a program",
        pdfWith("/OpenAction << /S /Launch /F (cmd.exe) >>"),
        "Airlock.Pdf.Launch@",
      ],
      [
        "a PDF carrying a file",
        pdfWith(
          "/Names << /EmbeddedFiles << /Names [(a.exe) << /EF << /F 9 0 R >> /Type /EmbeddedFile >>] >> >>",
        ),
        "Airlock.Pdf.EmbeddedFile@",
      ],
      ["a macro-enabled Word document", docm(), "Airlock.Office.Macro@word/vbaProject.bin"],
      [
        "a PDF with JavaScript inside a zip",
        zip([
          { name: "in.pdf", data: pdfWith("/AA << /O << /S /JavaScript /JS (x) >> >>"), method: "deflate" },
        ]),
        "Airlock.Pdf.JavaScript@in.pdf",
      ],
    ])("finds %s", async (_what, data, finding) => {
      expect(names(await scan(data, { chunk: 13 }))).toContain(finding);
    });

    it.each([1, 7, 64 * 1024])("finds EICAR across chunk boundaries of %i bytes", async (chunk) => {
      const data = Buffer.concat([Buffer.alloc(100_003, 32), EICAR, Buffer.alloc(10, 32)]);
      expect(names(await scan(data, { chunk }))).toEqual(["Airlock.Eicar@"]);
    });

    it("reports a zip bomb as a finding without inflating it", async () => {
      const started = Date.now();
      const result = await scan(zipBomb(2 * 1024 ** 3), { limits: { ...LIMITS, maxExpandedBytes: 2 ** 40 } });
      expect(names(result)).toEqual(["Airlock.Archive.Bomb@zeros.bin"]);
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });

  describe("fails closed", () => {
    it.each<[string, Uint8Array, Partial<ScanLimits>, string, RegExp]>([
      [
        "an encrypted entry",
        zip([{ name: "s.txt", data: new Uint8Array(10), encrypted: true }]),
        {},
        "encrypted",
        /s\.txt/,
      ],
      [
        "a truncated zip",
        truncate(zip([{ name: "a.txt", data: new Uint8Array(5000).fill(65), method: "deflate" }]), 60),
        {},
        "corrupt",
        /truncated|unreadable|central directory/,
      ],
      [
        "a zip cut inside its entry",
        truncate(zip([{ name: "a.txt", data: new Uint8Array(10) }]), 40),
        {},
        "corrupt",
        /truncated zip entry a\.txt/,
      ],
      [
        "a truncated gzip",
        truncate(gzip(new Uint8Array(10000).fill(66)), 30),
        {},
        "corrupt",
        /unreadable|truncated/,
      ],
      [
        "garbage after a zip header",
        new Uint8Array(Buffer.concat([Buffer.from("PK\x03\x04"), Buffer.alloc(40, 0xff)])),
        {},
        "corrupt",
        /./,
      ],
      [
        "nesting past the limit",
        nest(new Uint8Array(5), 6, "a.txt"),
        {},
        "limit-exceeded",
        /depth limit of 4/,
      ],
      [
        "too many entries",
        zip(Array.from({ length: 51 }, (_, i) => ({ name: `${i}.txt`, data: new Uint8Array(1) }))),
        {},
        "limit-exceeded",
        /50 archive entries/,
      ],
      [
        "too many expanded bytes",
        zip([{ name: "big.txt", data: new Uint8Array(2 * 1024 * 1024).fill(1), method: "deflate" }]),
        { maxExpandedBytes: 1024 * 1024, maxRatio: 10_000 },
        "limit-exceeded",
        /expansion limit/,
      ],
    ])("returns an error for %s", async (_what, data, limits, reason, detail) => {
      const result = await scan(data, { limits: { ...LIMITS, ...limits } });
      expect(result.status).toBe("error");
      if (result.status === "error") {
        expect(result.reason).toBe(reason);
        expect(result.detail).toMatch(detail);
      }
    });

    it("returns an error when the stream is shorter than announced", async () => {
      const result = await scan(new Uint8Array(10), { size: 20 });
      expect(result).toMatchObject({ status: "error", reason: "corrupt" });
    });

    it("reports a finding over an error when both happen", async () => {
      const data = zip([
        { name: "e.com", data: EICAR },
        { name: "s.txt", data: new Uint8Array(3), encrypted: true },
      ]);
      expect(names(await scan(data))).toEqual(["Airlock.Eicar@e.com"]);
    });
  });

  describe("passes what is harmless", () => {
    it.each(CLEAN_DOCUMENTS.map((d) => [d.name, d.bytes()] as const))("passes %s", async (_n, data) => {
      expect(await scan(data)).toEqual({
        engine: "builtin",
        status: "clean",
        signatureVersion: BUILTIN_SIGNATURES,
      });
    });

    it.each(Object.entries(BENIGN))("passes benign %s", async (_n, data) => {
      expect(await scan(data)).toEqual({
        engine: "builtin",
        status: "clean",
        signatureVersion: BUILTIN_SIGNATURES,
      });
    });

    it("passes any clean payload in up to maxDepth containers, and finds EICAR in the same wrapping (property)", async () => {
      const wrap = (data: Uint8Array, kinds: string[]) =>
        kinds.reduce<Uint8Array>(
          (inner, kind, i) =>
            kind === "gzip"
              ? gzip(inner)
              : zip([{ name: `l${i}`, data: inner, method: kind === "deflate" ? "deflate" : "store" }]),
          data,
        );
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 2000 }).map((b) => b.map((x) => (x === 0x58 ? 0x59 : x))),
          fc.array(fc.constantFrom("zip", "deflate", "gzip"), { maxLength: LIMITS.maxDepth }),
          async (payload, kinds) => {
            const text = Buffer.concat([
              Buffer.from("data:"),
              Buffer.from(payload).map((b) => 0x20 + (b % 90)),
            ]);
            expect((await scan(wrap(text, kinds))).status).toBe("clean");
            expect(names(await scan(wrap(EICAR, kinds))).some((n) => n.startsWith("Airlock.Eicar@"))).toBe(
              true,
            );
          },
        ),
        { numRuns: 60 },
      );
    });

    it("never throws on arbitrary bytes (property)", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 4000 }),
          fc.integer({ min: 1, max: 512 }),
          async (bytes, chunk) => {
            const result = await scan(bytes, { chunk });
            expect(["clean", "infected", "error"]).toContain(result.status);
          },
        ),
        { numRuns: 150 },
      );
    });
  });

  it("keeps memory bounded on a 1 GiB stream", async () => {
    const block = Buffer.alloc(1024 * 1024, 0x41);
    async function* big() {
      for (let i = 0; i < 1024; i++) yield block;
    }
    const before = process.memoryUsage().rss;
    const result = await createBuiltinEngine(LIMITS).scan(big(), { key: "big", size: 1024 ** 3 });
    expect(result.status).toBe("clean");
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });
});

describe("Function: combineEngineResults", () => {
  it("is infected when any engine found something, error when any failed, clean only when all were clean", () => {
    const clean: EngineResult = { engine: "a", status: "clean" };
    const infected: EngineResult = {
      engine: "b",
      status: "infected",
      findings: [{ name: "X", path: "in.zip/x" }],
    };
    const failed: EngineResult = { engine: "c", status: "error", reason: "timeout", detail: "slow" };
    expect(combineEngineResults([clean, infected, failed])).toEqual({
      status: "infected",
      reasons: ["X in in.zip/x"],
    });
    expect(combineEngineResults([clean, failed])).toEqual({ status: "error", reasons: ["c: timeout: slow"] });
    expect(combineEngineResults([clean])).toEqual({ status: "clean", reasons: [] });
    expect(combineEngineResults([]).status).toBe("error");
  });
});
