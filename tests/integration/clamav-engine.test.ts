import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClamavOptions, ClamdError, createClamavEngine } from "../../core/adapters/clamav.ts";
import type { EngineResult } from "../../core/domain/types.ts";
import { EICAR } from "../fixtures/malicious.ts";
import { hdbSample, reported, SIGNATURES, startClamd, type TestClamd } from "../support/clamd.ts";

const STREAM_MAX = 1024 * 1024;
const MAX_FILE = 512 * 1024;

let clamd: TestClamd;

beforeAll(async () => {
  clamd = await startClamd({ streamMaxLength: STREAM_MAX, maxFileSize: MAX_FILE });
});

afterAll(async () => {
  await clamd?.stop();
});

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

function scan(
  data: Uint8Array,
  {
    chunk = 64 * 1024,
    size = data.length,
    ...options
  }: Partial<ClamavOptions> & { chunk?: number; size?: number } = {},
): Promise<EngineResult> {
  const engine = createClamavEngine({ endpoint: clamd.tcp, streamMaxBytes: STREAM_MAX, ...options });
  return engine.scan(chunks(data, chunk), { key: "k", size });
}

const findings = (r: EngineResult) => (r.status === "infected" ? r.findings.map((f) => f.name) : []);
const text = (s: string) => Buffer.from(s, "utf8");

