/**
 * The CLI's AWS access, from the same factory as the Lambdas (`core/runtime/clients.ts`): against the local
 * stack (endpoints and credentials from `local.json`, every request SigV4-signed with them) or against AWS
 * (default credential chain and region). Commands get adapters and plain clients from these functions.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { DynamoRecordStore } from "../../core/adapters/dynamo-records.ts";
import { type AwsClients, createClients, fanoutPublisher } from "../../core/runtime/clients.ts";
import type { LocalState } from "../stack.ts";

export interface S3Options {
  /** SDK attempts per request (the SDK retries throttling, 5xx and network errors only). */
  maxAttempts?: number;
}

/** The local stack's clients, from its endpoints and credentials (whatever AWS_* variables are set). */
export function localClients(state: LocalState, options: S3Options = {}): AwsClients {
  return createClients(
    {
      region: state.region,
      credentials: state.credentials,
      endpoints: state.endpoints,
      maxAttempts: options.maxAttempts,
    },
    {},
  );
}

export function localS3(state: LocalState, options: S3Options = {}): S3Client {
  return localClients(state, options).s3;
}

export function localRecords(state: LocalState): DynamoRecordStore {
  return new DynamoRecordStore(localClients(state).documents, state.tableName);
}

/** Publishes to the local fan-out topic, as a rescan redrives a held file. */
export function localRedrive(state: LocalState): (message: string) => Promise<void> {
  return fanoutPublisher(state.fanoutTopicArn, localClients(state));
}

/** Against a deployed stack: the default credential chain and region, as the aws CLI uses them. */
export function awsRecords(table: string): DynamoRecordStore {
  return new DynamoRecordStore(createClients().documents, table);
}

export function awsRedrive(topicArn: string): (message: string) => Promise<void> {
  return fanoutPublisher(topicArn, createClients());
}
