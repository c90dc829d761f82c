import { describe, expect, it } from "vitest";
import type { UploadSession } from "../../../shared/domain/types.ts";
import { uploadSessionProblems } from "../../../shared/domain/upload-session.ts";

const session: UploadSession = {
  fileId: "f",
  owner: "alice",
  key: "uploads/f/a.pdf",
  filename: "a.pdf",
  contentType: "application/pdf",
  size: 100,
  expiresAt: Date.parse("2026-11-22T10:05:00Z") / 1000,
  createdAt: "2026-11-22T10:00:00Z",
};
const landed = {
  key: "uploads/f/a.pdf",
  size: 100,
  contentType: "application/pdf",
  owner: "alice",
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
    ["another owner", session, { owner: "mallory" }, /owner metadata differs/],
    ["another key", session, { key: "uploads/f/b.pdf" }, /key differs/],
    ["a late upload", session, { landedAt: new Date("2026-11-22T10:07:00Z") }, /expired/],
  ])("rejects %s", (_what, s, change, problem) => {
    expect(uploadSessionProblems(s, { ...landed, ...change }).join("; ")).toMatch(problem);
  });
});
