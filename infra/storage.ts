/**
 * Storage: the customer managed key, the ingest (quarantine) and clean buckets, and the file table.
 * Buckets are private, KMS-encrypted with a bucket key, versioned and TLS-only; held files expire.
 * Who may reach the buckets (`BucketAccess`: the bucket policies and the browsers' CORS) is a component of its
 * own, created once the roles and the console's origin it names exist: they are created after storage.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { TABLE_INDEXES, TABLE_KEYS } from "../core/adapters/dynamo-table.ts";
import type { AirlockConfig } from "./config.ts";

export interface StorageArgs {
  config: AirlockConfig;
  accountId: pulumi.Input<string>;
}

export class Storage extends pulumi.ComponentResource {
  readonly key: aws.kms.Key;
  readonly ingestBucket: aws.s3.Bucket;
  readonly cleanBucket: aws.s3.Bucket;
  readonly table: aws.dynamodb.Table;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airlock:storage:Storage", name, {}, opts);
    const { config } = args;
    const root = pulumi.interpolate`arn:aws:iam::${args.accountId}:root`;
    this.key = new aws.kms.Key(
      `${name}-key`,
      {
        description: "Airlock: buckets, table, topics and queues",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            // A key policy must let the account administer the key, or the key becomes unmanageable.
            {
              Sid: "AccountAdministers",
              Effect: "Allow",
              Principal: { AWS: root },
              Action: "kms:*",
              Resource: "*",
            },
            // S3 publishes events to the encrypted fan-out topic, SNS delivers to encrypted queues (and moves what
            // it cannot deliver to encrypted dead-letter queues), CloudWatch publishes alarms to the encrypted
            // alarm topic: each needs the data key, and each says on whose behalf it acts (aws:SourceAccount).
            {
              Sid: "ServicesEncryptMessages",
              Effect: "Allow",
              Principal: { Service: ["s3.amazonaws.com", "sns.amazonaws.com", "cloudwatch.amazonaws.com"] },
              Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
              Resource: "*",
              Condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
            },
            // EventBridge delivering to an encrypted queue (GuardDuty's results, and their dead letters) does not
            // send aws:SourceAccount or aws:SourceArn with the data-key request: a statement conditioned on them
            // never matches and the events are dropped without a trace. AWS documents this statement without
            // conditions; the queues' own policies admit only Airlock's rule (aws:SourceArn on SendMessage).
            {
              Sid: "EventBridgeEncryptsQueuedEvents",
              Effect: "Allow",
              Principal: { Service: "events.amazonaws.com" },
              Action: ["kms:GenerateDataKey", "kms:Decrypt"],
              Resource: "*",
            },
          ],
        }),
      },
      { parent: this },
    );
    // Alias names are unique per account and region: one per stack, so that a second stack can be created.
    new aws.kms.Alias(
      `${name}-key-alias`,
      { name: `alias/${pulumi.getProject()}-${pulumi.getStack()}`, targetKeyId: this.key.keyId },
      { parent: this },
    );

    this.ingestBucket = this.bucket(`${name}-ingest`, false);
    this.cleanBucket = this.bucket(`${name}-clean`, config.objectLock);

    configureBucket(
      this.ingestBucket,
      (after) =>
        new aws.s3.BucketLifecycleConfiguration(
          `${name}-ingest-lifecycle`,
          {
            bucket: this.ingestBucket.id,
            rules: [
              ...["REJECTED", "INFECTED", "FAILED"].map((status) => ({
                id: `expire-held-${status.toLowerCase()}`,
                status: "Enabled",
                filter: { tag: { key: "airlock-status", value: status } },
                expiration: { days: config.heldRetentionDays },
                noncurrentVersionExpiration: { noncurrentDays: 1 },
              })),
              {
                id: "abort-incomplete-uploads",
                status: "Enabled",
                filter: {},
                abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                noncurrentVersionExpiration: { noncurrentDays: config.heldRetentionDays },
              },
            ],
          },
          { parent: this, ...after },
        ),
    );
    configureBucket(
      this.cleanBucket,
      (after) =>
        new aws.s3.BucketLifecycleConfiguration(
          `${name}-clean-lifecycle`,
          {
            bucket: this.cleanBucket.id,
            rules: [
              {
                id: "tiering",
                status: "Enabled",
                filter: {},
                transitions: [
                  { days: config.cleanInfrequentAccessDays, storageClass: "STANDARD_IA" },
                  { days: config.cleanGlacierIrDays, storageClass: "GLACIER_IR" },
                ],
                abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                // A verified file replaced or deleted (API delete, re-upload) leaves a noncurrent version: keep it
                // for a while (Object Lock's retention still applies), not forever.
                noncurrentVersionExpiration: { noncurrentDays: config.cleanNoncurrentDays },
              },
            ],
          },
          { parent: this, ...after },
        ),
    );
    this.table = new aws.dynamodb.Table(
      `${name}-files`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: TABLE_KEYS.hashKey,
        rangeKey: TABLE_KEYS.rangeKey,
        attributes: [
          TABLE_KEYS.hashKey,
          TABLE_KEYS.rangeKey,
          ...TABLE_INDEXES.flatMap((i) => [i.hashKey, i.rangeKey]),
        ].map((n) => ({ name: n, type: "S" })),
        // The indexes project what their queries filter on, not the record (see core/adapters/dynamo-table.ts):
        // with `ALL`, every write of a record was written again to both indexes at its full size.
        globalSecondaryIndexes: TABLE_INDEXES.map((index) => ({
          name: index.name,
          hashKey: index.hashKey,
          rangeKey: index.rangeKey,
          projectionType: index.projection.type,
          ...(index.projection.type === "INCLUDE" ? { nonKeyAttributes: index.projection.attributes } : {}),
        })),
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true, kmsKeyArn: this.key.arn },
        ttl: { attributeName: "expiresAt", enabled: true },
        deletionProtectionEnabled: true,
      },
      { parent: this },
    );

    this.registerOutputs({
      ingestBucket: this.ingestBucket.bucket,
      cleanBucket: this.cleanBucket.bucket,
      tableName: this.table.name,
      keyArn: this.key.arn,
    });
  }

  private bucket(name: string, objectLock: boolean): aws.s3.Bucket {
    const bucket = new aws.s3.Bucket(
      name,
      { objectLockEnabled: objectLock, forceDestroy: false },
      { parent: this },
    );
    guardBucket(name, bucket, this);
    configureBucket(
      bucket,
      (after) =>
        new aws.s3.BucketServerSideEncryptionConfiguration(
          `${name}-encryption`,
          {
            bucket: bucket.id,
            rules: [
              {
                applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.key.arn },
                bucketKeyEnabled: true,
              },
            ],
          },
          { parent: this, ...after },
        ),
    );
    if (objectLock) {
      configureBucket(
        bucket,
        (after) =>
          new aws.s3.BucketObjectLockConfiguration(
            `${name}-object-lock`,
            { bucket: bucket.id, rule: { defaultRetention: { mode: "GOVERNANCE", days: 365 } } },
            { parent: this, ...after },
          ),
      );
    }
    return bucket;
  }
}

export interface BucketAccessArgs {
  storage: Storage;
  /** Browser origins that upload straight to the ingest bucket (presigned POST and multipart parts). */
  browserOrigins: pulumi.Input<string>[];
  /** The roles that may read quarantined objects: the deciding functions and GuardDuty's scanner. */
  ingestReaders: pulumi.Input<string>[];
}

