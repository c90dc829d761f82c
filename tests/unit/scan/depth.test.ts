/**
 * The built-in engine's wider catalogue: Windows loaders and scripts, Java/Android code, OLE2 macros, RTF
 * objects, XML external entities, HTA, PDF actions (escaped, automatic, inside compressed object streams) and
 * tar archives — each bare, nested in every container, and split at every chunk size; ordinary files stay clean.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createBuiltinEngine, type ScanLimits } from "../../../core/domain/scan/index.ts";
import type { EngineResult } from "../../../core/domain/types.ts";
import { gzip, tar, truncate, zip } from "../../fixtures/archives.ts";
import { CLEAN_DOCUMENTS, docx, zipOf } from "../../fixtures/documents.ts";
import {
  BATCH,
  DEX,
  EICAR,
  HTA,
  JAVA_CLASS,
  LNK,
  OLE2_PLAIN,
  OLE2_WITH_MACROS,
  PDF_ADDITIONAL_ACTIONS,
  PDF_ESCAPED_JAVASCRIPT,
  PDF_OPEN_ACTION_URI,
  POWERSHELL,
  pdfWithObjectStream,
  RTF_WITH_OBJECT,
  VBSCRIPT,
  XML_EXTERNAL_ENTITY,
  XML_PARAMETER_ENTITY,
} from "../../fixtures/malicious.ts";

const LIMITS: ScanLimits = { maxDepth: 4, maxEntries: 50, maxExpandedBytes: 64 * 1024 * 1024, maxRatio: 100 };
const encode = (text: string) => new TextEncoder().encode(text);

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

function scan(data: Uint8Array, { chunk = 64 * 1024, limits = LIMITS } = {}): Promise<EngineResult> {
  return createBuiltinEngine(limits).scan(chunks(data, chunk), { key: "k", size: data.length });
}

const names = (r: EngineResult) => (r.status === "infected" ? r.findings.map((f) => f.name) : []);

/** Every new category: the sample, the file name it travels under, and the finding it must produce. */
const CATEGORIES: [string, Uint8Array, string][] = [
  ["shortcut.lnk", LNK, "Airlock.Shortcut.Lnk"],
  ["run.bat", BATCH, "Airlock.Script.Batch"],
  ["get.ps1", POWERSHELL, "Airlock.Script.PowerShell"],
  ["run.vbs", VBSCRIPT, "Airlock.Script.WindowsHost"],
  ["app.hta", HTA, "Airlock.Html.Hta"],
  ["data.xml", XML_EXTERNAL_ENTITY, "Airlock.Xml.ExternalEntity"],
  ["param.xml", XML_PARAMETER_ENTITY, "Airlock.Xml.ExternalEntity"],
  ["letter.rtf", RTF_WITH_OBJECT, "Airlock.Rtf.EmbeddedObject"],
  ["Main.class", JAVA_CLASS, "Airlock.Executable.JavaClass"],
  ["classes.dex", DEX, "Airlock.Executable.Dex"],
  ["old.doc", OLE2_WITH_MACROS, "Airlock.Ole2.Macro"],
  ["open.pdf", PDF_OPEN_ACTION_URI, "Airlock.Pdf.OpenAction"],
  ["escaped.pdf", PDF_ESCAPED_JAVASCRIPT, "Airlock.Pdf.JavaScript"],
  ["page.pdf", PDF_ADDITIONAL_ACTIONS, "Airlock.Pdf.AutoAction"],
  [
    "packed.pdf",
    pdfWithObjectStream("1 0 << /Type /Action /S /JavaScript /JS (app.alert(1)) >>"),
    "Airlock.Pdf.JavaScript",
  ],
  [
    "packed-launch.pdf",
    pdfWithObjectStream("1 0 << /Type /Action /S /Launch /F (cmd.exe) >>"),
    "Airlock.Pdf.Launch",
  ],
  ["macro.docx", macroEnabledByContentType(), "Airlock.Office.Macro"],
  [
    "app.apk",
    zipOf({ "AndroidManifest.xml": new Uint8Array(40), "res/a.txt": encode("x") }),
    "Airlock.Executable.Apk",
  ],
];

/** A docx whose content types declare a macro-enabled main part (no vbaProject.bin to give it away). */
function macroEnabledByContentType(): Uint8Array {
  return zipOf({
    "[Content_Types].xml": encode(
      '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>',
    ),
    "word/document.xml": encode("<w:document/>"),
  });
}

type Layer = "zip" | "gzip" | "tar";

/** `data` named `name`, wrapped in each layer in turn (the first layer is the innermost). */
function wrapIn(layers: readonly Layer[], data: Uint8Array, name: string): Uint8Array {
  let current = data;
  let currentName = name;
  for (const layer of layers) {
    current =
      layer === "zip"
        ? zip([{ name: currentName, data: current, method: "deflate" }])
        : layer === "tar"
          ? tar([{ name: currentName, data: current }])
          : gzip(current);
    currentName = `layer.${layer === "gzip" ? "gz" : layer}`;
  }
  return current;
}

const WRAPPERS: [string, (data: Uint8Array, name: string) => Uint8Array][] = [
  ["bare", (data) => data],
  ["zip", (data, name) => zip([{ name, data, method: "deflate" }])],
  ["stored zip", (data, name) => zip([{ name, data, method: "store" }])],
  ["gzip", (data) => gzip(data)],
  ["tar", (data, name) => tar([{ name, data }])],
  ["tar.gz", (data, name) => gzip(tar([{ name, data }]))],
  [
    "zip in tar",
    (data, name) => tar([{ name: "inner.zip", data: zip([{ name, data, method: "deflate" }]) }]),
  ],
];

