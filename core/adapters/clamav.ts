/**
 * The ClamAV engine: a client of clamd's documented socket protocol, over TCP (`tcp://host:3310`) or a Unix
 * socket. The object is streamed with `zINSTREAM` in length-prefixed chunks as it is read (never buffered
 * whole), honouring the socket's backpressure, with connect, idle and overall timeouts. `zVERSION` is the
 * signature version recorded with every result; `zPING` is the health check.
 *
 * Fail closed: only the exact reply `stream: OK` is clean. A finding is `ClamAV.<signature name>` (the prefix
 * says which engine spoke, as `Airlock.` does for the built-in one). clamd's own "could not look" heuristics are
 * errors, not findings: `Heuristics.Limits.Exceeded.*` (only reported with `AlertExceedsMax yes`) is
 * limit-exceeded, `Heuristics.Encrypted.*` is encrypted. Objects larger than clamd's `StreamMaxLength` are not
 * sent (limit-exceeded); so is a stream that grows past it. Refused or lost connections are engine-unavailable,
 * silence is a timeout, any other reply is an error.
 *
 * Hand-written rather than taken from npm: `clamscan` streams, but wraps the clamscan/clamdscan programs as
 * well as sockets, has no size limit of its own and resolves or rejects inconsistently when clamd closes the
 * socket at its size limit (kylefarris/clamscan#102); `clamdjs` speaks TCP only, calls any reply containing
 * `OK` and not `FOUND` clean, and never acts on its socket timeout. The protocol is small.
 */
import { connect, type Socket } from "node:net";
import type { ScanContext, ScanEngine } from "../domain/scan/engine.ts";
import type { EngineResult, ErrorReason } from "../domain/types.ts";

export interface ClamavOptions {
  /** `tcp://host:port` (port 3310 when omitted), or the path of clamd's Unix socket (`unix:///path` too). */
  endpoint: string;
  /** clamd's `StreamMaxLength`: larger objects are not sent and come back limit-exceeded. */
  streamMaxBytes: number;
  /** Whole scan, from connecting to the reply. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * Longest silence of the connection while sending (clamd not reading) or awaiting a command's reply. Once a whole stream is sent clamd scans in silence, so only `timeoutMs` applies.
   */
  idleTimeoutMs?: number;
  /** Largest INSTREAM chunk; bigger source chunks are split. */
  chunkBytes?: number;
  /** How long a `zVERSION` answer is reused. The recorded version is never newer than the one scanning. */
  versionTtlMs?: number;
}

export interface ClamavEngine extends ScanEngine {
  /** Resolves when clamd answers `zPING` with PONG; rejects with a ClamdError otherwise. */
  ping(): Promise<void>;
  /** clamd's `zVERSION` answer, e.g. `ClamAV 1.4.6/27462/Sun Nov 22 08:21:07 2026`. */
  version(): Promise<string>;
}

export const CLAMAV_DEFAULTS = {
  /** clamd's own default `StreamMaxLength` (100M). */
  streamMaxBytes: 100 * 1024 * 1024,
  timeoutMs: 60_000,
  connectTimeoutMs: 3_000,
  idleTimeoutMs: 15_000,
  chunkBytes: 64 * 1024,
  versionTtlMs: 60_000,
} as const;

/** Why clamd could not give an answer, as an engine error reason. */
export class ClamdError extends Error {
  constructor(
    readonly reason: ErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ClamdError";
  }
}

type Target = { host: string; port: number } | { path: string };

/** Parses `tcp://host:port`, `unix:///path` or an absolute socket path; throws on anything else. */
export function parseClamdEndpoint(endpoint: string): Target {
  if (endpoint.startsWith("/")) return { path: endpoint };
  if (endpoint.startsWith("unix://")) {
    const path = endpoint.slice("unix://".length);
    if (path.startsWith("/")) return { path };
  }
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/]+)(?::(\d{1,5}))?\/?$/.exec(endpoint);
  if (tcp?.[1]) {
    const port = tcp[2] ? Number(tcp[2]) : 3310;
    if (port > 0 && port < 65536) return { host: tcp[1].replace(/^\[|\]$/g, ""), port };
  }
  throw new Error(
    `clamd endpoint ${JSON.stringify(endpoint)} is neither tcp://host:port nor an absolute Unix socket path`,
  );
}

