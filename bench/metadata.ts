/**
 * Throughput and peak memory of the metadata stage on large objects, in process: the stage's judge streams
 * from an object store that generates the bytes chunk by chunk (nothing is held but the current chunk), so the
 * memory measured is the stage's own. Peak RSS is sampled every 5 ms while each object is described.
 */
import type { ObjectVersion } from "../core/domain/types.ts";
import type { ObjectStore } from "../core/ports/index.ts";
import { metadataJudge } from "../core/usecases/pipeline/metadata.ts";
import { MemoryTexts } from "../tests/support/memory.ts";
import { writeResult } from "./stats.ts";

const MiB = 1024 * 1024;

/** An object of `size` bytes: `head` first, then `fill` repeated. */
interface Generated {
  name: string;
  size: number;
  head: Uint8Array;
  fill: Uint8Array;
}

function generatedStore(object: Generated): ObjectStore {
  const chunkSize = MiB;
  return {
    async stream() {
      return (async function* () {
        let sent = 0;
        const chunk = new Uint8Array(chunkSize);
        for (let i = 0; i < chunkSize; i++) chunk[i] = object.fill[i % object.fill.length] ?? 0;
        if (object.head.length > 0) {
          yield object.head;
          sent += object.head.length;
        }
        while (sent < object.size) {
          const part = chunk.subarray(0, Math.min(chunkSize, object.size - sent));
          sent += part.length;
          yield part;
        }
      })();
    },
    readHead: () => Promise.reject(new Error("not used")),
    promote: () => Promise.reject(new Error("not used")),
    withdraw: () => Promise.reject(new Error("not used")),
    remove: () => Promise.reject(new Error("not used")),
    tag: () => Promise.reject(new Error("not used")),
  };
}

/** A PDF with `pages` pages of `linesPerPage` text lines each, for the in-memory (pdf.js) path. */
function textPdf(pages: number, linesPerPage: number): Uint8Array {
  const objects: string[] = [];
  const pageIds = Array.from({ length: pages }, (_, i) => 4 + i * 2);
  objects[1] = "<< /Type /Catalog /Pages 2 0 R >>";
  objects[2] = `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(" ")}] /Count ${pages} >>`;
  objects[3] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";
  const line = "(The quarterly report shows revenue growth in every region and stable costs) Tj T*";
  for (const id of pageIds) {
    const stream = `BT /F1 8 Tf 10 TL 20 780 Td ${Array.from({ length: linesPerPage }, () => line).join(" ")} ET`;
    objects[id] =
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${id + 1} 0 R >>`;
    objects[id + 1] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
  }
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  for (let id = 1; id < objects.length; id++) {
    offsets[id] = out.length;
    out += `${id} 0 obj\n${objects[id]}\nendobj\n`;
  }
  const xref = out.length;
  out += `xref\n0 ${objects.length}\n0000000000 65535 f \n`;
  for (let id = 1; id < objects.length; id++) out += `${String(offsets[id]).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(out, "latin1"));
}

async function describe(object: Generated, pdfMaxBytes: number) {
  const version: ObjectVersion = { bucket: "bench", key: object.name, sequencer: "1", size: object.size };
  const judge = metadataJudge(generatedStore(object), {
    textMaxChars: 1_000_000,
    pdfMaxBytes,
    ocr: "off",
    texts: new MemoryTexts(),
  });
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const started = performance.now();
  const result = await judge(version, { fileId: "bench" } as never);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const facts = result?.stage === "metadata" ? result.facts : undefined;
  return {
    object: object.name,
    sizeMiB: Math.round(object.size / MiB),
    seconds: Math.round(seconds * 100) / 100,
    mibPerSecond: Math.round((object.size / MiB / seconds) * 10) / 10,
    peakRssMiB: Math.round(peak / MiB),
    rssGrowthMiB: Math.round((peak - baseline) / MiB),
    detectedType: facts?.detectedType?.id ?? "unknown",
    words: facts?.extracted?.words ?? facts?.text?.words,
  };
}

export async function benchMetadata(options: { largeMiB: number; pdfPages: number }) {
  const text = new TextEncoder().encode("lorem ipsum dolor sit amet consectetur adipiscing elit\n");
  const random = new Uint8Array(MiB);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
  const large = options.largeMiB * MiB;
  const pdf = textPdf(options.pdfPages, 60);
  const bigPdfHead = textPdf(10, 10);
  const runs = [
    {
      object: { name: "binary.bin", size: large, head: new Uint8Array(0), fill: random },
      pdfMaxBytes: 50 * MiB,
    },
    {
      object: { name: "large.txt", size: large, head: new Uint8Array(0), fill: text },
      pdfMaxBytes: 50 * MiB,
    },
    // A PDF above the in-memory limit: pages, encryption and sha256 are streamed, pdf.js is not run.
    {
      object: {
        name: "large.pdf",
        size: large,
        head: bigPdfHead,
        fill: new TextEncoder().encode("% padding\n"),
      },
      pdfMaxBytes: 50 * MiB,
    },
    // A PDF within the limit: parsed by pdf.js for its info and text.
    {
      object: { name: "text.pdf", size: pdf.length, head: pdf, fill: new Uint8Array(1) },
      pdfMaxBytes: 50 * MiB,
    },
  ];
  // pdf.js is loaded on first use (a cold start cost, about half a second here): load it before measuring.
  await describe(
    { name: "warmup.pdf", size: bigPdfHead.length, head: bigPdfHead, fill: new Uint8Array(1) },
    MiB,
  );
  const results = [];
  for (const run of runs) results.push(await describe(run.object, run.pdfMaxBytes));
  const result = { runs: results };
  await writeResult("metadata", result);
  return result;
}
