import { describe, expect, it, vi } from "vitest";
import type { UploadDeps } from "../../../../core/usecases/api/deps.ts";
import {
  ExtensionMismatchError,
  FileTooLargeError,
  InvalidFileNameError,
  InvalidPartError,
  NoSuchUploadError,
  NotMultipartError,
  PartsMismatchError,
  UnsupportedTypeError,
  UploadClosedError,
  UploadExpiredError,
  UploadNotOpenError,
} from "../../../../core/usecases/api/errors.ts";
import {
  abortUpload,
  completeUpload,
  listParts,
  requestUpload,
  uploadPolicy,
} from "../../../../core/usecases/api/uploads.ts";
import {
  FID,
  fileRecord,
  MemoryApiRecords,
  MemoryUploadStorage,
  NOW,
  NOW_SECONDS,
  OTHER,
  OWNER,
  uploadSession,
} from "./fakes.ts";

const MiB = 1024 * 1024;

function setup() {
  const records = new MemoryApiRecords();
  const storage = new MemoryUploadStorage();
  const logger = { warn: vi.fn() };
  const deps: UploadDeps = {
    sessions: records,
    files: records,
    audit: records,
    storage,
    settings: {
      maxSizeBytes: 100 * MiB,
      allowedTypes: ["pdf", "png", "txt"],
      uploadExpirySeconds: 300,
      multipartThresholdBytes: 10 * MiB,
    },
    now: () => NOW,
    newFileId: () => FID,
    logger,
  };
  return { records, storage, logger, deps };
}

const pdf = { filename: "report.pdf", contentType: "application/pdf", size: 1000 };
/** The plan of a 20 MiB upload: parts of 8, 8 and 4 MiB. */
const threeParts = [
  { partNumber: 1, etag: '"e1"' },
  { partNumber: 2, etag: '"e2"' },
  { partNumber: 3, etag: '"e3"' },
];

describe("Use case: uploadPolicy", () => {
  it("lists the allowed types with their content types and extensions, and says it in words", () => {
    const { deps } = setup();
    const policy = uploadPolicy(deps.settings);
    expect(policy.maxSizeBytes).toBe(100 * MiB);
    expect(policy.types.map((t) => t.id)).toEqual(["pdf", "png", "txt"]);
    expect(policy.types[0]).toMatchObject({ contentType: "application/pdf", extensions: ["pdf"] });
    expect(policy.description).toMatch(/100 MiB/);
  });

  it("leaves out an allowed type it has no content type for", () => {
    const { deps } = setup();
    const policy = uploadPolicy({ ...deps.settings, allowedTypes: ["pdf", "nosuchtype"] });
    expect(policy.types.map((t) => t.id)).toEqual(["pdf"]);
  });
});

describe("Use case: requestUpload", () => {
  it("signs a POST form under uploads/<id>/<name> and opens the session with an audit entry", async () => {
    const { deps, records } = setup();
    const plan = await requestUpload(deps, OWNER, pdf);
    expect(plan).toMatchObject({ fileId: FID, key: `uploads/${FID}/report.pdf`, upload: { method: "POST" } });
    expect(plan.expiresAt).toBe(new Date((NOW_SECONDS + 300) * 1000).toISOString());
    expect(records.sessions.get(FID)).toMatchObject({
      owner: OWNER,
      size: 1000,
      contentType: "application/pdf",
    });
    expect(records.audits).toEqual([
      expect.objectContaining({
        fileId: FID,
        entry: expect.objectContaining({ action: "presign", actor: OWNER }),
      }),
    ]);
  });

  it("plans a multipart upload above the threshold, one URL per part signed for its length", async () => {
    const { deps, storage, records } = setup();
    const plan = await requestUpload(deps, OWNER, { ...pdf, size: 20 * MiB });
    if (plan.upload.method !== "MULTIPART") throw new Error("expected a multipart plan");
    expect(plan.upload.parts.map((p) => p.size)).toEqual([8 * MiB, 8 * MiB, 4 * MiB]);
    expect(storage.signed.map((s) => s.size)).toEqual([8 * MiB, 8 * MiB, 4 * MiB]);
    expect(records.sessions.get(FID)?.multipartUploadId).toBe(plan.upload.uploadId);
  });

  it.each([
    ["too large", { ...pdf, size: 101 * MiB }, FileTooLargeError],
    ["a type not allowed", { ...pdf, contentType: "application/x-msdownload" }, UnsupportedTypeError],
    ["a name with a path", { ...pdf, filename: "a:b.pdf" }, InvalidFileNameError],
    ["a name whose extension is another type's", { ...pdf, filename: "report.png" }, ExtensionMismatchError],
  ])("refuses %s and opens no session", async (_what, request, type) => {
    const { deps, records } = setup();
    await expect(requestUpload(deps, OWNER, request)).rejects.toBeInstanceOf(type);
    expect(records.sessions.size).toBe(0);
    expect(records.audits).toEqual([]);
  });
});

