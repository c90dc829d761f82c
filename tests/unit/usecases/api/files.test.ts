import { describe, expect, it } from "vitest";
import type { FileDeps } from "../../../../core/usecases/api/deps.ts";
import {
  FileBusyError,
  FileChangedError,
  FileDeletedError,
  NoSuchFileError,
  NotDownloadableError,
  NotPreviewableError,
} from "../../../../core/usecases/api/errors.ts";
import { deleteFile, downloadLink, getFile, listFiles } from "../../../../core/usecases/api/files.ts";
import {
  FID,
  fileRecord,
  MemoryApiRecords,
  MemoryDownloads,
  MemoryEraser,
  MemoryStaged,
  NOW,
  OTHER,
  OWNER,
  uploadSession,
} from "./fakes.ts";

function setup() {
  const records = new MemoryApiRecords();
  const downloads = new MemoryDownloads();
  const eraser = new MemoryEraser();
  const staged = new MemoryStaged();
  const deps: FileDeps = {
    files: records,
    sessions: records,
    listing: records,
    deletions: records,
    audit: records,
    downloads,
    eraser,
    texts: staged,
    ocrJobs: staged,
    cleanBucket: "clean",
    downloadExpirySeconds: 60,
    now: () => NOW,
  };
  return { records, downloads, eraser, staged, deps };
}

const other = (n: number) => `${FID.slice(0, 25)}${"tvwxyz"[n]}`;

describe("Use case: listFiles", () => {
  it("lists the owner's files only, as public records, without deleted ones unless asked", async () => {
    const { deps, records } = setup();
    records.files.set(FID, fileRecord());
    records.files.set(other(0), fileRecord({ fileId: other(0), owner: OTHER }));
    records.files.set(other(1), fileRecord({ fileId: other(1), status: "DELETED" }));
    const page = await listFiles(deps, OWNER, { limit: 20 });
    expect(page.files.map((f) => f.fileId)).toEqual([FID]);
    expect(page.last).toBeUndefined();
    const deleted = await listFiles(deps, OWNER, { limit: 20, status: "DELETED" });
    expect(deleted.files).toEqual([expect.objectContaining({ fileId: other(1), status: "DELETED" })]);
  });

  it("pages: the store's last key comes back for the next page", async () => {
    const { deps, records } = setup();
    records.files.set(FID, fileRecord());
    records.files.set(other(2), fileRecord({ fileId: other(2) }));
    const first = await listFiles(deps, OWNER, { limit: 1 });
    expect(first.last).toEqual({ fileId: FID });
    const second = await listFiles(deps, OWNER, { limit: 1, after: first.last });
    expect(second.files.map((f) => f.fileId)).toEqual([other(2)]);
  });
});

describe("Use case: getFile", () => {
  it("shows the owner's file, and a presigned upload that has not landed as AWAITING_UPLOAD", async () => {
    const { deps, records } = setup();
    records.files.set(FID, fileRecord({ status: "VERIFIED" }));
    expect(await getFile(deps, OWNER, FID)).toMatchObject({ fileId: FID, status: "VERIFIED", name: "a.pdf" });
    records.files.clear();
    records.sessions.set(FID, uploadSession());
    expect(await getFile(deps, OWNER, FID)).toEqual({
      fileId: FID,
      name: "big.txt",
      status: "AWAITING_UPLOAD",
      size: 20 * 1024 * 1024,
    });
  });

  it("answers NoSuchFile for another owner's file or upload, and for an id that cannot exist", async () => {
    const { deps, records } = setup();
    records.files.set(FID, fileRecord());
    await expect(getFile(deps, OTHER, FID)).rejects.toBeInstanceOf(NoSuchFileError);
    records.files.clear();
    records.sessions.set(FID, uploadSession());
    await expect(getFile(deps, OTHER, FID)).rejects.toBeInstanceOf(NoSuchFileError);
    await expect(getFile(deps, OWNER, "x".repeat(8000))).rejects.toBeInstanceOf(NoSuchFileError);
  });
});

