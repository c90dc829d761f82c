import { describe, expect, it } from "vitest";
import type { UploadSession } from "../../../core/domain/types.ts";
import { keyLayoutProblems, uploadSessionProblems } from "../../../core/domain/upload-session.ts";

const id = "06h3691z9rnj8021wjsnprcy4a";
const session: UploadSession = {
  fileId: id,
  owner: "alice",
  key: `uploads/${id}/a.pdf`,
  filename: "a.pdf",
  contentType: "application/pdf",
  size: 100,
  expiresAt: Date.parse("2026-11-22T10:05:00Z") / 1000,
  createdAt: "2026-11-22T10:00:00Z",
};
const landed = {
  key: `uploads/${id}/a.pdf`,
  size: 100,
  contentType: "application/pdf",
  metadata: { owner: "alice", "upload-id": id },
  landedAt: new Date("2026-11-22T10:01:00Z"),
};

describe("Function: uploadSessionProblems", () => {
  it("accepts an object that landed as presigned", () => {
    expect(uploadSessionProblems(session, landed)).toEqual([]);
  });

  it.each([
    ["no session", undefined, {}, /no upload session/],
    ["a bigger object", session, { size: 101 }, /size 101 differs from the presigned size 100/],
    ["another type", session, { contentType: "text/html" }, /Content-Type text\/html differs/],
    ["another owner", session, { metadata: { owner: "mallory", "upload-id": id } }, /owner metadata differs/],
    [
      "a form without the owner field",
      session,
      { metadata: { "upload-id": id } },
      /owner metadata .* missing/,
    ],
    ["a form without the upload-id field", session, { metadata: { owner: "alice" } }, /upload-id .* missing/],
    [
      "another upload's form",
      session,
      { metadata: { owner: "alice", "upload-id": "06h3692221f03agyvzgj5v7a0a" } },
      /upload-id metadata differs/,
    ],
    ["another key", session, { key: `uploads/${id}/b.pdf` }, /key differs/],
    ["a late upload", session, { landedAt: new Date("2026-11-22T10:07:00Z") }, /expired/],
  ])("rejects %s", (_what, s, change, problem) => {
    expect(uploadSessionProblems(s, { ...landed, ...change }).join("; ")).toMatch(problem);
  });
});

describe("Function: keyLayoutProblems", () => {
  it("accepts upload keys and system drops", () => {
    expect(keyLayoutProblems("ingest", `uploads/${id}/a.pdf`, {})).toEqual([]);
    expect(keyLayoutProblems("ingest", "drops/billing/q3/report.pdf", {})).toEqual([]);
  });

  it.each([
    ["a nested upload key", `uploads/${id}/sub/x.pdf`, {}, /exactly uploads\/<id>\/<name>/],
    ["an upload key with a bad id", "uploads/NOT-AN-ID/x.pdf", {}, /exactly uploads\/<id>\/<name>/],
    ["a key outside both layouts", "elsewhere/x.pdf", {}, /outside the uploads/],
    ["a drop with no system", "drops/x.pdf", {}, /outside the uploads/],
    [
      "an upload form aimed at a drop prefix",
      "drops/billing/x.pdf",
      { owner: "alice", "upload-id": id },
      /metadata of upload .* outside its presigned key/,
    ],
  ])("rejects %s", (_what, key, metadata, problem) => {
    expect(keyLayoutProblems("ingest", key, metadata).join("; ")).toMatch(problem);
  });
});
