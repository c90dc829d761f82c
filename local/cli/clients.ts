/**
 * Every AWS SDK client the CLI uses, built here and nowhere else: against the local stack (endpoints and
 * credentials from `local.json`, every request SigV4-signed with them) or against AWS (default credential chain
 * and region). Commands get adapters and plain clients from these functions.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoRecordStore } from "../../core/adapters/dynamo-records.ts";
import type { LocalState } from "../stack.ts";

export interface S3Options {
  /** SDK attempts per request (the SDK retries throttling, 5xx and network errors only). */
  maxAttempts?: number;
}

export function localS3(state: LocalState, options: S3Options = {}): S3Client {
  return new S3Client({
    region: state.region,
    credentials: state.credentials,
    endpoint: state.endpoints.s3,
    forcePathStyle: true,
    maxAttempts: options.maxAttempts,
    // The emulator does not understand the checksums the SDK adds by default; SigV4 still signs every request.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

export function localRecords(state: LocalState): DynamoRecordStore {
  const client = new DynamoDBClient({
    region: state.region,
    credentials: state.credentials,
    endpoint: state.endpoints.dynamodb,
  });
  return new DynamoRecordStore(DynamoDBDocumentClient.from(client), state.tableName);
}

/** Publishes to the local fan-out topic, as a rescan redrives a held file. */
export function localRedrive(state: LocalState): (message: string) => Promise<void> {
  const sns = new SNSClient({
    region: state.region,
    credentials: state.credentials,
    endpoint: state.endpoints.sns,
  });
  return async (message) => {
    await sns.send(new PublishCommand({ TopicArn: state.fanoutTopicArn, Message: message }));
  };
}

/** Against a deployed stack: the default credential chain and region, as the aws CLI uses them. */
export function awsRecords(table: string): DynamoRecordStore {
  return new DynamoRecordStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), table);
}

export function awsRedrive(topicArn: string): (message: string) => Promise<void> {
  const sns = new SNSClient({});
  return async (message) => {
    await sns.send(new PublishCommand({ TopicArn: topicArn, Message: message }));
  };
}