describe("Use case: listParts", () => {
  it("reports the parts held at their planned length and signs only the missing ones", async () => {
    const { deps, records, storage } = setup();
    records.sessions.set(FID, uploadSession());
    storage.uploads.set("mpu-1", {
      key: uploadSession().key,
      state: "open",
      parts: new Map([
        [1, { etag: '"e1"', size: 8 * MiB }],
        [2, { etag: '"e2"', size: 5 }], // not the planned length: sent again
      ]),
    });
    const plan = await listParts(deps, OWNER, FID);
    expect(plan.upload.uploaded).toEqual([{ partNumber: 1, size: 8 * MiB, etag: '"e1"' }]);
    expect(plan.upload.parts.map((p) => p.partNumber)).toEqual([2, 3]);
  });

  it("answers NoSuchUpload for another owner's upload and for an id that cannot exist", async () => {
    const { deps, records } = setup();
    records.sessions.set(FID, uploadSession());
    await expect(listParts(deps, OTHER, FID)).rejects.toBeInstanceOf(NoSuchUploadError);
    await expect(listParts(deps, OWNER, "../x")).rejects.toBeInstanceOf(NoSuchUploadError);
  });

  it("refuses an expired upload and a POST-form upload", async () => {
    const { deps, records } = setup();
    records.sessions.set(FID, uploadSession({ expiresAt: NOW_SECONDS }));
    await expect(listParts(deps, OWNER, FID)).rejects.toBeInstanceOf(UploadExpiredError);
    records.sessions.set(FID, uploadSession({ multipartUploadId: undefined }));
    await expect(listParts(deps, OWNER, FID)).rejects.toBeInstanceOf(NotMultipartError);
  });
});