describe("Use case: downloadLink", () => {
  it("signs the clean copy as an attachment with the detected type, and audits it", async () => {
    const { deps, records, downloads } = setup();
    records.files.set(FID, fileRecord());
    const link = await downloadLink(deps, OWNER, FID, { inline: false });
    expect(link).toEqual({
      url: `https://clean.example/uploads/${FID}/a.pdf?signed=1`,
      expiresAt: new Date(NOW.getTime() + 60_000).toISOString(),
    });
    expect(downloads.signed[0]).toMatchObject({
      disposition: `attachment; filename="a.pdf"; filename*=UTF-8''a.pdf`,
      contentType: "application/pdf",
      expiresIn: 60,
    });
    expect(records.audits.at(-1)?.entry).toMatchObject({ action: "download", detail: { inline: false } });
  });

  it("refuses files that are not VERIFIED, deleted ones, and inline previews of other types", async () => {
    const { deps, records, downloads } = setup();
    records.files.set(FID, fileRecord({ status: "REJECTED", cleanKey: undefined }));
    const refused = await downloadLink(deps, OWNER, FID, { inline: false }).catch((e) => e);
    expect(refused).toBeInstanceOf(NotDownloadableError);
    expect(refused.status).toBe("REJECTED");
    records.files.set(FID, fileRecord({ status: "VERIFIED", cleanKey: undefined }));
    const promoting = await downloadLink(deps, OWNER, FID, { inline: false }).catch((e) => e);
    expect(promoting.status).toBe("PENDING");
    records.files.set(FID, fileRecord({ status: "DELETED" }));
    await expect(downloadLink(deps, OWNER, FID, { inline: false })).rejects.toBeInstanceOf(FileDeletedError);
    records.files.set(FID, fileRecord({ detectedType: { id: "txt", mime: "text/plain", ext: "txt" } }));
    await expect(downloadLink(deps, OWNER, FID, { inline: true })).rejects.toBeInstanceOf(
      NotPreviewableError,
    );
    await expect(downloadLink(deps, OTHER, FID, { inline: false })).rejects.toBeInstanceOf(NoSuchFileError);
    expect(downloads.signed).toEqual([]);
  });
});

describe("Use case: deleteFile", () => {
  it("marks the file deleted, erases every stored copy and its staged text, and audits what went", async () => {
    const { deps, records, eraser, staged } = setup();
    const record = fileRecord();
    records.files.set(FID, record);
    eraser.put("ingest", record.key, ["v1", "v2"]);
    eraser.put("clean", record.key, ["c1"]);
    eraser.put("clean", `text/${FID}.txt`, ["t1"]);
    await deleteFile(deps, OWNER, FID);
    expect(records.files.get(FID)?.status).toBe("DELETED");
    expect(eraser.objects.size).toBe(0);
    expect(staged.discarded).toEqual([FID]);
    expect(staged.removed).toEqual([FID]);
    const audit = records.audits.at(-1)?.entry;
    expect(audit?.action).toBe("delete");
    expect(audit?.detail?.erased).toEqual([
      { bucket: "ingest", key: record.key, versionIds: ["v1", "v2"] },
      { bucket: "clean", key: record.key, versionIds: ["c1"] },
      { bucket: "clean", key: `text/${FID}.txt`, versionIds: ["t1"] },
    ]);
  });

  it("repeats the erasure of a deleted file", async () => {
    const { deps, records } = setup();
    records.files.set(FID, fileRecord({ status: "DELETED" }));
    await deleteFile(deps, OWNER, FID);
    expect(records.audits.at(-1)?.entry.action).toBe("delete:repeat");
  });

  it("refuses a file the pipeline still works on, another owner's, and one that changed meanwhile", async () => {
    const { deps, records, eraser } = setup();
    records.files.set(FID, fileRecord({ status: "PENDING" }));
    eraser.put("ingest", `uploads/${FID}/a.pdf`, ["v1"]);
    await expect(deleteFile(deps, OWNER, FID)).rejects.toBeInstanceOf(FileBusyError);
    records.files.set(FID, fileRecord());
    await expect(deleteFile(deps, OTHER, FID)).rejects.toBeInstanceOf(NoSuchFileError);
    const moved = fileRecord();
    records.files.set(FID, { ...moved, version: { ...moved.version, sequencer: "2" } });
    const stale = { ...deps, files: { get: async () => moved } };
    await expect(deleteFile(stale, OWNER, FID)).rejects.toBeInstanceOf(FileChangedError);
    expect(eraser.objects.size).toBe(1);
    expect(records.audits).toEqual([]);
  });
});