describe("Function: createClamavEngine (against a real clamd)", () => {
  describe("Method: scan", () => {
    it("reports an ordinary file clean, with clamd's version", async () => {
      const result = await scan(text("Quarterly report\nrevenue,cost\n1,2\n"));
      expect(result).toEqual({
        engine: "clamav",
        status: "clean",
        signatureVersion: expect.stringMatching(/^ClamAV \d+\.\d+/),
      });
    });

    it("reports random binary data clean", async () => {
      expect((await scan(randomBytes(300 * 1024))).status).toBe("clean");
    });

    it("finds EICAR through the .ndb signature", async () => {
      const result = await scan(Buffer.concat([text("header\n"), EICAR, text("\ntrailer")]));
      expect(result.status).toBe("infected");
      expect(findings(result)).toEqual([`ClamAV.${reported(SIGNATURES.eicar)}`]);
    });

    it("finds the sample only the .hdb identifies (md5 and size)", async () => {
      expect(findings(await scan(hdbSample()))).toEqual([`ClamAV.${reported(SIGNATURES.sample)}`]);
    });

    it("does not match the .hdb sample once one byte changes", async () => {
      const changed = hdbSample();
      changed[1000] = 0x41;
      expect((await scan(changed)).status).toBe("clean");
    });

    it.each([
      ["one byte per source chunk", 1, 65536],
      ["7-byte INSTREAM chunks", 4096, 7],
      ["odd source chunks split into 1000-byte frames", 4093, 1000],
      ["source chunks larger than a frame", 300 * 1024, 16 * 1024],
    ])("finds signatures across chunk boundaries: %s", async (_label, chunk, chunkBytes) => {
      const eicar = Buffer.concat([randomBytes(1001), EICAR, randomBytes(333)]);
      expect(findings(await scan(eicar, { chunk, chunkBytes }))).toEqual([
        `ClamAV.${reported(SIGNATURES.eicar)}`,
      ]);
      if (chunk > 1)
        expect(findings(await scan(hdbSample(), { chunk, chunkBytes }))).toEqual([
          `ClamAV.${reported(SIGNATURES.sample)}`,
        ]);
    });

    it("streams hundreds of frames through the socket's backpressure", async () => {
      const data = randomBytes(MAX_FILE - 1);
      expect((await scan(data, { chunk: 256 * 1024, chunkBytes: 1024 })).status).toBe("clean");
    });

    it("reports clamd's MaxFileSize heuristic as limit-exceeded, not as a finding", async () => {
      // Between MaxFileSize and StreamMaxLength clamd would skip the file; AlertExceedsMax makes it say so.
      const result = await scan(Buffer.alloc(STREAM_MAX - 1, 0x61), { chunk: 256 * 1024, chunkBytes: 4096 });
      expect(result).toMatchObject({
        status: "error",
        reason: "limit-exceeded",
        detail: expect.stringContaining("Heuristics.Limits.Exceeded.MaxFileSize"),
      });
    });

    it("does not connect at all when the object is larger than StreamMaxLength", async () => {
      const engine = createClamavEngine({ endpoint: "tcp://127.0.0.1:9", streamMaxBytes: STREAM_MAX });
      const result = await engine.scan(chunks(text("x"), 1), { key: "k", size: STREAM_MAX + 1 });
      expect(result).toMatchObject({ status: "error", reason: "limit-exceeded" });
    });

    it("stops sending when the stream grows past the limit it announced", async () => {
      const result = await scan(Buffer.alloc(STREAM_MAX + 10, 0x61), { size: 10 });
      expect(result).toMatchObject({ status: "error", reason: "limit-exceeded" });
    });

    it("maps clamd's own size-limit reply to limit-exceeded", async () => {
      // Configured above clamd's StreamMaxLength: clamd answers and closes the connection.
      // Now and then the reply is lost to the reset of the last unread chunk (a broken pipe first): that attempt
      // is an error too, never clean; a few attempts see the reply itself.
      let result = await scan(Buffer.alloc(STREAM_MAX + 1, 0x61), { streamMaxBytes: 8 * STREAM_MAX });
      for (
        let attempt = 1;
        attempt < 5 && result.status === "error" && result.reason !== "limit-exceeded";
        attempt++
      ) {
        expect(result).toMatchObject({ status: "error", reason: "engine-unavailable" });
        result = await scan(Buffer.alloc(STREAM_MAX + 1, 0x61), { streamMaxBytes: 8 * STREAM_MAX });
      }
      expect(result).toMatchObject({
        status: "error",
        reason: "limit-exceeded",
        detail: expect.stringContaining("INSTREAM size limit exceeded"),
      });
    });

    it("is never clean when clamd closes the connection while far over its limit", async () => {
      // The reply may be lost to the reset of the unread data: then the connection loss is the answer.
      for (const size of [2, 3, 5]) {
        const result = await scan(Buffer.alloc(size * STREAM_MAX, 0x61), { streamMaxBytes: 8 * STREAM_MAX });
        expect(result.status).toBe("error");
        expect(["limit-exceeded", "engine-unavailable"]).toContain(
          result.status === "error" ? result.reason : undefined,
        );
      }
    });

    it("speaks the same protocol over the Unix socket", async () => {
      const engine = createClamavEngine({ endpoint: clamd.socket, streamMaxBytes: STREAM_MAX });
      expect(findings(await engine.scan(chunks(EICAR, 10), { key: "k", size: EICAR.length }))).toEqual([
        `ClamAV.${reported(SIGNATURES.eicar)}`,
      ]);
      const clean = text("plain words");
      expect((await engine.scan(chunks(clean, 4), { key: "k", size: clean.length })).status).toBe("clean");
    });

    it("times out when the source stalls mid-stream", async () => {
      async function* stalled(): AsyncGenerator<Uint8Array> {
        yield text("partial");
        await new Promise(() => undefined);
      }
      const engine = createClamavEngine({ endpoint: clamd.tcp, streamMaxBytes: STREAM_MAX, timeoutMs: 400 });
      expect(await engine.scan(stalled(), { key: "k", size: 100 })).toMatchObject({
        status: "error",
        reason: "timeout",
      });
    });
  });

  describe("Method: ping and version", () => {
    it("answers PING and reports VERSION as the signature version", async () => {
      const engine = createClamavEngine({ endpoint: clamd.tcp, streamMaxBytes: STREAM_MAX });
      await expect(engine.ping()).resolves.toBeUndefined();
      const version = await engine.version();
      expect(version).toMatch(/^ClamAV \d+\.\d+\.\d+/);
      const result = await engine.scan(chunks(text("ok"), 2), { key: "k", size: 2 });
      expect(result).toMatchObject({ status: "clean", signatureVersion: version });
    });
  });
});

