import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createBuiltinEngine, type ScanLimits } from "../../../core/domain/scan/index.ts";
import { decodeStream } from "../../../core/domain/scan/pdf-filters.ts";
import type { EngineResult } from "../../../core/domain/types.ts";
import { zip } from "../../fixtures/archives.ts";
import { objectStreamText, pdfEncode, pdfOf } from "../../fixtures/malicious.ts";

const LIMITS: ScanLimits = { maxDepth: 4, maxEntries: 50, maxExpandedBytes: 64 * 1024 * 1024, maxRatio: 100 };

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
const scan = (data: Uint8Array, chunk = 64 * 1024): Promise<EngineResult> =>
  createBuiltinEngine(LIMITS).scan(chunks(data, chunk), { key: "k", size: data.length });
const names = (r: EngineResult) =>
  r.status === "infected" ? r.findings.map((f) => `${f.name}@${f.path}`).sort() : [];

const bytes = (text: string) => new Uint8Array(Buffer.from(text, "latin1"));
const CATALOG = "<< /Type /Catalog /Pages 2 0 R >>";
const PAGES = "<< /Type /Pages /Kids [] /Count 0 >>";
const ACTION = "<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>";

/** A PDF whose JavaScript action lives only inside an object stream encoded as given. */
function packed(
  encode: (data: Uint8Array) => Uint8Array,
  filters: string,
  extra = "",
  type = "/Type /ObjStm",
) {
  const { text, n, first } = objectStreamText([ACTION]);
  return pdfOf([
    CATALOG,
    PAGES,
    { dictionary: `${type} /N ${n} /First ${first} ${filters} ${extra}`, data: encode(bytes(text)) },
  ]);
}
const flate = (data: Uint8Array) => new Uint8Array(deflateSync(data));

describe("Function: decodeStream", () => {
  it("decodes the LZW example of ISO 32000-1 (7.4.4.2)", () => {
    const encoded = Buffer.from("800b6050220c0c8501", "hex");
    expect(decodeStream(encoded, ["LZWDecode"], [], 1024)).toEqual(
      Buffer.from("2d2d2d2d2d412d2d2d42", "hex"),
    );
  });

  it("round-trips every filter it knows, chained", () => {
    const data = Buffer.from(`${"The quick brown fox. ".repeat(300)}\u0000\u00ff`, "latin1");
    const encoded = pdfEncode.hex(pdfEncode.ascii85(pdfEncode.runLength(pdfEncode.lzw(flate(data)))));
    const out = decodeStream(
      Buffer.from(encoded),
      ["AHx", "ASCII85Decode", "RunLengthDecode", "LZWDecode", "FlateDecode"],
      [],
      1 << 20,
    );
    expect(out).toEqual(data);
  });
});