/** Maps clamd's INSTREAM reply to a result; only `stream: OK` is clean. */
export function parseInstreamReply(engine: string, reply: string, signatureVersion?: string): EngineResult {
  const text = reply.replace(/\0/g, "").trim();
  const error = (reason: ErrorReason, detail: string): EngineResult => ({
    engine,
    status: "error",
    reason,
    detail,
  });
  if (text === "stream: OK") return { engine, status: "clean", signatureVersion };
  const found = /^stream: (.+) FOUND$/.exec(text);
  if (found?.[1]) {
    // With ExtendedDetectionInfo clamd appends `(md5:size)` to the name.
    const name = found[1].replace(/\([0-9a-f]*:\d+\)$/i, "").trim();
    if (name.startsWith("Heuristics.Limits.Exceeded"))
      return error("limit-exceeded", `clamd could not scan everything: ${name}`);
    if (name.startsWith("Heuristics.Encrypted")) return error("encrypted", `clamd: ${name}`);
    if (name === "" || name === "(null)") return error("internal", `clamd reported an unnamed finding`);
    return { engine, status: "infected", findings: [{ name: `ClamAV.${name}`, path: "" }], signatureVersion };
  }
  if (/size limit exceeded/i.test(text))
    return error("limit-exceeded", `the object is larger than clamd's StreamMaxLength (${text})`);
  if (text.endsWith("ERROR")) return error("internal", `clamd: ${text}`);
  return error("internal", `unexpected clamd reply ${JSON.stringify(text.slice(0, 200))}`);
}

interface Timeouts {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  timeoutMs: number;
}

const UNAVAILABLE = new Set([
  "ECONNREFUSED",
  "ENOENT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ENOTFOUND",
]);
const CLOSED = new Set(["EPIPE", "ECONNRESET", "ECONNABORTED"]);
/** clamd's replies are one short line; anything longer is not clamd. */
const MAX_REPLY_BYTES = 4096;

/**
 * One clamd conversation: connects, lets `send` write the command (a write waits for `drain` when the
 * socket's buffer is full), and resolves with the NUL-terminated reply. A reply that arrives while still
 * sending (the size limit) stops the sender and wins over the broken pipe that follows it.
 */
function converse(
  target: Target,
  timeouts: Timeouts,
  send: (io: { write(bytes: Uint8Array): Promise<void>; replied(): boolean; sent(): void }) => Promise<void>,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket: Socket =
      "path" in target ? connect({ path: target.path }) : connect({ ...target, noDelay: true });
    const received: Buffer[] = [];
    let reply: string | undefined;
    let settled = false;
    const waiters = new Set<() => void>();

    const finish = (error?: ClamdError) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(overallTimer);
      for (const wake of waiters) wake();
      waiters.clear();
      socket.destroy();
      if (reply !== undefined) resolve(reply);
      else
        reject(error ?? new ClamdError("engine-unavailable", "clamd closed the connection without a reply"));
    };

    const connectTimer = setTimeout(
      () =>
        finish(new ClamdError("timeout", `no connection to clamd within ${timeouts.connectTimeoutMs} ms`)),
      timeouts.connectTimeoutMs,
    );
    const overallTimer = setTimeout(
      () => finish(new ClamdError("timeout", `clamd did not answer within ${timeouts.timeoutMs} ms`)),
      timeouts.timeoutMs,
    );

    socket.on("data", (data: Buffer) => {
      received.push(data);
      const all = Buffer.concat(received);
      const end = all.indexOf(0);
      if (end >= 0) {
        reply = all.subarray(0, end).toString("utf8");
        finish();
      } else if (all.length > MAX_REPLY_BYTES) {
        finish(new ClamdError("internal", `clamd sent more than ${MAX_REPLY_BYTES} bytes without a reply`));
      }
    });
    socket.on("end", () => {
      if (settled) return;
      // Without the z-terminator a reply is incomplete; parse what came, which is never "stream: OK\0"-clean.
      if (received.length > 0) reply = `${Buffer.concat(received).toString("utf8")} (unterminated)`;
      finish();
    });
    socket.on("close", () => finish());
    socket.on("drain", () => {
      for (const wake of waiters) wake();
      waiters.clear();
    });
    socket.on("timeout", () =>
      finish(new ClamdError("timeout", `clamd was silent for ${timeouts.idleTimeoutMs} ms`)),
    );
    socket.on("error", (error: NodeJS.ErrnoException) => {
      const code = error.code ?? "";
      if (UNAVAILABLE.has(code))
        return finish(
          new ClamdError("engine-unavailable", `clamd is unreachable (${code})`, { cause: error }),
        );
      if (CLOSED.has(code))
        return finish(
          new ClamdError(
            "engine-unavailable",
            `clamd closed the connection before replying (${code}); is its StreamMaxLength below the configured limit?`,
            { cause: error },
          ),
        );
      finish(new ClamdError("internal", `clamd connection failed: ${error.message}`, { cause: error }));
    });

    socket.once("connect", () => {
      clearTimeout(connectTimer);
      socket.setTimeout(timeouts.idleTimeoutMs);
      const io = {
        replied: () => settled,
        sent: () => {
          if (!settled) socket.setTimeout(0);
        },
        write: (bytes: Uint8Array) => {
          if (settled) return Promise.resolve();
          if (socket.write(bytes)) return Promise.resolve();
          return new Promise<void>((ok) => waiters.add(ok));
        },
      };
      send(io).then(
        () => undefined,
        (error: unknown) =>
          finish(
            error instanceof ClamdError
              ? error
              : new ClamdError("internal", `reading the object failed: ${String(error)}`, { cause: error }),
          ),
      );
    });
  });
}

