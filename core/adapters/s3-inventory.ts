/** The buckets as the reconciler sees them: ListObjectVersions for current versions, HeadObject for metadata. */
import {
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { ObjectVersion } from "../domain/types.ts";
import type { BucketInventory, CleanObject, StoredObject } from "../ports/inventory.ts";

const unquote = (eTag: string | undefined) => eTag?.replace(/"/g, "");

function isMissing(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    e?.name === "NotFound" ||
    e?.name === "NoSuchKey" ||
    e?.name === "NoSuchVersion" ||
    e?.name === "PreconditionFailed" ||
    e?.$metadata?.httpStatusCode === 404 ||
    e?.$metadata?.httpStatusCode === 412
  );
}

export class S3Inventory implements BucketInventory {
  constructor(private readonly client: S3Client) {}

  async *objects(bucket: string): AsyncIterable<StoredObject> {
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page: ListObjectVersionsCommandOutput = await this.client.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          KeyMarker: keyMarker,
          VersionIdMarker: versionMarker,
        }),
      );
      // A key whose latest entry is a delete marker has no current object.
      for (const v of page.Versions ?? []) {
        if (!v.IsLatest || !v.Key) continue;
        yield {
          bucket,
          key: v.Key,
          ...(v.VersionId && v.VersionId !== "null" ? { versionId: v.VersionId } : {}),
          ...(v.ETag ? { eTag: unquote(v.ETag) } : {}),
          size: v.Size ?? 0,
          ...(v.LastModified ? { lastModified: v.LastModified } : {}),
        };
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
  }

  async *cleanObjects(bucket: string): AsyncIterable<CleanObject> {
    for await (const object of this.objects(bucket)) {
      try {
        const head = await this.client.send(
          new HeadObjectCommand({
            Bucket: bucket,
            Key: object.key,
            ...(object.versionId ? { VersionId: object.versionId } : {}),
          }),
        );
        const metadata = head.Metadata ?? {};
        yield {
          ...object,
          ...(metadata["airlock-sha256"] ? { sha256: metadata["airlock-sha256"] } : {}),
          ...(metadata["airlock-file-id"] ? { fileId: metadata["airlock-file-id"] } : {}),
        };
      } catch (error) {
        if (!isMissing(error)) throw error; // withdrawn since it was listed
      }
    }
  }

  async exists(version: ObjectVersion): Promise<boolean> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({
          Bucket: version.bucket,
          Key: version.key,
          ...(version.versionId
            ? { VersionId: version.versionId }
            : version.eTag
              ? { IfMatch: `"${version.eTag}"` }
              : {}),
        }),
      );
      return !head.DeleteMarker;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }
}
