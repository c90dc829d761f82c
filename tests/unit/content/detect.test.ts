import { describe, expect, it } from "vitest";
import { detectType, HEAD_BYTES } from "../../../core/domain/content/index.ts";
import { CLEAN_DOCUMENTS, docm } from "../../fixtures/documents.ts";
import {
  ELF,
  HTML_WITH_SCRIPT,
  MACHO_64,
  PE,
  SHELL_SCRIPT,
  SVG_WITH_SCRIPT,
} from "../../fixtures/malicious.ts";

const encode = (t: string) => new TextEncoder().encode(t);

describe("Function: detectType", () => {
  it.each(CLEAN_DOCUMENTS.map((d) => [d.name, d] as const))("detects %s", async (_n, doc) => {
    expect((await detectType(doc.bytes()))?.id).toBe(doc.expectedType);
  });

  it.each([
    ["a PE", PE, "exe"],
    ["an ELF", ELF, "elf"],
    ["a Mach-O", MACHO_64, "macho"],
    ["a shell script", SHELL_SCRIPT, "script"],
    ["HTML", HTML_WITH_SCRIPT, "html"],
    ["SVG", SVG_WITH_SCRIPT, "svg"],
    ["a macro-enabled Word document", docm(), "docm"],
    ["UTF-16 text with a BOM", new Uint8Array(Buffer.from("\ufeffhello world", "utf16le")), "txt"],
    ["semicolon CSV", encode("a;b;c\n1;2;3\n4;5;6\n"), "csv"],
    ["quoted CSV", encode('name,comment\n"Doe, J","said ""hi"""\nX,Y\n'), "csv"],
    ["XML", encode('<?xml version="1.0"?><a><b/></a>'), "xml"],
  ])("detects %s", async (_n, bytes, id) => {
    expect((await detectType(bytes))?.id).toBe(id);
  });

  it("knows JSON cut off at the head limit", async () => {
    const big = encode(`{"items": [${Array.from({ length: 20000 }, (_, i) => i).join(",")}]}`);
    expect((await detectType(big.subarray(0, HEAD_BYTES), true))?.id).toBe("json");
  });

  it("returns undefined for empty input and unknown binary", async () => {
    expect(await detectType(new Uint8Array(0))).toBeUndefined();
    expect(await detectType(new Uint8Array([0, 1, 2, 3, 0, 0, 9, 250, 0, 1]))).toBeUndefined();
  });
});

describe("Function: detectType (the text-family rules)", () => {
  const latin1 = (t: string) => new Uint8Array(Buffer.from(t, "latin1"));
  it.each<[string, Uint8Array, string]>([
    [
      "CSV with line breaks inside quoted fields",
      encode('id,note\n1,"first line\nsecond line"\n2,"a, b"\n3,plain\n'),
      "csv",
    ],
    [
      "a Latin-1 (Windows-1252) CSV export",
      latin1("Name;Stadt;Betrag\nMüller;Köln;12,50 \x80\nJosé;Málaga;3,00 \x80\n"),
      "csv",
    ],
    [
      "UTF-16LE text without a BOM",
      new Uint8Array(Buffer.from("Hello, this is a note.\r\n", "utf16le")),
      "txt",
    ],
    [
      "UTF-16BE text without a BOM",
      new Uint8Array(Buffer.from("Hello, this is a note.\r\n", "utf16le").swap16()),
      "txt",
    ],
    [
      "text that starts with MZ",
      encode("MZ is the ISO code of Mozambique; the table below lists its provinces.\n"),
      "txt",
    ],
    [
      "Markdown opening with an HTML block",
      encode(
        '<p align="center">\n  <img src="logo.png" width="120">\n</p>\n\n# Project\n\n- fast\n- small\n',
      ),
      "txt",
    ],
    ["JSON named .csv (the bytes decide: JSON)", encode('[{"a": 1}, {"a": 2}]'), "json"],
    ["XML that is not Markdown", encode('<?xml version="1.0"?>\n<list>\n# not a heading\n</list>\n'), "xml"],
  ])("detects %s", async (_what, bytes, id) => {
    expect((await detectType(bytes))?.id).toBe(id);
  });

  it("detects an APNG as PNG", async () => {
    const png = Buffer.from(await import("../../fixtures/documents.ts").then((d) => d.png(2, 2)));
    // An acTL chunk before the first IDAT is what makes a PNG animated.
    const actl = Buffer.concat([
      Buffer.from([0, 0, 0, 8]),
      Buffer.from("acTL"),
      Buffer.from([0, 0, 0, 1, 0, 0, 0, 0]),
      Buffer.alloc(4),
    ]);
    const apng = Buffer.concat([png.subarray(0, 33), actl, png.subarray(33)]);
    expect(await detectType(new Uint8Array(apng))).toMatchObject({ id: "png", mime: "image/png" });
  });

  it("detects a DOCX whose [Content_Types].xml is its last entry, beyond the head, from the central directory", async () => {
    const { zipSync } = await import("fflate");
    const types = encode(
      '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    );
    const image = new Uint8Array(200_000).map((_, i) => (i * 7919) % 251);
    const bytes = zipSync({
      "word/media/image1.png": [image, { level: 0 }],
      "word/document.xml": encode("<w:document/>"),
      "[Content_Types].xml": types,
    });
    const head = bytes.subarray(0, HEAD_BYTES);
    expect((await detectType(head, true))?.id).toBe("zip");
    const tail = { bytes: bytes.subarray(bytes.length - 64 * 1024), size: bytes.length };
    expect((await detectType(head, true, tail))?.id).toBe("docx");
    // Neither in the head nor in the tail: the part names decide.
    const far = zipSync({
      "word/media/a.bin": [image, { level: 0 }],
      "[Content_Types].xml": types,
      "word/media/b.bin": [image, { level: 0 }],
      "word/document.xml": encode("<w:document/>"),
    });
    const farTail = { bytes: far.subarray(far.length - 64 * 1024), size: far.length };
    expect((await detectType(far.subarray(0, HEAD_BYTES), true, farTail))?.id).toBe("docx");
  });
});
