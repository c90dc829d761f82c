import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createClamavEngine, parseClamdEndpoint, parseInstreamReply } from "../../../core/adapters/clamav.ts";

describe("Function: parseInstreamReply", () => {
  it.each<[string, object]>([
    ["stream: OK", { status: "clean", signatureVersion: "v1" }],
    ["stream: OK\n", { status: "clean" }],
    [
      "stream: Win.Test.EICAR_HDB-1 FOUND",
      {
        status: "infected",
        findings: [{ name: "ClamAV.Win.Test.EICAR_HDB-1", path: "" }],
        signatureVersion: "v1",
      },
    ],
    [
      "stream: Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68) FOUND",
      { status: "infected", findings: [{ name: "ClamAV.Win.Test.EICAR_HDB-1", path: "" }] },
    ],
    ["stream: Heuristics.Limits.Exceeded.MaxScanSize FOUND", { status: "error", reason: "limit-exceeded" }],
    ["stream: Heuristics.Encrypted.Zip FOUND", { status: "error", reason: "encrypted" }],
    ["stream: (null) FOUND", { status: "error", reason: "internal" }],
    ["INSTREAM size limit exceeded. ERROR", { status: "error", reason: "limit-exceeded" }],
    ["stream: Can't allocate memory ERROR", { status: "error", reason: "internal" }],
    ["UNKNOWN COMMAND", { status: "error", reason: "internal" }],
    ["", { status: "error", reason: "internal" }],
    ["stream: OK (unterminated)", { status: "error", reason: "internal" }],
  ])("maps %j", (reply, expected) => {
    expect(parseInstreamReply("clamav", reply, "v1")).toMatchObject({ engine: "clamav", ...expected });
  });

  it("is clean for nothing but the exact OK reply", () => {
    fc.assert(
      fc.property(fc.string(), (reply) => {
        const result = parseInstreamReply("clamav", reply);
        expect(result.status === "clean").toBe(reply.replace(/\0/g, "").trim() === "stream: OK");
      }),
    );
  });
});

describe("Function: parseClamdEndpoint", () => {
  it.each<[string, object]>([
    ["tcp://127.0.0.1:3310", { host: "127.0.0.1", port: 3310 }],
    ["tcp://clamd.internal", { host: "clamd.internal", port: 3310 }],
    ["tcp://[::1]:3311", { host: "::1", port: 3311 }],
    ["/run/clamav/clamd.ctl", { path: "/run/clamav/clamd.ctl" }],
    ["unix:///run/clamav/clamd.ctl", { path: "/run/clamav/clamd.ctl" }],
  ])("reads %s", (endpoint, expected) => {
    expect(parseClamdEndpoint(endpoint)).toEqual(expected);
  });

  it.each(["clamd:3310", "http://clamd:3310", "tcp://host:99999", "relative/clamd.sock", ""])(
    "rejects %j with a clear message",
    (endpoint) => {
      expect(() => parseClamdEndpoint(endpoint)).toThrow(
        /neither tcp:\/\/host:port nor an absolute Unix socket/,
      );
    },
  );

  it("is checked when the engine is created", () => {
    expect(() => createClamavEngine({ endpoint: "clamd", streamMaxBytes: 1 })).toThrow(/clamd endpoint/);
    expect(() => createClamavEngine({ endpoint: "tcp://h:1", streamMaxBytes: 0 })).toThrow(/streamMaxBytes/);
  });
});
