/**
 * The whole pipeline on the local stack: real emulators over HTTP, the same handler modules as in Lambda.
 */

import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticEvent } from "../../core/usecases/pipeline/sweep.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { gzip, nest, tar, truncate, zip, zipBomb } from "../fixtures/archives.ts";
import { CLEAN_DOCUMENTS, jpeg, pdf, png } from "../fixtures/documents.ts";
import {
  append,
  BATCH,
  EICAR,
  ELF,
  HTA,
  HTML_WITH_SCRIPT,
  LNK,
  OLE2_WITH_MACROS,
  objectStreamText,
  PDF_ESCAPED_JAVASCRIPT,
  PDF_OPEN_ACTION_URI,
  PE,
  POWERSHELL,
  pdfEncode,
  pdfOf,
  pdfWithObjectStream,
  RTF_WITH_OBJECT,
  SCRIPTS,
  SVG_WITH_SCRIPT,
  XML_EXTERNAL_ENTITY,
} from "../fixtures/malicious.ts";
import { clientsFor } from "../support/local.ts";

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;

beforeAll(async () => {
  stack = await startLocalStack({
    // Short enough for the crashing scan to be dead-lettered within the test, long enough that an invocation
    // slowed by a loaded machine (80 files at once, the zip bomb) is not taken for a crashed one.
    visibilityTimeoutSeconds: 3,
    maxReceiveCount: 2,
    sweepIntervalMs: 3_600_000,
    crash: (stage, body) => stage === "scan" && body.includes("crash-in-scan"),
  });
  io = clientsFor(stack);
});
afterAll(() => stack?.stop());

const notificationsOf = (fileId: string) => stack.outbox.filter((n) => n.attributes.fileId === fileId);

describe("Local stack: ordinary files", () => {
  it.each(CLEAN_DOCUMENTS.map((d) => [d.name, d] as const))(
    "verifies and promotes %s",
    async (_name, doc) => {
      const key = `drops/itest/${doc.filename}`;
      const bytes = doc.bytes();
      const record = await io.waitFinal(await io.drop(key, bytes, doc.contentType));
      expect(record.status, record.reasons.join("; ")).toBe("VERIFIED");
      expect(record.detectedType?.id).toBe(doc.expectedType);
      expect(record.cleanKey).toBe(key);
      const clean = await io.s3.send(new GetObjectCommand({ Bucket: stack.state.cleanBucket, Key: key }));
      expect(Buffer.from((await clean.Body?.transformToByteArray()) ?? [])).toEqual(Buffer.from(bytes));
      await expect(
        io.s3.send(new HeadObjectCommand({ Bucket: stack.state.ingestBucket, Key: key })),
      ).rejects.toThrow();
    },
  );

  it("keeps odd keys intact: spaces, plus signs and unicode", async () => {
    const key = "drops/itest/my report+final (v2) €ürö 📄.pdf";
    const record = await io.waitFinal(
      await io.drop(key, pdf({ pages: 1, text: "hello" }), "application/pdf"),
    );
    expect(record.status).toBe("VERIFIED");
    expect(record.key).toBe(key);
    const clean = await io.s3.send(new HeadObjectCommand({ Bucket: stack.state.cleanBucket, Key: key }));
    expect(clean.ContentLength).toBeGreaterThan(0);
  });

  it("records sha256, size and facts, and notifies once with attributes", async () => {
    const bytes = pdf({ pages: 3, text: "three pages" });
    const fileId = await io.drop("drops/billing/facts.pdf", bytes, "application/pdf");
    const record = await io.waitFinal(fileId);
    const { createHash } = await import("node:crypto");
    expect(record.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(record.size).toBe(bytes.byteLength);
    expect(record.stages.metadata?.facts?.pdf?.pages).toBe(3);
    expect(record.owner).toBe("system:billing");
    await stack.idle();
    const sent = notificationsOf(fileId);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.attributes).toMatchObject({
      status: "VERIFIED",
      source: "drop",
      owner: "system:billing",
    });
    expect(sent[0]?.subject).toBe("[Airlock] VERIFIED: facts.pdf");
  });
});

const eicarZip = zip([{ name: "eicar.com", data: EICAR }]);

