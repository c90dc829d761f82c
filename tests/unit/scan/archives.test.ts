import { deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createBuiltinEngine, type ScanLimits } from "../../../core/domain/scan/index.ts";
import type { EngineResult } from "../../../core/domain/types.ts";
import { gzip, tar, zip } from "../../fixtures/archives.ts";
import { EICAR } from "../../fixtures/malicious.ts";

const LIMITS: ScanLimits = { maxDepth: 4, maxEntries: 50, maxExpandedBytes: 64 * 1024 * 1024, maxRatio: 100 };

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
const scan = (data: Uint8Array, chunk = 64 * 1024): Promise<EngineResult> =>
  createBuiltinEngine(LIMITS).scan(chunks(data, chunk), { key: "k", size: data.length });
const names = (r: EngineResult) =>
  r.status === "infected" ? r.findings.map((f) => `${f.name}@${f.path}`).sort() : [];

const hex = (h: string, rest: Uint8Array = EICAR) =>
  new Uint8Array(Buffer.concat([Buffer.from(h, "hex"), rest]));
/** The first bytes of each container format Airlock cannot open, followed by an EICAR it would not see. */
const UNOPENABLE: [string, Uint8Array][] = [
  ["bzip2", new Uint8Array(Buffer.concat([Buffer.from("BZh91AY&SY"), deflateRawSync(EICAR)]))],
  ["xz", hex("fd377a585a000004e6d6b446")],
  ["7z", hex("377abcaf271c0004")],
  ["rar 4", hex("526172211a0700cf90")],
  ["rar 5", hex("526172211a0701000d")],
  ["cab", hex("4d534346000000009a")],
  ["zstd", hex("28b52ffd2400")],
  ["lz4", hex("04224d186440a7")],
  ["lzip", hex("4c5a49500114")],
  ["compress", hex("1f9d90")],
  [
    "ar / deb",
    new Uint8Array(
      Buffer.from("!<arch>\ndebian-binary   1342177280  0     0     100644  4         `\n2.0\n"),
    ),
  ],
  ["rpm", hex("edabeedb0300")],
  ["cpio", new Uint8Array(Buffer.from(`070701${"0".repeat(104)}`))],
  ["xar", new Uint8Array(Buffer.from("xar!\0\x1c\0\x01"))],
  ["lha", new Uint8Array(Buffer.from("\x25\x2c-lh5-\x10\0\0\0"))],
];

