/**
 * The composition root: SDK clients built once per cold start and the adapters over them. In AWS the clients
 * use the default endpoints; the local stack sets the standard `AWS_ENDPOINT_URL_<SERVICE>` variables and the
 * clients only differ by endpoint (plus path-style addressing, which the S3 emulator needs).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { SSMClient } from "@aws-sdk/client-ssm";
import { TextractClient } from "@aws-sdk/client-textract";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoRecordStore } from "../adapters/dynamo-records.ts";
import { DynamoOcrJobStore, DynamoTextStore } from "../adapters/dynamo-staging.ts";
import { S3ObjectStore } from "../adapters/s3-objects.ts";
import { SnsNotifier } from "../adapters/sns-notifier.ts";
import { readSecureParameter } from "../adapters/ssm-parameter.ts";
import { TextractOcr } from "../adapters/textract-ocr.ts";
import type { OcrMode } from "../domain/types.ts";
import type { SettleDeps } from "../usecases/pipeline/settle.ts";
import { ConfigurationError } from "./env.ts";

export function s3Client(env: Record<string, string | undefined> = process.env): S3Client {
  return new S3Client({
    forcePathStyle: env.AWS_ENDPOINT_URL_S3 !== undefined,
    // The checksums S3 adds by default are not understood by every S3-compatible store; SigV4 still signs bodies.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

export function documentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}

export interface PipelineEnv {
  AIRLOCK_TABLE_NAME: string;
  AIRLOCK_CLEAN_BUCKET: string;
  AIRLOCK_NOTIFICATIONS_TOPIC_ARN: string;
}

export interface PipelineDeps extends SettleDeps {
  records: DynamoRecordStore;
  objects: S3ObjectStore;
  texts: DynamoTextStore;
}

export function pipelineDeps(env: PipelineEnv): PipelineDeps {
  const documents = documentClient();
  const s3 = s3Client();
  return {
    records: new DynamoRecordStore(documents, env.AIRLOCK_TABLE_NAME),
    objects: new S3ObjectStore(s3),
    notifier: new SnsNotifier(new SNSClient({}), env.AIRLOCK_NOTIFICATIONS_TOPIC_ARN),
    cleanBucket: env.AIRLOCK_CLEAN_BUCKET,
    texts: new DynamoTextStore(documents, s3, env.AIRLOCK_TABLE_NAME),
    // The notification lease: at least the function timeout (the local stack's is its visibility timeout).
    ...(process.env.AIRLOCK_NOTIFICATION_LEASE_SECONDS
      ? { notificationLeaseSeconds: Number(process.env.AIRLOCK_NOTIFICATION_LEASE_SECONDS) }
      : {}),
  };
}

export interface OcrEnv {
  AIRLOCK_TABLE_NAME: string;
  AIRLOCK_OCR: OcrMode;
  AIRLOCK_OCR_TOPIC_ARN: string;
  AIRLOCK_OCR_ROLE_ARN: string;
}

/**
 * Textract and the OCR job store. Textract is not emulated locally: where the other services point at local
 * endpoints and none is set for Textract, there is no engine and OCR is recorded as skipped.
 */
export function ocrDeps(env: OcrEnv, source: Record<string, string | undefined> = process.env) {
  const local = source.AWS_ENDPOINT_URL_S3 !== undefined && source.AWS_ENDPOINT_URL_TEXTRACT === undefined;
  const engine =
    env.AIRLOCK_OCR === "off" || local
      ? undefined
      : new TextractOcr(new TextractClient({}), {
          topicArn: env.AIRLOCK_OCR_TOPIC_ARN,
          roleArn: env.AIRLOCK_OCR_ROLE_ARN,
        });
  return { engine, jobs: new DynamoOcrJobStore(documentClient(), env.AIRLOCK_TABLE_NAME) };
}

/**
 * The API's cursor-signing secret: given directly (the local stack), or read once from the SSM SecureString
 * that the stack creates (AWS), so that it is not in the function's environment.
 */
export async function cursorSecret(env: {
  AIRLOCK_CURSOR_SECRET?: string;
  AIRLOCK_CURSOR_SECRET_PARAMETER?: string;
}): Promise<string> {
  if (env.AIRLOCK_CURSOR_SECRET) return env.AIRLOCK_CURSOR_SECRET;
  if (env.AIRLOCK_CURSOR_SECRET_PARAMETER)
    return readSecureParameter(new SSMClient({}), env.AIRLOCK_CURSOR_SECRET_PARAMETER);
  throw new ConfigurationError(
    "Invalid configuration: set AIRLOCK_CURSOR_SECRET or AIRLOCK_CURSOR_SECRET_PARAMETER",
  );
}
