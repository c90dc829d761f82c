import { describe, expect, it } from "vitest";
import { createBuiltinEngine, type ScanLimits } from "../../../core/domain/scan/index.ts";
import { textEncodingOf } from "../../../core/domain/scan/scripts.ts";
import type { EngineResult } from "../../../core/domain/types.ts";
import { gzip, tar, zip } from "../../fixtures/archives.ts";
import { ORDINARY_TEXT, SCRIPTS } from "../../fixtures/malicious.ts";

const LIMITS: ScanLimits = { maxDepth: 4, maxEntries: 50, maxExpandedBytes: 64 * 1024 * 1024, maxRatio: 100 };

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
const scan = (data: Uint8Array, chunk = 64 * 1024): Promise<EngineResult> =>
  createBuiltinEngine(LIMITS).scan(chunks(data, chunk), { key: "k", size: data.length });
const names = (r: EngineResult) =>
  r.status === "infected" ? r.findings.map((f) => `${f.name}@${f.path}`) : [];

const EXPECTED: Record<keyof typeof SCRIPTS, string> = {
  jscript: "Airlock.Script.WindowsHost",
  jscriptMinified: "Airlock.Script.WindowsHost",
  vbscript: "Airlock.Script.WindowsHost",
  wshGetObject: "Airlock.Script.WindowsHost",
  batchWithoutEcho: "Airlock.Script.Batch",
  batchCertutil: "Airlock.Script.Batch",
  batchComspec: "Airlock.Script.Batch",
  powershellDownloader: "Airlock.Script.PowerShell",
  powershellEncoded: "Airlock.Script.PowerShell",
  powershellIwr: "Airlock.Script.PowerShell",
  powershellUtf16: "Airlock.Script.PowerShell",
  powershellUtf16NoBom: "Airlock.Script.PowerShell",
  shellPipe: "Airlock.Script.Shell",
  csvDde: "Airlock.Csv.Dde",
  csvDdeQuoted: "Airlock.Csv.Dde",
  internetShortcut: "Airlock.Shortcut.Url",
  explorerCommand: "Airlock.Shortcut.Scf",
  desktopEntry: "Airlock.Shortcut.Desktop",
  registry: "Airlock.Script.Registry",
  setupInformation: "Airlock.Script.Inf",
  webQuery: "Airlock.Office.WebQuery",
  sylkMacro: "Airlock.Office.Xlm",
};
const cases = Object.entries(SCRIPTS).map(
  ([what, data]) => [what, data, EXPECTED[what as keyof typeof SCRIPTS]] as const,
);

describe("Function: createBuiltinEngine (scripts judged by content)", () => {
  it.each(cases)("finds %s bare, whatever its name", async (_what, data, finding) => {
    expect(names(await scan(data))).toEqual([`${finding}@`]);
  });

  it.each(cases)("finds %s at every chunk boundary (1, 7 and 13 bytes)", async (_what, data, finding) => {
    for (const size of [1, 7, 13]) expect(names(await scan(data, size))).toEqual([`${finding}@`]);
  });

  it.each(cases)(
    "finds %s inside zip, tar and tar.gz under an innocent name",
    async (_what, data, finding) => {
      const entry = [{ name: "notes/invoice.txt", data, method: "deflate" as const }];
      expect(names(await scan(zip(entry), 13))).toEqual([`${finding}@notes/invoice.txt`]);
      expect(names(await scan(tar(entry)))).toEqual([`${finding}@notes/invoice.txt`]);
      expect(names(await scan(gzip(tar(entry))))).toEqual([`${finding}@(gunzip)/notes/invoice.txt`]);
    },
  );

  it("finds a dropper behind a stray NUL byte, inside a zip where validation does not look", async () => {
    const data = new Uint8Array(Buffer.concat([Buffer.from([0]), Buffer.from(SCRIPTS.jscript)]));
    expect(names(await scan(zip([{ name: "a.js", data }])))).toEqual(["Airlock.Script.WindowsHost@a.js"]);
  });

  it("finds a dropper deep in a long text, past the first 4 KiB", async () => {
    const data = Buffer.concat([
      Buffer.from("A perfectly ordinary line of a report.\n".repeat(5000)),
      SCRIPTS.vbscript,
    ]);
    expect(names(await scan(data, 4093))).toEqual(["Airlock.Script.WindowsHost@"]);
  });

  it.each(Object.entries(ORDINARY_TEXT))(
    "passes ordinary %s that mentions the same words",
    async (_what, data) => {
      for (const size of [7, 64 * 1024]) expect((await scan(data, size)).status).toBe("clean");
    },
  );

  it("passes a large CSV export", async () => {
    const rows = Array.from(
      { length: 20000 },
      (_, i) => `2026-11-22,invoice ${i},customer ${i % 977},${(i * 37) % 10000}.00,EUR,paid`,
    );
    expect(
      (await scan(Buffer.from(`date,invoice,customer,amount,currency,status\n${rows.join("\n")}\n`))).status,
    ).toBe("clean");
  });
});

