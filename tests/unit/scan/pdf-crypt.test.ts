/**
 * PDF decryption for files that open without a password. The dictionaries below are the test vectors of pdf.js's
 * CipherTransformFactory tests (values percent-escaped as there): which revisions accept the blank password.
 */
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createBuiltinEngine } from "../../../core/domain/scan/index.ts";
import { decryptStream, encryptParams, fileKey } from "../../../core/domain/scan/pdf-crypt.ts";
import type { EngineResult } from "../../../core/domain/types.ts";
import { objectStreamText } from "../../fixtures/malicious.ts";

const bytes = (escaped: string) => Buffer.from(unescape(escaped), "latin1");
const FILE_ID_1 = bytes("%F6%C6%AF%17%F3rR%8DRM%9A%80%D1%EF%DF%18");
const FILE_ID_2 = bytes("%3CL_%3AD%96%AF@%9A%9D%B3%3Cx%1Cv%AC");
const hex = (b: Buffer) => `<${b.toString("hex")}>`;

const RC4_NEEDS_PASSWORD = {
  dictionary: `<< /Filter /Standard /V 2 /Length 128 /R 3 /P -1028 /O ${hex(bytes("%80%C3%04%96%91o%20sl%3A%E6%1B%13T%91%F2%0DV%12%E3%FF%5E%BB%E9VO%D8k%9A%CA%7C%5D"))} /U ${hex(bytes("j%0C%8D%3EY%19%00%BCjd%7D%91%BD%AA%00%18%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00"))} >>`,
  id: FILE_ID_1,
};
const RC4_BLANK = {
  dictionary: `<< /Filter /Standard /V 4 /Length 128 /R 4 /P -1084 /O ${hex(bytes("sF%14v.y5%27%DB%97%0A5%22%B3%E1%D4%AD%BD%9B%3C%B4%A5%89u%15%B2Y%F1h%D9%E9%F4"))} /U ${hex(bytes("%93%04%89%A9%BF%8AE%A6%88%A2%DB%C2%A0%A8gn%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00"))} >>`,
  id: FILE_ID_2,
};
const aes256 = (r: number, o: string, u: string, ue: string) => ({
  dictionary: `<< /Filter /Standard /V 5 /Length 256 /R ${r} /P -1084 /CF << /StdCF << /CFM /AESV3 >> >> /StmF /StdCF /O ${hex(bytes(o))} /U ${hex(bytes(u))} /UE ${hex(bytes(ue))} >>`,
  id: FILE_ID_1,
});
const AES_R5_BLANK = aes256(
  5,
  "%B8p%04%C3g%26%FCW%CCN%D4%16%A1%E8%950YZ%C9%9E%B1-%97%F3%FE%03%13%19ffZn%8F%F5%EB%EC%CC5sV%10e%CEl%B5%E9G%C1",
  "%83%D4zi%F1O0%961%12%CC%82%CB%CA%BF5y%FD%21%EB%E4%D1%B5%1D%D6%FA%14%F3%BE%8Fqs%EF%88%DE%E2%E8%DC%F55%E4%B8%16%C8%14%8De%1E",
  "%81%F5%5D%B0%28%81%E4%7F_%7C%8F%85b%A0%7E%10%D0%88lx%7B%7EJ%5E%912%B6d%12%27%05%F6",
);
const AES_R6_BLANK = aes256(
  6,
  "%F7%DB%99U%A6M%ACk%AF%CF%D7AFw%E9%C1%91%CBDgI%23R%CF%0C%15r%D74%0D%CE%E9%91@%E4%98QF%BF%88%7Ej%DE%AD%8F%F4@%C1",
  "%1A%A9%DC%918%83%93k%29%5B%117%B16%DB%E8%8E%FE%28%E5%89%D4%0E%AD%12%3B%7DN_6fez%8BG%18%05YOh%7DZH%A3Z%87%17*",
  "%A0%0AZU%27%1D%27%2C%0B%FE%0E%A2L%F9b%5E%A1%B9%D6v7b%B26%A9N%99%F1%A4Deq",
);
const AES_R6_NEEDS_PASSWORD = aes256(
  6,
  "X%E8%3E6%F5%1A%F5%D1%89%7B%DDH%C71%25%D9%1FJs%A7%7F%9E%B0M-%A3W/%27Z%D9%8D%8E%E8%A9%D0%CA%D6%05%B9%1D%D0%B9.%0BL%87%95",
  "%5E%E6%CDK%A6c%FAL%DB%80%11U9%11%21%A4%96.g%B0%A0%9C%BB%E9%A6%DF%A3%FD%93%EB_%B8S%F5%92e%C6%F7%22%C6%BF%0B%10%5E%ED%D8%14%AF",
  "y%D0%02%B5%E6Y%9C%3C%FD%8F%D4%1CT%B4%C4%B1%AD%80%DDk.%14%5E%BA%873_%18%14%DF%FE%24",
);