describe("Function: createBuiltinEngine (archives it cannot open, entry names, links)", () => {
  it.each(UNOPENABLE)("holds %s, bare and inside zip, tar and gzip", async (_what, data) => {
    expect(names(await scan(data))).toContain("Airlock.Archive.Unopenable@");
    expect(names(await scan(zip([{ name: "inner.bin", data, method: "deflate" }]), 7))).toContain(
      "Airlock.Archive.Unopenable@inner.bin",
    );
    expect(names(await scan(tar([{ name: "x/inner.bin", data }])))).toContain(
      "Airlock.Archive.Unopenable@x/inner.bin",
    );
    expect(names(await scan(gzip(data)))).toContain("Airlock.Archive.Unopenable@(gunzip)");
  });

  it.each<[string, string, string]>([
    ["a right-to-left override", "invoice\u202Etxt.exe", "Airlock.Archive.DeceptiveName"],
    ["a zero-width space", "report\u200B.pdf", "Airlock.Archive.DeceptiveName"],
    ["a control character", "a\nb.txt", "Airlock.Archive.DeceptiveName"],
    ["a .. segment", "../../etc/cron.d/x", "Airlock.Archive.PathTraversal"],
    ["a backslash .. segment", "docs\\..\\..\\x.txt", "Airlock.Archive.PathTraversal"],
    ["an absolute path", "/etc/passwd", "Airlock.Archive.PathTraversal"],
    ["a drive letter", "C:\\Windows\\x.txt", "Airlock.Archive.PathTraversal"],
  ])("holds an entry named with %s, in zip and tar", async (_what, name, finding) => {
    const data = new Uint8Array(10).fill(65);
    expect(names(await scan(zip([{ name, data }])))).toEqual([`${finding}@${name}`]);
    expect(names(await scan(tar([{ name, data }])))).toEqual([`${finding}@${name}`]);
  });

  it("reads a name the way an extractor may: UTF-8 bytes without the UTF-8 flag, and Unicode Path fields", async () => {
    const data = new Uint8Array(3);
    expect((await scan(zip([{ name: "harmless.txt", data, unicodePath: "evil\u202Etxt.exe" }]))).status).toBe(
      "infected",
    );
  });

  it("passes ordinary names with dots and non-Latin letters", async () => {
    const data = new Uint8Array(3).fill(65);
    for (const name of ["a..b.txt", "Übersicht/März.csv", "日本語.txt", "dir/.hidden", "x.tar.gz.txt"])
      expect((await scan(zip([{ name, data }]))).status, name).toBe("clean");
  });

  it("holds symbolic and hard links in tar, and symbolic links in zip", async () => {
    expect(
      names(await scan(tar([{ name: "passwd", data: new Uint8Array(0), type: "2", link: "/etc/passwd" }]))),
    ).toEqual(["Airlock.Archive.Link@passwd"]);
    expect(names(await scan(tar([{ name: "h", data: new Uint8Array(0), type: "1", link: "a" }])))).toEqual([
      "Airlock.Archive.Link@h",
    ]);
    expect(
      names(
        await scan(
          zip([{ name: "link", data: new TextEncoder().encode("/etc/passwd"), unixMode: 0o120777 }]),
        ),
      ),
    ).toEqual(["Airlock.Archive.Link@link"]);
    expect(
      (await scan(zip([{ name: "file", data: new Uint8Array(3).fill(65), unixMode: 0o100644 }]))).status,
    ).toBe("clean");
  });

  it("does not pass tar entries whose data it does not read (sparse files)", async () => {
    const result = await scan(tar([{ name: "s", data: new Uint8Array(600), type: "S" }]));
    expect(result).toMatchObject({ status: "error", reason: "unsupported" });
  });

  it("holds entries hidden after a tar's end blocks (tar -i reads on)", async () => {
    const data = new Uint8Array(
      Buffer.concat([
        tar([{ name: "a.txt", data: new Uint8Array(5).fill(65) }]),
        tar([{ name: "e.com", data: EICAR }]),
      ]),
    );
    expect(names(await scan(data))).toContain("Airlock.Polyglot.TrailingData@");
    expect(names(await scan(data)).some((n) => n.startsWith("Airlock.Eicar@"))).toBe(true);
  });
});

describe("Function: createBuiltinEngine (disk images)", () => {
  const image = (id: string) => {
    const b = Buffer.alloc(0x8800);
    b[0x8000] = 1;
    b.write(id, 0x8001, "latin1");
    return new Uint8Array(b);
  };
  it.each(["CD001", "BEA01", "NSR02"])(
    "holds a disk image with a %s volume descriptor, bare and in a zip",
    async (id) => {
      for (const size of [7, 4096, 64 * 1024])
        expect(names(await scan(image(id), size))).toEqual(["Airlock.Archive.Unopenable@"]);
      expect(names(await scan(zip([{ name: "setup.img", data: image(id), method: "deflate" }])))).toEqual([
        "Airlock.Archive.Unopenable@setup.img",
      ]);
    },
  );

  it("holds VHD and VHDX images", async () => {
    for (const magic of ["vhdxfile", "conectix"])
      expect(
        names(await scan(new Uint8Array(Buffer.concat([Buffer.from(magic), Buffer.alloc(600)])))),
      ).toEqual(["Airlock.Archive.Unopenable@"]);
  });

  it("passes zeros that are not a disk image", async () => {
    expect((await scan(new Uint8Array(0x9000))).status).toBe("clean");
  });
});
