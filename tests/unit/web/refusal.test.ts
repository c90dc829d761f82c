import { describe, expect, it } from "vitest";
import { ApiError, type UploadPolicy } from "../../../web/src/api.ts";
import { precheck, refusalWords } from "../../../web/src/refusal.ts";

const policy: UploadPolicy = {
  maxSizeBytes: 100 * 1024 * 1024,
  multipartThresholdBytes: 64 * 1024 * 1024,
  types: [
    { id: "pdf", contentType: "application/pdf", extensions: ["pdf"] },
    { id: "txt", contentType: "text/plain", extensions: ["txt", "log", "md"] },
  ],
  description: "PDF and text (plain text), up to 100 MiB each",
};
const ACCEPTED = "Accepted: PDF and text (plain text), up to 100 MiB each.";

describe("Function: precheck", () => {
  it("says before sending anything that a type is not accepted, and what is", () => {
    expect(precheck({ name: "tool.exe", size: 10 }, policy)).toBe(
      `Not uploaded: this type of file (.exe) is not accepted. ${ACCEPTED}`,
    );
    expect(precheck({ name: "README", size: 10 }, policy)).toBe(
      `Not uploaded: the file has no extension, so its type cannot be told. ${ACCEPTED}`,
    );
  });

  it("says a file is too big, or empty", () => {
    expect(precheck({ name: "huge.pdf", size: 150 * 1024 * 1024 }, policy)).toBe(
      "Not uploaded: the file is 150.0 MiB; files can be up to 100 MiB.",
    );
    expect(precheck({ name: "empty.txt", size: 0 }, policy)).toBe("Not uploaded: the file is empty.");
  });

  it("lets through what may be accepted (the server still judges), also without a policy", () => {
    expect(precheck({ name: "Report.PDF", size: 10 }, policy)).toBeUndefined();
    expect(precheck({ name: "notes.log", size: 10 }, policy)).toBeUndefined();
    expect(precheck({ name: "tool.exe", size: 10 })).toBeUndefined();
  });
});

describe("Function: refusalWords", () => {
  const file = { name: "tool.exe", size: 2048 };

  it("says the server's type and size refusals in the same words", () => {
    expect(
      refusalWords(
        new ApiError(415, "Files of type application/x-msdownload are not accepted"),
        file,
        policy,
      ),
    ).toBe(`Not uploaded: this type of file (.exe) is not accepted. ${ACCEPTED}`);
    expect(refusalWords(new ApiError(413, "The file is 2048 bytes; the limit is 1024 bytes"), file)).toBe(
      "Not uploaded: the file is 2.0 KiB, above the size limit.",
    );
  });

  it("says a refused name with the catalogue's words and its code", () => {
    const error = new ApiError(
      422,
      "Invalid request: filename contains a colon, which Windows reads as an alternate data stream",
      "name-colon",
    );
    expect(refusalWords(error, { name: "a:b.txt", size: 1 }, policy)).toBe(
      "Not uploaded: The file name contains a colon, which Windows reads as a hidden alternate data stream (name-colon).",
    );
    const mismatch = new ApiError(
      422,
      "Invalid request: filename extension .pdf does not match text/plain (such as .txt)",
      "name-extension-mismatch",
    );
    expect(refusalWords(mismatch, { name: "a.pdf", size: 1 }, policy)).toBe(
      "Not uploaded: the file name has the extension .pdf, which does not match text/plain (such as .txt).",
    );
  });

  it("keeps any other refusal word for word", () => {
    expect(refusalWords(new ApiError(409, "This upload was aborted; start a new upload"), file, policy)).toBe(
      "Refused by the server: This upload was aborted; start a new upload",
    );
  });
});
