/**
 * What the reconciler needs to see of the buckets: their current objects, not one event's version. Kept apart
 * from ObjectStore, whose every call is pinned to one version an event named.
 */
import type { ObjectVersion } from "../domain/types.ts";

export interface StoredObject {
  bucket: string;
  key: string;
  versionId?: string;
  eTag?: string;
  size: number;
  lastModified?: Date;
}

/** A clean-bucket object with what the promotion wrote on it (`airlock-sha256`, `airlock-file-id`). */
export interface CleanObject extends StoredObject {
  sha256?: string;
  fileId?: string;
}

export interface BucketInventory {
  /** The current (latest, not deleted) version of every object in the bucket. */
  objects(bucket: string): AsyncIterable<StoredObject>;
  /** The same for the clean bucket, each with its Airlock metadata. */
  cleanObjects(bucket: string): AsyncIterable<CleanObject>;
  /** Whether exactly this version still exists. */
  exists(version: ObjectVersion): Promise<boolean>;
}
