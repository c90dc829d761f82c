/**
 * Erasing a key for good: every version of it (and every delete marker) is deleted by version id, so nothing of
 * a deleted file stays readable as a noncurrent version. A plain DeleteObject on a versioned bucket would only
 * hide the bytes behind a delete marker. Stores that cannot list versions (an unversioned emulator) get the
 * plain delete, which on an unversioned bucket removes the only copy.
 */
import {
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";

export interface Erased {
  bucket: string;
  key: string;
  /** The version ids deleted (`null` is the version of an object put while versioning was off). */
  versionIds: string[];
  /** True when the store could not list versions and one unversioned delete was sent instead. */
  unversioned?: boolean;
}

function isUnsupported(error: unknown): boolean {
  return error instanceof Error && (error.name === "NotImplemented" || error.name === "MethodNotAllowed");
}

async function versionsOf(s3: S3Client, bucket: string, key: string): Promise<string[] | undefined> {
  const ids: string[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  do {
    let out: ListObjectVersionsCommandOutput;
    try {
      out = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: key,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
    } catch (error) {
      if (isUnsupported(error)) return undefined;
      throw error;
    }
    // The prefix also matches longer keys (`a.pdf` and `a.pdf.txt`): only this exact key is erased.
    for (const entry of [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])])
      if (entry.Key === key && entry.VersionId) ids.push(entry.VersionId);
    // Versions are listed by key, then newest first: once the marker has moved past the key, it is done.
    const more = out.IsTruncated === true && out.NextKeyMarker === key;
    keyMarker = more ? out.NextKeyMarker : undefined;
    versionIdMarker = more ? out.NextVersionIdMarker : undefined;
  } while (keyMarker !== undefined);
  return ids;
}

/** Deletes every version and delete marker of exactly `key`; returns what was deleted. */
export async function eraseKey(s3: S3Client, bucket: string, key: string): Promise<Erased> {
  const ids = await versionsOf(s3, bucket, key);
  if (ids === undefined) {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    return { bucket, key, versionIds: [], unversioned: true };
  }
  for (const id of ids) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: id }));
  return { bucket, key, versionIds: ids };
}