describe("Function: createBuiltinEngine (PDF streams decoded as readers decode them)", () => {
  it.each<[string, Uint8Array]>([
    ["Flate", packed(flate, "/Filter /FlateDecode")],
    [
      "Flate with a PNG predictor",
      packed(
        (d) => flate(pdfEncode.pngUp(d, 7)),
        "/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 7 >>",
      ),
    ],
    ["LZW", packed(pdfEncode.lzw, "/Filter /LZWDecode")],
    ["ASCIIHex", packed(pdfEncode.hex, "/Filter /ASCIIHexDecode")],
    ["ASCII85", packed(pdfEncode.ascii85, "/Filter /ASCII85Decode")],
    ["RunLength", packed(pdfEncode.runLength, "/Filter /RunLengthDecode")],
    [
      "a chain of filters",
      packed((d) => pdfEncode.ascii85(flate(d)), "/Filter [/ASCII85Decode /FlateDecode]"),
    ],
    ["no filter at all", packed((d) => d, "")],
    ["no /Type (readers only need /N and /First)", packed(flate, "/Filter /FlateDecode", "", "")],
    ["a #-escaped type and filter", packed(flate, "/Filter /Fl#61teDecode", "", "/Type /Obj#53tm")],
  ])("finds JavaScript in an object stream encoded with %s", async (_what, data) => {
    for (const size of [7, 64 * 1024])
      expect(names(await scan(data, size))).toEqual(["Airlock.Pdf.JavaScript@"]);
  });

  it("finds a stream whose decoded bytes are an object stream, whatever its dictionary says", async () => {
    const { text } = objectStreamText([ACTION]);
    const data = pdfOf([CATALOG, { dictionary: "/Filter /FlateDecode", data: flate(bytes(text)) }]);
    expect(names(await scan(data))).toEqual(["Airlock.Pdf.JavaScript@"]);
  });

  it("finds it inside a zip too", async () => {
    const data = zip([
      { name: "in/doc.pdf", data: packed(pdfEncode.lzw, "/Filter /LZWDecode"), method: "deflate" },
    ]);
    expect(names(await scan(data, 13))).toEqual(["Airlock.Pdf.JavaScript@in/doc.pdf"]);
  });

  it.each<[string, Uint8Array, string]>([
    ["an unknown filter", packed(flate, "/Filter /BogusDecode"), "unsupported"],
    [
      "Flate data that does not inflate",
      packed(() => bytes("not deflate at all"), "/Filter /FlateDecode"),
      "corrupt",
    ],
    [
      "a filter chain that breaks half-way",
      packed((d) => pdfEncode.hex(d), "/Filter [/ASCIIHexDecode /FlateDecode]"),
      "corrupt",
    ],
    [
      "an encrypted PDF's object stream",
      pdfOf(
        [
          CATALOG,
          {
            dictionary: "/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode",
            data: bytes("\x93\x11\xfe\x00garbage"),
          },
        ],
        "/Encrypt 9 0 R",
      ),
      "encrypted",
    ],
  ])("holds %s as an error", async (_what, data, reason) => {
    expect(await scan(data)).toMatchObject({ status: "error", reason });
  });

  const xfa = (template: string) =>
    pdfOf([
      "<< /Type /Catalog /AcroForm << /Fields [] /XFA [(template) 2 0 R] >> >>",
      {
        dictionary: "/Filter /FlateDecode",
        data: flate(
          bytes(
            `<?xml version="1.0"?><xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template xmlns="http://www.xfa.org/schema/xfa-template/3.3/">${template}</template></xdp:xdp>`,
          ),
        ),
      },
    ]);

  it.each<[string, Uint8Array, string]>([
    [
      "Flash (/RichMedia)",
      pdfOf([`${CATALOG.slice(0, -2)} /Annots [<< /Subtype /RichMedia >>] >>`]),
      "Airlock.Pdf.RichMedia",
    ],
    [
      "an XFA form with a script",
      xfa(
        '<subform><event activity="initialize"><script contentType="application/x-javascript">app.alert(1)</script></event></subform>',
      ),
      "Airlock.Pdf.XfaScript",
    ],
    [
      "a file attachment annotation",
      pdfOf([CATALOG, "<< /Type /Annot /Subtype /FileAttachment /FS 3 0 R >>"]),
      "Airlock.Pdf.EmbeddedFile",
    ],
    [
      "an /EF file stream without /Type /EmbeddedFile",
      pdfOf([
        CATALOG,
        "<< /Type /Filespec /F (a.exe) /EF << /F 3 0 R >> >>",
        { dictionary: "", data: bytes("MZ") },
      ]),
      "Airlock.Pdf.EmbeddedFile",
    ],
    [
      "JBIG2 image data",
      pdfOf([CATALOG, { dictionary: "/Subtype /Image /Filter /JBIG2Decode", data: bytes("\x00\x01") }]),
      "Airlock.Pdf.Jbig2",
    ],
    [
      "/Colors above 2^24",
      pdfOf([
        CATALOG,
        {
          dictionary: "/Filter /FlateDecode /DecodeParms << /Predictor 12 /Colors 1073741838 >>",
          data: flate(bytes("x")),
        },
      ]),
      "Airlock.Pdf.Colors",
    ],
    ["/ImportData", pdfOf([CATALOG, "<< /S /ImportData /F (data.fdf) >>"]), "Airlock.Pdf.ImportData"],
    ["/GoToE", pdfOf([CATALOG, "<< /S /GoToE /T << /R /C /N (a) >> >>"]), "Airlock.Pdf.GoToE"],
    [
      "/GoToR to a UNC path",
      pdfOf([CATALOG, "<< /S /GoToR /F (\\\\\\\\attacker\\\\share\\\\x.pdf) /D [0 /Fit] >>"]),
      "Airlock.Pdf.RemoteGoTo",
    ],
    [
      "/GoToR to a URL",
      pdfOf([CATALOG, "<< /S /GoToR /F (http://attacker.invalid/x.pdf) >>"]),
      "Airlock.Pdf.RemoteGoTo",
    ],
    [
      "/SubmitForm",
      pdfOf([CATALOG, "<< /S /SubmitForm /F << /FS /URL /F (http://x.invalid/) >> >>"]),
      "Airlock.Pdf.SubmitForm",
    ],
    [
      "/Launch inside an object stream",
      pdfOf([
        CATALOG,
        {
          dictionary: "/Type /ObjStm /N 1 /First 6 /Filter /FlateDecode",
          data: flate(bytes("100 0 << /S /Launch /F (cmd.exe) >>")),
        },
      ]),
      "Airlock.Pdf.Launch",
    ],
  ])("holds %s", async (_what, data, finding) => {
    for (const size of [1, 13, 64 * 1024]) expect(names(await scan(data, size))).toContain(`${finding}@`);
  });

  it.each<[string, Uint8Array]>([
    [
      "a link to a web page",
      pdfOf([CATALOG, "<< /Type /Annot /Subtype /Link /A << /S /URI /URI (https://example.com/) >> >>"]),
    ],
    ["a /GoToR to a relative file", pdfOf([CATALOG, "<< /S /GoToR /F (chapter2.pdf) /D [0 /Fit] >>"])],
    [
      "an RGB image with /Colors 3",
      pdfOf([
        CATALOG,
        {
          dictionary: "/Filter /FlateDecode /DecodeParms << /Predictor 15 /Colors 3 /Columns 2 >>",
          data: flate(pdfEncode.pngUp(bytes("abcdefghijkl"), 6)),
        },
      ]),
    ],
    [
      "a JPEG image stream (not decoded)",
      pdfOf([
        CATALOG,
        {
          dictionary: "/Subtype /Image /Filter /DCTDecode",
          data: bytes("\xff\xd8\xff\xe0 not decoded \xff\xd9"),
        },
      ]),
    ],
    [
      "a page content stream",
      pdfOf([
        CATALOG,
        { dictionary: "/Filter /FlateDecode", data: flate(bytes("BT /F1 12 Tf 72 720 Td (Hello) Tj ET")) },
      ]),
    ],
    ["an XFA form without scripts", xfa('<subform><field name="a"/></subform>')],
    ["an empty stream", pdfOf([CATALOG, { dictionary: "/Filter /FlateDecode", data: new Uint8Array(0) }])],
    [
      "a broken content stream (readers show nothing of it either)",
      pdfOf([
        CATALOG,
        { dictionary: "/Filter /FlateDecode", data: bytes("\x01\x02\x03 definitely not zlib") },
      ]),
    ],
  ])("passes %s", async (_what, data) => {
    expect(await scan(data, 7)).toMatchObject({ status: "clean" });
  });
});