describe("Function: textEncodingOf", () => {
  it.each([
    ["ASCII", Buffer.from("hello\r\nworld\t!"), "8bit"],
    ["UTF-8", Buffer.from("Grüße, naïve café"), "8bit"],
    ["Latin-1", Buffer.from("Gr\xfc\xdfe caf\xe9\n", "latin1"), "8bit"],
    ["UTF-16LE with a BOM", Buffer.from("\ufeffhello", "utf16le"), "utf16le"],
    ["UTF-16LE without a BOM", Buffer.from("hello world, this is text", "utf16le"), "utf16le"],
    ["UTF-16BE without a BOM", Buffer.from("hello world", "utf16le").swap16(), "utf16be"],
    ["binary", Buffer.from([0, 1, 2, 3, 4, 5, 0x89, 0x50, 0, 0, 7, 8]), undefined],
  ])("reads %s", (_what, head, encoding) => {
    expect(textEncodingOf(head)).toBe(encoding);
  });
});

describe("Function: createBuiltinEngine (text that starts with MZ)", () => {
  it("passes text that starts with MZ", async () => {
    const data = new TextEncoder().encode(
      "MZ is the ISO code of Mozambique; the table below lists its provinces.\n",
    );
    expect((await scan(data)).status).toBe("clean");
  });

  it("still finds a PE whose DOS header has no NUL and whose PE header lies far past the head", async () => {
    const lfanew = 0x01010101;
    const data = Buffer.alloc(lfanew + 512, 0x41);
    data.write("MZ", 0, "latin1");
    data.writeUInt32LE(lfanew, 0x3c);
    data.write("PE\0\0", lfanew, "latin1");
    expect(names(await scan(data))).toEqual(["Airlock.Executable.PE@"]);
  });
});

describe("Function: createBuiltinEngine (Markdown that opens with an HTML block)", () => {
  const md = (body: string) =>
    new TextEncoder().encode(
      `<h1 align="center">Tool</h1>\n<p align="center"><img src="logo.png" alt="logo"></p>\n\n## Usage\n\n${body}\n`,
    );
  it.each([
    [
      "a code sample with handler-like names",
      "```js\nconst onMatch = ({ glob }) => glob;\nel.onclick = run;\n```",
    ],
    [
      "prose about JavaScript: the language",
      "JavaScript: the language of the web. See `javascript:void(0)` links.",
    ],
    ["ordinary links and images", '[docs](https://example.com/) <a href="https://example.com/">site</a>'],
  ])("passes %s", async (_what, body) => {
    for (const size of [7, 64 * 1024]) expect((await scan(md(body), size)).status).toBe("clean");
  });

  it.each([
    ["a script element", "<script>fetch('/x')</script>"],
    ["a handler inside a tag", '<img src="x.png" onerror="alert(1)">'],
    ["a handler after a slash", "<svg/onload=alert(1)>"],
    ["a script URL in an attribute", '<a href="javascript:alert(1)">click</a>'],
    ["a script URL in a Markdown link", "[click](javascript:alert(1))"],
    ["a meta refresh to a script URL", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'],
    [
      "an SVG animation setting a script URL",
      '<svg><a><animate attributeName="href" values="javascript:alert(1)"/></a></svg>',
    ],
    ["an iframe with inline HTML", '<iframe srcdoc="&lt;b&gt;x"></iframe>'],
    ["a tag left open for pages", `<img src="a.png" ${"data-x=1 ".repeat(600)}`],
  ])("holds %s", async (_what, body) => {
    for (const size of [7, 64 * 1024])
      expect(names(await scan(md(body), size))).toEqual(["Airlock.Html.Script@"]);
  });
});