/**
 * Who may reach the buckets: TLS only everywhere; objects in quarantine readable only by the pipeline's roles;
 * browsers on the given origins may upload to the ingest bucket with the URLs the API signs (the ETag readable).
 * A component of its own because what it names (the functions' roles, the console's distribution) is created
 * after storage, from storage. Its resources were storage's children before: the aliases keep them in place.
 */
export class BucketAccess extends pulumi.ComponentResource {
  readonly ingestPolicy: aws.s3.BucketPolicy;
  readonly cleanPolicy: aws.s3.BucketPolicy;
  readonly cors?: aws.s3.BucketCorsConfiguration;

  constructor(name: string, args: BucketAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airlock:storage:BucketAccess", name, {}, opts);
    const { storage } = args;
    const { ingestBucket, cleanBucket } = storage;
    const child = (after: { dependsOn: pulumi.Resource[] }) => ({
      parent: this,
      aliases: [{ parent: storage }],
      ...after,
    });
    if (args.browserOrigins.length > 0) {
      this.cors = configureBucket(
        ingestBucket,
        (after) =>
          new aws.s3.BucketCorsConfiguration(
            `${name}-ingest-cors`,
            {
              bucket: ingestBucket.id,
              corsRules: [
                {
                  allowedOrigins: args.browserOrigins,
                  allowedMethods: ["POST", "PUT"],
                  allowedHeaders: ["*"],
                  exposeHeaders: ["ETag"],
                  maxAgeSeconds: 600,
                },
              ],
            },
            child(after),
          ),
      );
    }
    const tlsOnly = (bucket: aws.s3.Bucket) => ({
      Sid: "TlsOnly",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
    this.ingestPolicy = configureBucket(
      ingestBucket,
      (after) =>
        new aws.s3.BucketPolicy(
          `${name}-ingest-policy`,
          {
            bucket: ingestBucket.id,
            policy: pulumi.jsonStringify({
              Version: "2012-10-17",
              Statement: [
                tlsOnly(ingestBucket),
                {
                  Sid: "QuarantineReadableOnlyByThePipeline",
                  Effect: "Deny",
                  Principal: "*",
                  Action: ["s3:GetObject", "s3:GetObjectVersion"],
                  Resource: pulumi.interpolate`${ingestBucket.arn}/*`,
                  Condition: { ArnNotLike: { "aws:PrincipalArn": args.ingestReaders } },
                },
              ],
            }),
          },
          child(after),
        ),
    );
    this.cleanPolicy = configureBucket(
      cleanBucket,
      (after) =>
        new aws.s3.BucketPolicy(
          `${name}-clean-policy`,
          {
            bucket: cleanBucket.id,
            policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: [tlsOnly(cleanBucket)] }),
          },
          child(after),
        ),
    );
    this.registerOutputs({});
  }
}

