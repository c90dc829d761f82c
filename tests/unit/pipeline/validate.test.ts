import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import type { FileRecord, ObjectVersion } from "../../../core/domain/types.ts";
import { DEFAULT_POLICY } from "../../../core/runtime/env.ts";
import { validateJudge } from "../../../core/usecases/pipeline/judges.ts";
import { MemoryObjects } from "../../support/memory.ts";

const encode = (text: string) => new TextEncoder().encode(text);

describe("Function: validateJudge", () => {
  it("passes a DOCX whose [Content_Types].xml is its last entry, past the head, by reading the zip's end", async () => {
    const types = encode(
      '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    );
    const bytes = zipSync({
      "word/media/image1.png": [new Uint8Array(150_000).map((_, i) => (i * 31) % 253), { level: 0 }],
      "word/document.xml": encode("<w:document/>"),
      "[Content_Types].xml": types,
    });
    const key = "drops/sys/letter.docx";
    const objects = new MemoryObjects(new Map([[key, bytes]]));
    const version: ObjectVersion = { bucket: "ingest", key, size: bytes.length, sequencer: "1", eTag: "e" };
    const judge = validateJudge(objects, DEFAULT_POLICY, async () => undefined);
    const result = await judge(version, { source: "drop", fileId: "f" } as FileRecord);
    expect(result).toMatchObject({ status: "passed", detectedType: { id: "docx" } });
  });
});