describe("Local stack: dangerous and broken files", () => {
  it.each<[string, string, () => Uint8Array, string, RegExp]>([
    ["EICAR", "eicar.txt", () => EICAR, "INFECTED", /Airlock\.Eicar/],
    ["zipped EICAR", "eicar.zip", () => eicarZip, "INFECTED", /Airlock\.Eicar/],
    [
      "double-zipped EICAR",
      "eicar2.zip",
      () => zip([{ name: "inner.zip", data: eicarZip }]),
      "INFECTED",
      /Airlock\.Eicar/,
    ],
    ["gzipped EICAR", "eicar.txt.gz", () => gzip(EICAR), "INFECTED", /Airlock\.Eicar/],
    ["a PE executable renamed .pdf", "invoice.pdf", () => PE, "INFECTED", /Airlock\.Executable\.PE/],
    [
      "an ELF inside a zip",
      "tools.zip",
      () => zip([{ name: "run", data: ELF }]),
      "INFECTED",
      /Airlock\.Executable\.ELF/,
    ],
    [
      "HTML named .png",
      "photo.png",
      () => new TextEncoder().encode("<!doctype html><html><body>hi</body></html>"),
      "REJECTED",
      /html/i,
    ],
    [
      "HTML with script named .png",
      "photo2.png",
      () => HTML_WITH_SCRIPT,
      "INFECTED",
      /Airlock\.Html\.Script/,
    ],
    ["SVG with script", "logo.svg", () => SVG_WITH_SCRIPT, "INFECTED", /Airlock\.Svg\.Script/],
    ["a zip bomb", "bomb.zip", () => zipBomb(2 * 1024 ** 3), "INFECTED", /Airlock\.Archive\.Bomb/],
    [
      "a zip nested past the depth limit",
      "deep.zip",
      () => nest(new TextEncoder().encode("deep"), 8, "deep.txt"),
      "REJECTED",
      /depth/i,
    ],
    [
      "a truncated zip",
      "cut.zip",
      () => truncate(zip([{ name: "a.txt", data: new Uint8Array(5000).fill(65), method: "deflate" }]), 60),
      "REJECTED",
      /corrupt|truncated/i,
    ],
    ["an empty file", "empty.pdf", () => new Uint8Array(0), "REJECTED", /empty/i],
    [
      "a PDF no reader can open",
      "broken.pdf",
      () =>
        new TextEncoder().encode(
          "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        ),
      "REJECTED",
      /cannot be opened by a PDF reader/,
    ],
  ])("holds %s", async (_what, name, bytes, status, reason) => {
    const key = `drops/itest/bad/${name}`;
    const record = await io.waitFinal(await io.drop(key, bytes()));
    expect(record.status, record.reasons.join("; ")).toBe(status);
    expect(record.reasons.join("\n")).toMatch(reason);
    expect(record.promotedAt).toBeUndefined();
    const held = await io.s3.send(new HeadObjectCommand({ Bucket: stack.state.ingestBucket, Key: key }));
    expect(held.ContentLength).toBe(bytes().byteLength);
    await expect(
      io.s3.send(new HeadObjectCommand({ Bucket: stack.state.cleanBucket, Key: key })),
    ).rejects.toThrow();
  });
});

describe("Local stack: delivery semantics", () => {
  const sns = () =>
    new SNSClient({
      region: stack.state.region,
      credentials: stack.state.credentials,
      endpoint: stack.state.endpoints.sns,
    });

  it("gives one verdict and one notification under duplicate and stale events", async () => {
    const key = "drops/itest/replay.txt";
    const first = await io.waitFinal(await io.drop(key, "a clean first version\n", "text/plain"));
    expect(first.status).toBe("VERIFIED");
    const second = await io.waitFinal(await io.drop(key, EICAR, "text/plain"));
    expect(second.status, second.reasons.join("; ")).toBe("INFECTED");
    expect(second.version.sequencer > first.version.sequencer).toBe(true);

    // Redeliver the newer event twice and the older (promoted, now stale) one once, as SNS/SQS may.
    const client = sns();
    for (const record of [second, second, first]) {
      await client.send(
        new PublishCommand({ TopicArn: stack.state.fanoutTopicArn, Message: syntheticEvent(record) }),
      );
    }
    await stack.idle();
    const after = await io.records.get(second.fileId);
    expect(after?.status).toBe("INFECTED");
    expect(after?.version.sequencer).toBe(second.version.sequencer);
    expect(after?.decidedAt).toBe(second.decidedAt);
    const sent = notificationsOf(second.fileId);
    expect(sent.map((n) => n.attributes.status)).toEqual(["VERIFIED", "INFECTED"]);
  });

  it("dead-letters a stage that keeps crashing and fails the file, notifying once", async () => {
    const fileId = await io.drop("drops/itest/crash-in-scan.txt", "harmless text\n", "text/plain");
    const record = await io.waitFinal(fileId, 30_000);
    expect(record.status).toBe("FAILED");
    expect(record.reasons.join("\n")).toMatch(/scan stage failed/);
    expect(record.promotedAt).toBeUndefined();
    await stack.idle(30_000);
    expect(notificationsOf(fileId)).toHaveLength(1);
  });

  it("ignores an unreadable message without losing it", async () => {
    await sns().send(
      new PublishCommand({ TopicArn: stack.state.fanoutTopicArn, Message: "this is not an S3 event" }),
    );
    await stack.idle(30_000);
    const { QueryCommand } = await import("@aws-sdk/lib-dynamodb");
    const day = new Date().toISOString().slice(0, 10);
    const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
    const { DynamoDBDocumentClient } = await import("@aws-sdk/lib-dynamodb");
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: stack.state.region,
        credentials: stack.state.credentials,
        endpoint: stack.state.endpoints.dynamodb,
      }),
    );
    const kept = await doc.send(
      new QueryCommand({
        TableName: stack.state.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": `UNREADABLE#${day}` },
      }),
    );
    const items = (kept.Items ?? []).filter((i) => String(i.body).includes("this is not an S3 event"));
    // One copy per stage queue: the fan-out delivered it to all three, and each dead-lettered it. A dead letter
    // is handled at least once, so a slow handling may keep a copy twice; each queue's copy is there.
    expect(new Set(items.map((i) => String(i.queue))).size).toBe(3);
  });
});