/**
 * What every Airlock bucket has: no public access of any kind, the owner owns every object (ACLs off), and
 * versioning, so that each event names an exact object version.
 */
export function guardBucket(name: string, bucket: aws.s3.Bucket, parent: pulumi.Resource): void {
  // Ownership first: with ACLs off, the public access block and everything after apply to every object.
  configureBucket(
    bucket,
    (after) =>
      new aws.s3.BucketOwnershipControls(
        `${name}-ownership`,
        { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
        { parent, ...after },
      ),
  );
  configureBucket(
    bucket,
    (after) =>
      new aws.s3.BucketPublicAccessBlock(
        `${name}-public-access`,
        {
          bucket: bucket.id,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        },
        { parent, ...after },
      ),
  );
  configureBucket(
    bucket,
    (after) =>
      new aws.s3.BucketVersioning(
        `${name}-versioning`,
        { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
        { parent, ...after },
      ),
  );
}

/** The last configuration resource created for each bucket. */
const lastConfiguration = new WeakMap<aws.s3.Bucket, pulumi.Resource>();

/**
 * Creates the next configuration resource of a bucket (ownership, public access, versioning, encryption,
 * lifecycle, CORS, policy, notification, a GuardDuty plan…) after the previous one. S3 answers concurrent
 * changes to one bucket's configuration with 409 OperationAborted, intermittently: Pulumi creates resources
 * in parallel unless one depends on the other, so every bucket's configuration is a chain.
 */
export function configureBucket<T extends pulumi.Resource>(
  bucket: aws.s3.Bucket,
  create: (after: { dependsOn: pulumi.Resource[] }) => T,
): T {
  const made = create({ dependsOn: [lastConfiguration.get(bucket) ?? bucket] });
  lastConfiguration.set(bucket, made);
  return made;
}