describe("Use case: completeUpload", () => {
  it("closes the session once, completes the parts in order and audits the upload", async () => {
    const { deps, records, storage } = setup();
    records.sessions.set(FID, uploadSession());
    const out = await completeUpload(deps, OWNER, FID, () => ({ parts: [...threeParts].reverse() }));
    expect(out).toEqual({ fileId: FID, status: "PENDING" });
    expect(storage.completed?.parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
    expect(records.closed.get(FID)).toBe("completed");
    expect(records.audits.at(-1)?.entry).toMatchObject({ action: "upload", detail: { parts: 3 } });
  });

  it("refuses a parts list that does not cover the plan, before closing anything", async () => {
    const { deps, records } = setup();
    records.sessions.set(FID, uploadSession());
    await expect(
      completeUpload(deps, OWNER, FID, () => ({ parts: threeParts.slice(0, 2) })),
    ).rejects.toBeInstanceOf(PartsMismatchError);
    expect(records.closed.size).toBe(0);
  });

  it("refuses a second completion without asking the storage service again", async () => {
    const { deps, records, storage } = setup();
    records.sessions.set(FID, uploadSession());
    records.closed.set(FID, "completed");
    const done = completeUpload(deps, OWNER, FID, () => ({ parts: threeParts }));
    await expect(done).rejects.toBeInstanceOf(UploadClosedError);
    expect(storage.completed).toBeUndefined();
  });

  it("re-opens the session and logs when the storage service refuses a part", async () => {
    const { deps, records, storage, logger } = setup();
    records.sessions.set(FID, uploadSession());
    const s3 = Object.assign(new Error("bad part"), { name: "InvalidPart" });
    storage.refuse = new InvalidPartError({ cause: s3 });
    await expect(completeUpload(deps, OWNER, FID, () => ({ parts: threeParts }))).rejects.toBeInstanceOf(
      InvalidPartError,
    );
    expect(records.closed.has(FID)).toBe(false);
    expect(logger.warn).toHaveBeenCalledWith(
      "Multipart request refused by S3",
      expect.objectContaining({ fileId: FID, action: "complete", s3Error: "InvalidPart" }),
    );
  });

  it("tells an upload the storage service no longer knows apart by whether its file landed", async () => {
    const { deps, records, storage } = setup();
    records.sessions.set(FID, uploadSession());
    storage.refuse = new UploadNotOpenError({ cause: new Error("NoSuchUpload") });
    const gone = await completeUpload(deps, OWNER, FID, () => ({ parts: threeParts })).catch((e) => e);
    expect(gone).toBeInstanceOf(UploadNotOpenError);
    expect(gone.landed).toBe(false);
    records.files.set(FID, fileRecord({ status: "PENDING" }));
    storage.refuse = new UploadNotOpenError({ cause: new Error("NoSuchUpload") });
    const landed = await completeUpload(deps, OWNER, FID, () => ({ parts: threeParts })).catch((e) => e);
    expect(landed.landed).toBe(true);
  });

  it("does not read the body of an upload that is not the caller's", async () => {
    const { deps, records } = setup();
    records.sessions.set(FID, uploadSession());
    const body = vi.fn(() => ({ parts: threeParts }));
    await expect(completeUpload(deps, OTHER, FID, body)).rejects.toBeInstanceOf(NoSuchUploadError);
    expect(body).not.toHaveBeenCalled();
  });

  it("refuses an upload past its session and the grace minute", async () => {
    const { deps, records } = setup();
    records.sessions.set(FID, uploadSession({ expiresAt: NOW_SECONDS - 61 }));
    await expect(completeUpload(deps, OWNER, FID, () => ({ parts: threeParts }))).rejects.toBeInstanceOf(
      UploadExpiredError,
    );
  });
});

describe("Use case: abortUpload", () => {
  it("aborts once and takes a second abort as done", async () => {
    const { deps, records, storage } = setup();
    records.sessions.set(FID, uploadSession());
    storage.uploads.set("mpu-1", { key: uploadSession().key, parts: new Map(), state: "open" });
    await abortUpload(deps, OWNER, FID);
    await abortUpload(deps, OWNER, FID);
    expect(storage.uploads.get("mpu-1")?.state).toBe("aborted");
    expect(records.audits.filter((a) => a.entry.action === "abort")).toHaveLength(1);
  });

  it("refuses to abort a completed upload", async () => {
    const { deps, records } = setup();
    records.sessions.set(FID, uploadSession());
    records.closed.set(FID, "completed");
    const error = await abortUpload(deps, OWNER, FID).catch((e) => e);
    expect(error).toBeInstanceOf(UploadClosedError);
    expect(error.message).toMatch(/delete the file instead/);
  });

  it("re-opens the session when the storage service no longer knows the upload", async () => {
    const { deps, records, storage } = setup();
    records.sessions.set(FID, uploadSession());
    storage.refuse = new UploadNotOpenError({ cause: new Error("NoSuchUpload") });
    await expect(abortUpload(deps, OWNER, FID)).rejects.toBeInstanceOf(UploadNotOpenError);
    expect(records.closed.has(FID)).toBe(false);
  });
});
