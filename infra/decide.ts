/**
 * What every deciding function shares — the stage functions, the dead-letter function, the sweeper, the OCR
 * continuation and the GuardDuty results function: the variables it records results and settles with, and the
 * permissions to do so (records, quarantine, promotion, notification). Built once from storage and the verdict
 * topic and passed to each component that creates such a function.
 */
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AirlockConfig } from "./config.ts";
import type { Statement } from "./iam.ts";
import type { Storage } from "./storage.ts";

export interface Deciding {
  env: {
    AIRLOCK_TABLE_NAME: pulumi.Input<string>;
    AIRLOCK_INGEST_BUCKET: pulumi.Input<string>;
    AIRLOCK_CLEAN_BUCKET: pulumi.Input<string>;
    AIRLOCK_NOTIFICATIONS_TOPIC_ARN: pulumi.Input<string>;
  };
  statements: Statement[];
}

export function deciding(storage: Storage, notificationsTopic: aws.sns.Topic): Deciding {
  const ingest = storage.ingestBucket;
  return {
    env: {
      AIRLOCK_TABLE_NAME: storage.table.name,
      AIRLOCK_INGEST_BUCKET: ingest.bucket,
      AIRLOCK_CLEAN_BUCKET: storage.cleanBucket.bucket,
      AIRLOCK_NOTIFICATIONS_TOPIC_ARN: notificationsTopic.arn,
    },
    statements: [
      {
        Sid: "FileRecords",
        Effect: "Allow",
        // DeleteItem: staged extracted text and finished OCR jobs (items next to the file record).
        Action: ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
        Resource: [storage.table.arn],
      },
      {
        Sid: "QuarantineObjects",
        Effect: "Allow",
        Action: [
          "s3:GetObject",
          "s3:GetObjectVersion",
          "s3:GetObjectTagging",
          "s3:GetObjectVersionTagging",
          "s3:PutObjectTagging",
          "s3:PutObjectVersionTagging",
          "s3:DeleteObject",
          "s3:DeleteObjectVersion",
        ],
        Resource: [pulumi.interpolate`${ingest.arn}/*`],
      },
      {
        // Promotion copies the judged version (CopySourceIfMatch / versionId) with its tags and an
        // airlock-sha256 checksum, checks what landed, and publishes the extracted text next to it.
        Sid: "Promote",
        Effect: "Allow",
        // Delete: a copy that turns out not to be the judged bytes, or whose record moved on, is withdrawn by
        // its version id (core/usecases/pipeline/settle.ts).
        Action: [
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:PutObjectVersionTagging",
          "s3:GetObject",
          "s3:GetObjectVersion",
          "s3:DeleteObject",
          "s3:DeleteObjectVersion",
        ],
        Resource: [pulumi.interpolate`${storage.cleanBucket.arn}/*`],
      },
      {
        // Without s3:ListBucket, S3 answers 403 (not 404) for a missing key: the "object gone" handling of a
        // deleted or overwritten upload would never trigger, and a race would become retries and a FAILED file.
        Sid: "MissingObjectsAre404",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: [ingest.arn, storage.cleanBucket.arn],
      },
      {
        Sid: "DataKey",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: [storage.key.arn],
      },
      { Sid: "Notify", Effect: "Allow", Action: ["sns:Publish"], Resource: [notificationsTopic.arn] },
    ],
  };
}

/** The text extraction settings the metadata stage and the OCR continuation read. */
export function textEnv(config: AirlockConfig) {
  return {
    AIRLOCK_OCR: config.ocr,
    AIRLOCK_TEXT_MAX_CHARS: String(config.textMaxChars),
    AIRLOCK_TEXT_PDF_MAX_BYTES: String(config.textPdfMaxBytes),
  };
}