describe("Local stack: ordinary files that look unusual", () => {
  const encode = (t: string) => new TextEncoder().encode(t);
  const types = encode(
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
  );
  it.each<[string, Uint8Array, string, string]>([
    ["table.csv", encode('id,note\r\n1,"first line\r\nsecond line"\r\n2,plain\r\n'), "text/csv", "csv"],
    [
      "export.csv",
      new Uint8Array(Buffer.from("Name;Stadt\nM\xfcller;K\xf6ln\nJos\xe9;M\xe1laga\n", "latin1")),
      "text/csv",
      "csv",
    ],
    [
      "README.md",
      encode('<p align="center"><img src="logo.png"></p>\n\n# Tool\n\n- fast\n'),
      "text/markdown",
      "txt",
    ],
    [
      "letter.docx",
      zipSync({
        "word/media/image1.png": [new Uint8Array(150_000).map((_, i) => (i * 31) % 253), { level: 0 }],
        "word/document.xml": encode("<w:document/>"),
        "[Content_Types].xml": types,
      }),
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      "docx",
    ],
  ])("verifies %s", async (name, data, contentType, id) => {
    const record = await io.waitFinal(await io.drop(`drops/itest/ordinary/${name}`, data, contentType));
    expect(record.status, record.reasons.join("; ")).toBe("VERIFIED");
    expect(record.detectedType?.id).toBe(id);
  });
});

