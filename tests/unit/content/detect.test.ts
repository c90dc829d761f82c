import { describe, expect, it } from "vitest";
import { detectType, HEAD_BYTES } from "../../../shared/content/index.ts";
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