const keyOf = (v: { dictionary: string; id: Buffer }) => {
  const params = encryptParams(v.dictionary, v.id);
  if (!params) throw new Error("not a standard handler dictionary");
  return { params, key: fileKey(params) };
};

describe("Function: fileKey", () => {
  it.each([
    ["RC4 revision 4", RC4_BLANK],
    ["AES-256 revision 5", AES_R5_BLANK],
    ["AES-256 revision 6", AES_R6_BLANK],
  ])("opens %s with the blank password", (_what, vector) => {
    expect(keyOf(vector).key).toBeInstanceOf(Buffer);
  });

  it.each([
    ["RC4 revision 3", RC4_NEEDS_PASSWORD],
    ["AES-256 revision 6", AES_R6_NEEDS_PASSWORD],
  ])("knows %s needs a password", (_what, vector) => {
    expect(keyOf(vector).key).toBeUndefined();
  });
});

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
const scan = (data: Uint8Array, chunk = 64 * 1024): Promise<EngineResult> =>
  createBuiltinEngine({ maxDepth: 4, maxEntries: 50, maxExpandedBytes: 1 << 26, maxRatio: 100 }).scan(
    chunks(data, chunk),
    { key: "k", size: data.length },
  );

/** A PDF whose JavaScript action sits in an object stream (object 5) encrypted as the vector's handler does. */
function encryptedPdf(vector: { dictionary: string; id: Buffer }, action: string): Uint8Array {
  const { params, key } = keyOf(vector);
  if (!key) throw new Error("the vector needs a password");
  const { text, n, first } = objectStreamText([action]);
  const plain = deflateSync(Buffer.from(text, "latin1"));
  let data: Buffer;
  if (params.r >= 5) {
    const iv = randomBytes(16);
    const cipher = createCipheriv("aes-256-cbc", key, iv);
    data = Buffer.concat([iv, cipher.update(plain), cipher.final()]);
  } else if (params.aes) {
    // Algorithm 1: the object key is MD5(file key, object number, generation, "sAlT").
    const objectKey = createHash("md5")
      .update(Buffer.concat([key, Buffer.from([5, 0, 0, 0, 0]), Buffer.from("sAlT")]))
      .digest();
    const iv = randomBytes(16);
    const cipher = createCipheriv("aes-128-cbc", objectKey, iv);
    data = Buffer.concat([iv, cipher.update(plain), cipher.final()]);
  } else data = decryptStream(params, key, 5, 0, plain); // RC4 is its own inverse
  return new Uint8Array(
    Buffer.concat([
      Buffer.from("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "latin1"),
      Buffer.from(
        `5 0 obj\n<< /Type /ObjStm /N ${n} /First ${first} /Filter /FlateDecode /Length ${data.length} >>\nstream\n`,
        "latin1",
      ),
      data,
      Buffer.from(`\nendstream\nendobj\n9 0 obj\n${vector.dictionary}\nendobj\n`, "latin1"),
      Buffer.from(
        `trailer\n<< /Root 1 0 R /Encrypt 9 0 R /ID [${hex(vector.id)} ${hex(vector.id)}] >>\n%%EOF\n`,
        "latin1",
      ),
    ]),
  );
}

describe("Function: createBuiltinEngine (encrypted PDFs that open without a password)", () => {
  it.each([
    ["RC4", RC4_BLANK],
    [
      "AES-128",
      {
        ...RC4_BLANK,
        dictionary: RC4_BLANK.dictionary.replace(
          "/R 4",
          "/R 4 /CF << /StdCF << /CFM /AESV2 >> >> /StmF /StdCF",
        ),
      },
    ],
    ["AES-256 (revision 6)", AES_R6_BLANK],
  ])("decrypts %s object streams and finds what they hold, at any chunk size", async (_what, vector) => {
    const data = encryptedPdf(vector, "<< /S /JavaScript /JS (app.alert(1)) >>");
    for (const size of [7, 64 * 1024])
      expect(await scan(data, size)).toMatchObject({
        status: "infected",
        findings: [{ name: "Airlock.Pdf.JavaScript", path: "" }],
      });
  });

  it("passes an encrypted PDF whose object streams hold nothing active", async () => {
    expect(await scan(encryptedPdf(AES_R6_BLANK, "<< /Type /Page /MediaBox [0 0 612 792] >>"))).toMatchObject(
      {
        status: "clean",
      },
    );
  });

  it("holds an encrypted PDF that needs a password as encrypted", async () => {
    const data = Buffer.from(encryptedPdf(RC4_BLANK, "<< /Type /Page >>")).toString("latin1");
    const locked = data.replace(RC4_BLANK.dictionary, AES_R6_NEEDS_PASSWORD.dictionary);
    expect(await scan(new Uint8Array(Buffer.from(locked, "latin1")))).toMatchObject({
      status: "error",
      reason: "encrypted",
    });
  });
});