describe("Local stack: the wider catalogue", () => {
  it("holds every category, bare and inside zip, tar and tar.gz, with its finding name", async () => {
    const samples: [string, Uint8Array, RegExp][] = [
      ["shortcut.lnk", LNK, /Airlock\.Shortcut\.Lnk/],
      ["run.bat", BATCH, /Airlock\.Script\.Batch/],
      ["get.ps1", POWERSHELL, /Airlock\.Script\.PowerShell/],
      ["app.hta", HTA, /Airlock\.Html\.Hta/],
      ["data.xml", XML_EXTERNAL_ENTITY, /Airlock\.Xml\.ExternalEntity/],
      ["letter.rtf", RTF_WITH_OBJECT, /Airlock\.Rtf\.EmbeddedObject/],
      ["old.doc", OLE2_WITH_MACROS, /Airlock\.Ole2\.Macro/],
      ["open.pdf", PDF_OPEN_ACTION_URI, /Airlock\.Pdf\.OpenAction/],
      ["escaped.pdf", PDF_ESCAPED_JAVASCRIPT, /Airlock\.Pdf\.JavaScript/],
      [
        "packed.pdf",
        pdfWithObjectStream("1 0 << /S /JavaScript /JS (app.alert(1)) >>"),
        /Airlock\.Pdf\.JavaScript/,
      ],
      ["invoice.txt", SCRIPTS.jscript, /Airlock\.Script\.WindowsHost/],
      ["notes.txt", SCRIPTS.batchWithoutEcho, /Airlock\.Script\.Batch/],
      ["readme.txt", SCRIPTS.powershellDownloader, /Airlock\.Script\.PowerShell/],
      ["table.csv", SCRIPTS.csvDde, /Airlock\.Csv\.Dde/],
      [
        "cat.png",
        append(png(8, 8), zip([{ name: "e.com", data: EICAR }])),
        /Airlock\.Polyglot\.TrailingData/,
      ],
      ["photo.jpg", append(jpeg(8, 8), PE), /Airlock\.Executable\.PE/],
      ["inner.7z", new Uint8Array(Buffer.from("377abcaf271c000400", "hex")), /Airlock\.Archive\.Unopenable/],
      [
        "letter.docx",
        zipSync({
          "[Content_Types].xml": new TextEncoder().encode("<Types/>"),
          "word/document.xml": new TextEncoder().encode(
            '<w:document><w:body><w:fldSimple w:instr=" DDEAUTO c:\\windows\\system32\\cmd.exe &quot;/k calc&quot;"/></w:body></w:document>',
          ),
        }),
        /Airlock\.Office\.Dde/,
      ],
      [
        "book.xlsx",
        zipSync({ "xl/macrosheets/sheet1.xml": new TextEncoder().encode("<xm:macrosheet/>") }),
        /Airlock\.Office\.Xlm/,
      ],
      [
        "lzw.pdf",
        (() => {
          const { text, n, first } = objectStreamText(["<< /S /Launch /F (cmd.exe) >>"]);
          return pdfOf([
            "<< /Type /Catalog >>",
            {
              dictionary: `/N ${n} /First ${first} /Filter /LZWDecode`,
              data: pdfEncode.lzw(new Uint8Array(Buffer.from(text, "latin1"))),
            },
          ]);
        })(),
        /Airlock\.Pdf\.Launch/,
      ],
    ];
    const cases = samples.flatMap(([name, data, finding]) => [
      { key: `drops/itest/catalogue/${name}`, data, finding },
      { key: `drops/itest/catalogue/${name}.zip`, data: zip([{ name, data, method: "deflate" }]), finding },
      { key: `drops/itest/catalogue/${name}.tar`, data: tar([{ name, data }]), finding },
      { key: `drops/itest/catalogue/${name}.tar.gz`, data: gzip(tar([{ name, data }])), finding },
    ]);
    const records = await Promise.all(
      cases.map(async ({ key, data }) => io.waitFinal(await io.drop(key, data), 60_000)),
    );
    records.forEach((record, i) => {
      const { key, finding } = cases[i] as (typeof cases)[number];
      expect(record.status, `${key}: ${record.reasons.join("; ")}`).toBe("INFECTED");
      expect(record.reasons.join("\n"), key).toMatch(finding);
      expect(record.promotedAt, key).toBeUndefined();
    });
  }, 120_000);

  it("rejects a truncated tar and a PDF whose object stream cannot be inflated", async () => {
    const archive = tar([{ name: "a.txt", data: new Uint8Array(3000).fill(65) }]);
    const [cut, packed] = await Promise.all([
      io.drop("drops/itest/catalogue/cut.tar", truncate(archive, 1200)).then((id) => io.waitFinal(id)),
      io
        .drop("drops/itest/catalogue/broken.pdf", pdfWithObjectStream("x", { corrupt: true }))
        .then((id) => io.waitFinal(id)),
    ]);
    expect(cut.status).toBe("REJECTED");
    expect(packed.status).toBe("REJECTED");
    expect(packed.reasons.join()).toMatch(/object stream/);
  });
});
