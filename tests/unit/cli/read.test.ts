import { createHash } from "node:crypto";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postForm } from "../../../local/push/api-target.ts";
import { FileChangedError, hashFile, openVerified, VerifyingStream } from "../../../local/push/read.ts";

let dir: string;
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-read-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe("Function: hashFile", () => {
  it("streams the SHA-256 of the file and its fingerprint", async () => {
    const file = join(dir, "a.bin");
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a);
    await writeFile(file, bytes);
    const { sha256, fingerprint } = await hashFile(file);
    expect(sha256).toBe(sha(bytes));
    expect(fingerprint.size).toBe(bytes.length);
  });
});

describe("Function: openVerified", () => {
  it("gives exactly the hashed bytes", async () => {
    const file = join(dir, "b.txt");
    await writeFile(file, "hello airlock\n".repeat(50_000));
    const hashed = await hashFile(file);
    const body = await drain(await openVerified(file, hashed));
    expect(sha(body)).toBe(hashed.sha256);
  });

  it("refuses a file that changed after it was hashed", async () => {
    const file = join(dir, "c.txt");
    await writeFile(file, "first version");
    const hashed = await hashFile(file);
    await appendFile(file, " and more");
    await expect(openVerified(file, hashed)).rejects.toBeInstanceOf(FileChangedError);
  });

  it("fails before releasing the last chunk when the file changes during the read", async () => {
    const file = join(dir, "d.bin");
    await writeFile(file, Buffer.alloc(4 * 1024 * 1024, 1));
    const hashed = await hashFile(file);
    const stream = await openVerified(file, hashed);
    let received = 0;
    let changed = false;
    const read = (async () => {
      for await (const chunk of stream) {
        received += (chunk as Buffer).length;
        if (!changed) {
          changed = true;
          // Same size, new content at the end: only the digest can tell.
          const { open } = await import("node:fs/promises");
          const handle = await open(file, "r+");
          await handle.write(Buffer.from([2]), 0, 1, 4 * 1024 * 1024 - 1);
          await handle.close();
        }
      }
    })();
    await expect(read).rejects.toBeInstanceOf(FileChangedError);
    expect(received).toBeLessThan(4 * 1024 * 1024);
  });
});

describe("Class: VerifyingStream", () => {
  it.each([
    { name: "more bytes than hashed", data: ["abc", "def"], size: 5, sha256: undefined },
    { name: "fewer bytes than hashed", data: ["abc"], size: 5, sha256: undefined },
    { name: "other bytes", data: ["abcde"], size: 5, sha256: sha("abcdX") },
  ])("fails on $name without passing the last chunk", async ({ data, size, sha256 }) => {
    const stream = new VerifyingStream({ size, sha256 });
    const out: Buffer[] = [];
    stream.on("data", (c: Buffer) => out.push(c));
    const done = new Promise((resolve, reject) => {
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    for (const d of data) stream.write(Buffer.from(d));
    stream.end();
    await expect(done).rejects.toBeInstanceOf(FileChangedError);
    expect(Buffer.concat(out).length).toBeLessThan(Math.max(...data.map((d) => d.length)) * data.length);
  });
});

describe("Function: postForm", () => {
  let server: Server;
  let url: string;
  const bodies: { complete: boolean; length: number }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const expected = Number(req.headers["content-length"]);
      let length = 0;
      req.on("data", (c: Buffer) => {
        length += c.length;
      });
      req.on("end", () => {
        bodies.push({ complete: length === expected, length });
        res.writeHead(204).end();
      });
      req.on("aborted", () => bodies.push({ complete: false, length }));
      req.on("error", () => {});
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bucket`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("streams the form with an exact Content-Length", async () => {
    const file = join(dir, "e.txt");
    await writeFile(file, "x".repeat(300_000));
    const hashed = await hashFile(file);
    await postForm(
      { method: "POST", url, fields: { key: "k", policy: "p" } },
      await openVerified(file, hashed),
      300_000,
      "text/plain",
      AbortSignal.timeout(5000),
    );
    expect(bodies.at(-1)).toEqual({ complete: true, length: expect.any(Number) });
  });

  it("never lets the server receive a whole body when the file changes mid-upload", async () => {
    const file = join(dir, "f.bin");
    await writeFile(file, Buffer.alloc(2 * 1024 * 1024, 7));
    const hashed = await hashFile(file);
    const stream = await openVerified(file, hashed);
    stream.once("data", () => {
      void appendFile(file, "tail");
    });
    const before = bodies.length;
    await expect(
      postForm(
        { method: "POST", url, fields: { key: "k" } },
        stream,
        hashed.fingerprint.size,
        "application/octet-stream",
        AbortSignal.timeout(5000),
      ),
    ).rejects.toBeInstanceOf(FileChangedError);
    await new Promise((r) => setTimeout(r, 100));
    expect(bodies.slice(before).every((b) => !b.complete)).toBe(true);
  });
});
