import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import {
  MissingUploadIdError,
  S3DownloadSigner,
  S3UploadStorage,
} from "../../../core/adapters/s3-uploads.ts";
import {
  InvalidPartError,
  InvalidPartOrderError,
  PartTooSmallError,
  UploadNotOpenError,
} from "../../../core/usecases/api/errors.ts";

const s3mock = mockClient(S3Client);
afterEach(() => s3mock.reset());

const s3 = new S3Client({ region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
const storage = new S3UploadStorage(s3, "ingest");
const s3Error = (name: string, status = 400) =>
  new S3ServiceException({
    name,
    $fault: "client",
    $metadata: { httpStatusCode: status },
    message: `${name} said`,
  });
const parts = [{ partNumber: 1, etag: '"e1"' }];

describe("Adapter: S3 upload storage", () => {
  it.each([
    ["NoSuchUpload", UploadNotOpenError],
    ["InvalidPart", InvalidPartError],
    ["InvalidPartOrder", InvalidPartOrderError],
    ["EntityTooSmall", PartTooSmallError],
  ])("maps S3 %s on completion to its named error, keeping the S3 error as cause", async (name, type) => {
    const refused = s3Error(name, name === "NoSuchUpload" ? 404 : 400);
    s3mock.on(CompleteMultipartUploadCommand).rejects(refused);
    const error = await storage.completeMultipart("uploads/k/a.pdf", "mpu", parts).catch((e) => e);
    expect(error).toBeInstanceOf(type);
    expect(error.cause).toBe(refused);
  });

  it("maps NoSuchUpload on abort and on listing parts", async () => {
    s3mock.on(AbortMultipartUploadCommand).rejects(s3Error("NoSuchUpload", 404));
    s3mock.on(ListPartsCommand).rejects(s3Error("NoSuchUpload", 404));
    await expect(storage.abortMultipart("k", "mpu")).rejects.toBeInstanceOf(UploadNotOpenError);
    await expect(storage.listParts("k", "mpu")).rejects.toBeInstanceOf(UploadNotOpenError);
  });

  it("lets any other S3 error escape as it is (an operational failure, not the client's)", async () => {
    const denied = s3Error("AccessDenied", 403);
    s3mock.on(CompleteMultipartUploadCommand).rejects(denied);
    await expect(storage.completeMultipart("k", "mpu", parts)).rejects.toBe(denied);
  });

  it("reads every page of parts and stops on a marker that does not move", async () => {
    s3mock
      .on(ListPartsCommand, { PartNumberMarker: undefined })
      .resolves({
        Parts: [{ PartNumber: 1, ETag: '"e1"', Size: 5 }],
        IsTruncated: true,
        NextPartNumberMarker: "1",
      })
      .on(ListPartsCommand, { PartNumberMarker: "1" })
      .resolves({
        Parts: [{ PartNumber: 2, ETag: '"e2"', Size: 6 }],
        IsTruncated: true,
        NextPartNumberMarker: "1",
      });
    const stored = await storage.listParts("k", "mpu");
    expect([...stored]).toEqual([
      [1, { etag: '"e1"', size: 5 }],
      [2, { etag: '"e2"', size: 6 }],
    ]);
    expect(s3mock.commandCalls(ListPartsCommand)).toHaveLength(2);
  });

  it("starts a multipart upload with owner and upload id metadata, and refuses an answer without an id", async () => {
    s3mock.on(CreateMultipartUploadCommand).resolvesOnce({ UploadId: "mpu-1" }).resolvesOnce({});
    const target = { key: "uploads/k/a.pdf", contentType: "application/pdf", owner: "user:x", fileId: "k" };
    expect(await storage.createMultipart(target)).toBe("mpu-1");
    expect(s3mock.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input).toMatchObject({
      Bucket: "ingest",
      Metadata: { owner: "user:x", "upload-id": "k" },
    });
    await expect(storage.createMultipart(target)).rejects.toBeInstanceOf(MissingUploadIdError);
  });

  it("signs a POST form pinned to size, type, owner and upload id", async () => {
    const target = { key: "uploads/k/a.pdf", contentType: "application/pdf", owner: "user:x", fileId: "k" };
    const post = await storage.signPost(target, 10, 300);
    const policy = JSON.parse(Buffer.from(post.fields.Policy ?? "", "base64").toString("utf8"));
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ["content-length-range", 10, 10],
        ["eq", "$Content-Type", "application/pdf"],
        ["eq", "$x-amz-meta-owner", "user:x"],
        ["eq", "$x-amz-meta-upload-id", "k"],
      ]),
    );
  });

  it("signs a part URL with Content-Length a signed header, and a download with its disposition", async () => {
    const url = new URL(await storage.signPart("k", "mpu", { partNumber: 2, size: 9 }, 60));
    expect(url.searchParams.get("X-Amz-SignedHeaders")?.split(";")).toContain("content-length");
    expect(url.searchParams.get("partNumber")).toBe("2");
    const download = new URL(
      await new S3DownloadSigner(s3, "clean").signDownload(
        "k",
        { disposition: "attachment", contentType: "application/pdf" },
        60,
      ),
    );
    expect(download.searchParams.get("response-content-disposition")).toBe("attachment");
  });
});
