import { describe, expect, it } from "vitest";
import { createBuiltinEngine, type ScanLimits } from "../../../core/domain/scan/index.ts";
import type { EngineResult } from "../../../core/domain/types.ts";
import { tar, zip } from "../../fixtures/archives.ts";
import { gif, jpeg, pdf, png } from "../../fixtures/documents.ts";
import { append, EICAR, JAVA_CLASS, JPEG_WITH_SCAN, PE, withZipComment } from "../../fixtures/malicious.ts";

const LIMITS: ScanLimits = { maxDepth: 4, maxEntries: 50, maxExpandedBytes: 64 * 1024 * 1024, maxRatio: 100 };

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
const scan = (data: Uint8Array, chunk = 64 * 1024, limits = LIMITS): Promise<EngineResult> =>
  createBuiltinEngine(limits).scan(chunks(data, chunk), { key: "k", size: data.length });
const names = (r: EngineResult) =>
  r.status === "infected" ? r.findings.map((f) => `${f.name}@${f.path}`).sort() : [];

const ZIP_EICAR = zip([{ name: "e.com", data: EICAR, method: "deflate" }]);
const JAR = zip([
  { name: "META-INF/MANIFEST.MF", data: new TextEncoder().encode("Main-Class: A\n") },
  { name: "A.class", data: JAVA_CLASS },
]);

describe("Function: createBuiltinEngine (polyglots and appended payloads)", () => {
  it.each<[string, Uint8Array, string[]]>([
    [
      "a PNG followed by a zip",
      append(png(8, 8), ZIP_EICAR),
      ["Airlock.Eicar@(trailing data)/e.com", "Airlock.Polyglot.TrailingData@", "Airlock.Polyglot.Zip@"],
    ],
    [
      "a JPEG followed by a JAR",
      append(jpeg(64, 64), JAR),
      [
        "Airlock.Executable.JavaClass@(trailing data)/A.class",
        "Airlock.Polyglot.TrailingData@",
        "Airlock.Polyglot.Zip@",
      ],
    ],
    [
      "a JPEG with an entropy-coded scan followed by a PE",
      append(JPEG_WITH_SCAN, PE),
      ["Airlock.Executable.PE@(trailing data)", "Airlock.Polyglot.TrailingData@"],
    ],
    [
      "a GIF followed by a PE",
      append(gif(4, 4), PE),
      ["Airlock.Executable.PE@(trailing data)", "Airlock.Polyglot.TrailingData@"],
    ],
    [
      "a PDF followed by a zip",
      append(pdf({ pages: 1, text: "x" }), ZIP_EICAR),
      ["Airlock.Polyglot.TrailingData@", "Airlock.Polyglot.Zip@"],
    ],
    [
      "a PDF followed by a zip whose comment is %%EOF",
      append(
        pdf({ pages: 1, text: "x" }),
        withZipComment(zip([{ name: "a.txt", data: new Uint8Array(40).fill(65) }]), "%%EOF"),
      ),
      ["Airlock.Polyglot.Zip@"],
    ],
    [
      "a PDF followed by a PE",
      append(pdf({ pages: 1, text: "x" }), PE),
      ["Airlock.Executable.PE@", "Airlock.Polyglot.TrailingData@"],
    ],
    [
      "a tar followed by a zip",
      append(tar([{ name: "a.txt", data: new Uint8Array(10).fill(65) }]), ZIP_EICAR),
      ["Airlock.Eicar@(trailing data)/e.com", "Airlock.Polyglot.TrailingData@"],
    ],
    [
      "a PNG polyglot inside a zip",
      zip([{ name: "img/cat.png", data: append(png(8, 8), JAR), method: "deflate" }]),
      [
        "Airlock.Executable.JavaClass@img/cat.png/(trailing data)/A.class",
        "Airlock.Polyglot.TrailingData@img/cat.png",
        "Airlock.Polyglot.Zip@img/cat.png",
      ],
    ],
    [
      "a GIF polyglot inside a tar",
      tar([{ name: "a.gif", data: append(gif(4, 4), PE) }]),
      ["Airlock.Executable.PE@a.gif/(trailing data)", "Airlock.Polyglot.TrailingData@a.gif"],
    ],
  ])("holds %s with its finding names, at any chunk size", async (_what, data, expected) => {
    for (const size of [1, 7, 13, 64 * 1024]) expect(names(await scan(data, size))).toEqual(expected);
  });

  it("finds a zip appended to a large file, whose length it knows, at the end only", async () => {
    const body = new Uint8Array(1024 * 1024).map((_, i) => 1 + ((i * 7919) % 250));
    const data = append(body, zip([{ name: "a.txt", data: new Uint8Array(5) }]));
    for (const size of [4093, 64 * 1024])
      expect(names(await scan(data, size))).toContain("Airlock.Polyglot.Zip@");
    expect(names(await scan(tar([{ name: "big.bin", data }])))).toContain("Airlock.Polyglot.Zip@big.bin");
    expect(names(await scan(zip([{ name: "big.bin", data }])))).toContain("Airlock.Polyglot.Zip@big.bin");
    // A zip end record far from the end is not a zip a reader would open.
    expect((await scan(append(data, body))).status).toBe("clean");
  });

  it("holds a zip hidden in a text file's last 64 KiB", async () => {
    const data = append(
      new TextEncoder().encode("just a note\n"),
      zip([{ name: "a.txt", data: new Uint8Array(5) }]),
    );
    expect(names(await scan(data))).toContain("Airlock.Polyglot.Zip@");
  });

  it.each<[string, Uint8Array]>([
    ["a JPEG with a trailing newline", append(jpeg(8, 8), new Uint8Array([13, 10]))],
    ["a PNG padded with zeros", append(png(8, 8), new Uint8Array(4096))],
    ["a GIF padded with 0xFF", append(gif(4, 4), new Uint8Array(100).fill(0xff))],
    ["a multi-picture JPEG (two images)", append(JPEG_WITH_SCAN, jpeg(16, 16))],
    [
      "a PDF with whitespace after %%EOF",
      append(pdf({ pages: 1, text: "x" }), new TextEncoder().encode("\r\n\r\n  \n")),
    ],
    ["a truncated PNG", png(8, 8).subarray(0, 40)],
  ])("passes %s", async (_what, data) => {
    for (const size of [1, 64 * 1024]) expect((await scan(data, size)).status).toBe("clean");
  });

  it("allows up to maxTrailingBytes after the end, and no more", async () => {
    const data = append(png(8, 8), new TextEncoder().encode("0123456789"));
    expect((await scan(data, 64 * 1024, { ...LIMITS, maxTrailingBytes: 10 })).status).toBe("clean");
    expect(names(await scan(data, 64 * 1024, { ...LIMITS, maxTrailingBytes: 9 }))).toEqual([
      "Airlock.Polyglot.TrailingData@",
    ]);
  });
});
