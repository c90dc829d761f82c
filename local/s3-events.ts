/**
 * S3 event notifications as real S3 sends them: the local S3's commit records (raw key, version id, sequencer)
 * become the notification JSON, with the key URL-encoded as S3 encodes it, so the handlers' decoding is exercised.
 */
import { encodeEventKey } from "../core/domain/keys.ts";

export interface S3EventRecordLike {
  eventName: string;
  s3: {
    bucket: { name: string };
    object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer?: string };
  };
}

/** S3 sequencers grow with each write to a key; a process-wide counter keeps them strictly increasing. */
let sequence = 0n;
function nextSequencer(): string {
  sequence += 1n;
  return (BigInt(Date.now()) * 1_000_000n + (sequence % 1_000_000n))
    .toString(16)
    .toUpperCase()
    .padStart(18, "0");
}

export function asS3Event(record: S3EventRecordLike, region: string): object {
  const { key, size, eTag, versionId, sequencer } = record.s3.object;
  const multipart = eTag !== undefined && /-\d+$/.test(eTag);
  const eventName = multipart ? "ObjectCreated:CompleteMultipartUpload" : record.eventName;
  return {
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: region,
        eventTime: new Date().toISOString(),
        eventName,
        s3: {
          s3SchemaVersion: "1.0",
          configurationId: "airlock-ingest",
          bucket: { name: record.s3.bucket.name, arn: `arn:aws:s3:::${record.s3.bucket.name}` },
          object: {
            key: encodeEventKey(key),
            size,
            eTag,
            ...(versionId ? { versionId } : {}),
            sequencer: sequencer ?? nextSequencer(),
          },
        },
      },
    ],
  };
}