const command = (name: string) => Buffer.from(`z${name}\0`, "latin1");

function lengthPrefix(length: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length, 0);
  return header;
}

export function createClamavEngine(options: ClamavOptions): ClamavEngine {
  const target = parseClamdEndpoint(options.endpoint);
  const settings = { ...CLAMAV_DEFAULTS, ...options };
  if (!Number.isInteger(settings.streamMaxBytes) || settings.streamMaxBytes <= 0)
    throw new Error("clamd streamMaxBytes must be a positive integer");
  const name = "clamav";
  let cachedVersion: { value: string; at: number } | undefined;

  const ask = async (cmd: string) =>
    (
      await converse(target, settings, async (io) => {
        await io.write(command(cmd));
      })
    ).trim();

  const version = async () => {
    if (cachedVersion && Date.now() - cachedVersion.at < settings.versionTtlMs) return cachedVersion.value;
    const at = Date.now();
    const value = await ask("VERSION");
    if (!value.startsWith("ClamAV ")) throw new ClamdError("internal", `unexpected VERSION reply ${value}`);
    cachedVersion = { value, at };
    return value;
  };

  const instream = (source: AsyncIterable<Uint8Array>) =>
    converse(target, settings, async (io) => {
      await io.write(command("INSTREAM"));
      let sent = 0;
      for await (const chunk of source) {
        for (let offset = 0; offset < chunk.byteLength; offset += settings.chunkBytes) {
          if (io.replied()) return;
          const piece = chunk.subarray(offset, offset + settings.chunkBytes);
          sent += piece.byteLength;
          if (sent > settings.streamMaxBytes)
            throw new ClamdError(
              "limit-exceeded",
              `the stream grew past clamd's StreamMaxLength (${settings.streamMaxBytes} bytes)`,
            );
          await io.write(lengthPrefix(piece.byteLength));
          await io.write(piece);
        }
      }
      await io.write(lengthPrefix(0));
      io.sent();
    });

  return {
    name,
    version,
    async ping() {
      const reply = await ask("PING");
      if (reply !== "PONG") throw new ClamdError("internal", `clamd answered PING with ${reply}`);
    },
    async scan(source: AsyncIterable<Uint8Array>, ctx: ScanContext): Promise<EngineResult> {
      if (ctx.size > settings.streamMaxBytes)
        return {
          engine: name,
          status: "error",
          reason: "limit-exceeded",
          detail: `${ctx.size} bytes is more than clamd's StreamMaxLength (${settings.streamMaxBytes} bytes)`,
        };
      try {
        const signatureVersion = await version();
        return parseInstreamReply(name, await instream(source), signatureVersion);
      } catch (error) {
        if (error instanceof ClamdError)
          return { engine: name, status: "error", reason: error.reason, detail: error.message };
        return { engine: name, status: "error", reason: "internal", detail: String(error) };
      }
    },
  };
}