describe("Function: createClamavEngine (without a working clamd)", () => {
  let silent: Server;
  let silentPort: number;
  const held: Socket[] = [];

  beforeAll(async () => {
    // Accepts connections and never answers, like a wedged daemon.
    silent = createServer((socket) => {
      held.push(socket);
      socket.on("error", () => undefined);
    });
    await new Promise<void>((ok) => silent.listen(0, "127.0.0.1", ok));
    const address = silent.address();
    silentPort = typeof address === "object" && address ? address.port : 0;
  });

  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((ok) => silent.close(ok));
  });

  it("is engine-unavailable when nothing listens on the port", async () => {
    const closed = await new Promise<number>((ok) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const address = probe.address();
        probe.close(() => ok(typeof address === "object" && address ? address.port : 0));
      });
    });
    const engine = createClamavEngine({ endpoint: `tcp://127.0.0.1:${closed}`, streamMaxBytes: STREAM_MAX });
    expect(await engine.scan(chunks(text("hello"), 5), { key: "k", size: 5 })).toMatchObject({
      engine: "clamav",
      status: "error",
      reason: "engine-unavailable",
    });
    await expect(engine.ping()).rejects.toMatchObject({ name: "ClamdError", reason: "engine-unavailable" });
  });

  it("is engine-unavailable when the Unix socket does not exist", async () => {
    const engine = createClamavEngine({
      endpoint: join(clamd.socket, "..", "absent.sock"),
      streamMaxBytes: 10,
    });
    expect(await engine.scan(chunks(text("hi"), 2), { key: "k", size: 2 })).toMatchObject({
      status: "error",
      reason: "engine-unavailable",
    });
  });

  /** A stand-in clamd that answers VERSION, reads a whole INSTREAM, then replies after `delayMs`. */
  async function fakeClamd(
    reply: string,
    delayMs: number,
  ): Promise<{ endpoint: string; close(): Promise<void> }> {
    const server = createServer((socket) => {
      held.push(socket);
      socket.on("error", () => undefined);
      let buffered = Buffer.alloc(0);
      let streaming = false;
      socket.on("data", (data: Buffer) => {
        buffered = Buffer.concat([buffered, data]);
        if (!streaming) {
          const end = buffered.indexOf(0);
          if (end < 0) return;
          const command = buffered.subarray(0, end).toString();
          buffered = buffered.subarray(end + 1);
          if (command === "zVERSION") return void socket.end("ClamAV 9.9.9/1/fake\0");
          streaming = command === "zINSTREAM";
        }
        while (buffered.length >= 4) {
          const length = buffered.readUInt32BE(0);
          if (length === 0) {
            setTimeout(() => socket.end(reply), delayMs);
            return;
          }
          if (buffered.length < 4 + length) return;
          buffered = buffered.subarray(4 + length);
        }
      });
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    return {
      endpoint: `tcp://127.0.0.1:${port}`,
      close: () => new Promise((ok) => server.close(() => ok())),
    };
  }

  it("waits past the idle timeout while clamd scans a fully sent stream, up to the overall timeout", async () => {
    const slow = await fakeClamd("stream: OK\0", 600);
    try {
      const patient = createClamavEngine({
        endpoint: slow.endpoint,
        streamMaxBytes: STREAM_MAX,
        idleTimeoutMs: 100,
      });
      expect(await patient.scan(chunks(text("hello"), 5), { key: "k", size: 5 })).toMatchObject({
        status: "clean",
        signatureVersion: "ClamAV 9.9.9/1/fake",
      });
      const hurried = createClamavEngine({
        endpoint: slow.endpoint,
        streamMaxBytes: STREAM_MAX,
        timeoutMs: 300,
      });
      expect(await hurried.scan(chunks(text("hello"), 5), { key: "k", size: 5 })).toMatchObject({
        status: "error",
        reason: "timeout",
      });
    } finally {
      await slow.close();
    }
  });

  it("is never clean for a reply cut off before its terminator", async () => {
    const cut = await fakeClamd("stream: OK", 0);
    try {
      const engine = createClamavEngine({ endpoint: cut.endpoint, streamMaxBytes: STREAM_MAX });
      expect(await engine.scan(chunks(text("hello"), 5), { key: "k", size: 5 })).toMatchObject({
        status: "error",
        reason: "internal",
      });
    } finally {
      await cut.close();
    }
  });

  it("times out when the daemon accepts but stays silent", async () => {
    const engine = createClamavEngine({
      endpoint: `tcp://127.0.0.1:${silentPort}`,
      streamMaxBytes: STREAM_MAX,
      idleTimeoutMs: 300,
    });
    const started = Date.now();
    const result = await engine.scan(chunks(text("hello"), 5), { key: "k", size: 5 });
    expect(result).toMatchObject({ status: "error", reason: "timeout" });
    expect(Date.now() - started).toBeLessThan(10_000);
    const error = await engine.ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClamdError);
    expect(error).toMatchObject({ reason: "timeout" });
  });
});
