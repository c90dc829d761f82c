/**
 * Erasing a key for good: in a versioned bucket every version of it (and every delete marker) is deleted by
 * version id, so nothing of a deleted file stays readable as a noncurrent version; a plain DeleteObject there
 * would only hide the bytes behind a delete marker. In a bucket without versioning the plain delete removes the
 * only copy. The caller says which it is: Airlock's buckets are versioned together (one bucket guard), and S3
 * events name a version id exactly when they are.
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
  /** True when the bucket has no versioning and one plain delete removed the object. */
  unversioned?: boolean;
}

async function versionsOf(s3: S3Client, bucket: string, key: string): Promise<string[]> {
  const ids: string[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  do {
    const out: ListObjectVersionsCommandOutput = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: key,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }),
    );
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

/** Deletes every version and delete marker of exactly `key` (or the object, unversioned); says what went. */
export async function eraseKey(
  s3: S3Client,
  target: { bucket: string; key: string; versioned: boolean },
): Promise<Erased> {
  const { bucket, key } = target;
  if (!target.versioned) {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    return { bucket, key, versionIds: [], unversioned: true };
  }
  const ids = await versionsOf(s3, bucket, key);
  for (const id of ids) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: id }));
  return { bucket, key, versionIds: ids };
}