describe("Built-in engine: the wider catalogue", () => {
  for (const [wrapper, wrap] of WRAPPERS) {
    it.each(CATEGORIES)(`finds %s (${wrapper})`, async (name, sample, finding) => {
      const result = await scan(wrap(sample, name));
      expect(result.status, JSON.stringify(result)).toBe("infected");
      expect(names(result)).toContain(finding);
    });
  }

  it.each(CATEGORIES)("finds %s whatever the chunk size", async (_name, sample, finding) => {
    for (const size of [1, 7, 64, 4096])
      expect(names(await scan(sample, { chunk: size }))).toContain(finding);
  });

  it("keeps ordinary documents and their archives clean, including tar and compressed object streams", async () => {
    const clean: [string, Uint8Array][] = [
      ...CLEAN_DOCUMENTS.map((d): [string, Uint8Array] => [d.name, d.bytes()]),
      ["plain.doc", OLE2_PLAIN],
      ["plain.rtf", encode("{\\rtf1\\ansi Hello {\\b world}, about objects and \\\\objdata words.}")],
      [
        "internal-entity.xml",
        encode('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY co "Example Ltd">]><d>&co;</d>'),
      ],
      ["packed.pdf", pdfWithObjectStream("1 0 << /Type /Page /Contents 2 0 R /MediaBox [0 0 612 792] >>")],
      [
        "destination.pdf",
        encode("%PDF-1.7\n1 0 obj << /Type /Catalog /OpenAction [3 0 R /Fit] >> endobj\n%%EOF\n"),
      ],
      ["notes.txt", encode("Meeting notes: echo the plan, then set the policy for next quarter.\n")],
      ["report.docx", docx()],
    ];
    const bundle = tar(clean.map(([name, data]) => ({ name, data })));
    for (const [name, data] of [
      ...clean,
      ["bundle.tar", bundle] as [string, Uint8Array],
      ["bundle.tar.gz", gzip(bundle)] as [string, Uint8Array],
    ]) {
      const result = await scan(data);
      expect(result.status, `${name}: ${JSON.stringify(result)}`).toBe("clean");
    }
  });

  it("reads tar entries with long (pax) names and reports where a finding is", async () => {
    const long = `${"deep/".repeat(30)}eicar.txt`;
    const result = await scan(
      tar([
        { name: "readme.txt", data: encode("hi") },
        { name: long, data: EICAR },
      ]),
    );
    expect(result).toMatchObject({ status: "infected", findings: [{ name: "Airlock.Eicar", path: long }] });
  });

  it("errs on truncated or tampered tar archives and undecodable object streams, never clean", async () => {
    const archive = tar([{ name: "a.txt", data: encode("x".repeat(3000)) }]);
    expect(await scan(truncate(archive, 1200))).toMatchObject({ status: "error", reason: "corrupt" });
    const tampered = Buffer.from(archive);
    tampered.write("9", 124 + 3, "latin1");
    expect(await scan(new Uint8Array(tampered))).toMatchObject({ status: "error", reason: "corrupt" });
    expect(await scan(pdfWithObjectStream("x", { corrupt: true }))).toMatchObject({
      status: "error",
      reason: "corrupt",
    });
  });

  it("counts tar entries against the entry limit", async () => {
    const many = tar(Array.from({ length: 60 }, (_, i) => ({ name: `f${i}.txt`, data: encode("x") })));
    expect(await scan(many)).toMatchObject({ status: "error", reason: "limit-exceeded" });
  });

  it("finds EICAR anywhere in any mix of zip, gzip and tar within the limits (property)", async () => {
    const container = fc.constantFrom<Layer>("zip", "gzip", "tar");
    await fc.assert(
      fc.asyncProperty(
        fc.array(container, { maxLength: 3 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 300 }),
        async (layers, before, after) => {
          const data = wrapIn(layers, new Uint8Array(Buffer.concat([before, EICAR, after])), "sample.bin");
          expect(names(await scan(data, { chunk: 97 }))).toContain("Airlock.Eicar");
        },
      ),
      { numRuns: 60 },
    );
  });

  it("keeps allowed documents clean in any mix of containers within the limits (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CLEAN_DOCUMENTS),
        fc.array(fc.constantFrom<Layer>("zip", "gzip", "tar"), { maxLength: 3 }),
        async (doc, layers) => {
          const data = wrapIn(layers, doc.bytes(), doc.name);
          const result = await scan(data, { chunk: 251 });
          expect(result.status, `${doc.name} in ${layers.join(">")}: ${JSON.stringify(result)}`).toBe(
            "clean",
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it("never calls a truncated container clean (property)", async () => {
    // Incompressible bytes, so every container is large enough to be recognised when cut.
    const noise = new Uint8Array(createHash("sha512").update("noise").digest().length * 47);
    for (let i = 0; i < 47; i++) noise.set(createHash("sha512").update(`noise ${i}`).digest(), i * 64);
    const archives = [
      tar([{ name: "a.bin", data: noise }]),
      zip([{ name: "a.bin", data: noise, method: "deflate" }]),
      gzip(noise),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...archives),
        fc.integer({ min: 20, max: 70 }),
        async (archive, percent) => {
          const result = await scan(truncate(archive, Math.floor((archive.length * percent) / 100)));
          expect(result.status).not.toBe("clean");
        },
      ),
      { numRuns: 60 },
    );
  });
});
