/**
 * The pipeline: ingest bucket ObjectCreated → SNS fan-out → one encrypted SQS queue per stage (with a DLQ) →
 * the stage Lambdas (partial batch responses); a dead-letter consumer that fails dead-lettered files; and a
 * scheduled sweeper for files stuck in PENDING. Every function decides with the same shared access (`decide.ts`).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DROPS_PREFIX, UPLOADS_PREFIX } from "../core/domain/keys.ts";
import { STAGES, type StageName } from "../core/domain/types.ts";
import type { AirlockConfig } from "./config.ts";
import { type Deciding, textEnv } from "./decide.ts";
import type { Statement } from "./iam.ts";
import { type AirlockFunction, airlockFunction, type FunctionSpec } from "./lambda.ts";
import type { Ocr } from "./ocr.ts";
import { consumeQueues, consumer, queueWithDlq, undeliveredQueue } from "./queues.ts";
import { configureBucket, type Storage } from "./storage.ts";

export interface PipelineArgs {
  config: AirlockConfig;
  storage: Storage;
  accountId: pulumi.Input<string>;
  code: (handler: "validate" | "scan" | "metadata" | "deadLetter" | "sweeper") => pulumi.asset.Archive;
  /** Textract's completion channel: the metadata stage starts jobs that publish to it. */
  ocr: Pick<Ocr, "topic" | "serviceRole" | "startStatements">;
  /** What every deciding function may do, and the variables it reads. */
  decide: Deciding;
  /** Optional engines' variables, network and extra permissions of the scan function (ClamAV, blocklist). */
  scan?: Pick<FunctionSpec, "optionalEnv" | "vpc" | "architecture"> & { statements?: Statement[] };
}

export interface StageWiring {
  queue: aws.sqs.Queue;
  dlq: aws.sqs.Queue;
  subscription: aws.sns.TopicSubscription;
  mapping: aws.lambda.EventSourceMapping;
  lambda: AirlockFunction;
}

/** Where files arrive in the ingest bucket: presigned uploads and system drops (see core/domain/keys.ts). */
export const INGEST_PREFIXES = [UPLOADS_PREFIX, DROPS_PREFIX] as const;

export class Pipeline extends pulumi.ComponentResource {
  readonly fanoutTopic: aws.sns.Topic;
  readonly notification: aws.s3.BucketNotification;
  /** What the fan-out topic could not deliver to a stage queue. */
  readonly undelivered: ReturnType<typeof undeliveredQueue>;
  readonly stages = {} as Record<StageName, StageWiring>;
  readonly deadLetter: AirlockFunction;
  readonly sweeper: AirlockFunction;
  /** Every function of the pipeline (stages, dead-letter function, sweeper), for alarms and bucket policies. */
  readonly functions: AirlockFunction[];

  constructor(name: string, args: PipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airlock:pipeline:Pipeline", name, {}, opts);
    const { config, storage } = args;
    const ingest = storage.ingestBucket;
    const key = storage.key;

    this.fanoutTopic = new aws.sns.Topic(`${name}-fanout`, { kmsMasterKeyId: key.arn }, { parent: this });
    const topicPolicy = new aws.sns.TopicPolicy(
      `${name}-fanout-policy`,
      {
        arn: this.fanoutTopic.arn,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "IngestBucketPublishes",
              Effect: "Allow",
              Principal: { Service: "s3.amazonaws.com" },
              Action: "sns:Publish",
              Resource: this.fanoutTopic.arn,
              Condition: {
                ArnEquals: { "aws:SourceArn": ingest.arn },
                StringEquals: { "aws:SourceAccount": args.accountId },
              },
            },
          ],
        }),
      },
      { parent: this },
    );
    // Only the two places files arrive: anything else in the bucket (GuardDuty's validation object at the
    // root, written when its plan is created) is not a file and must not become a REJECTED verdict.
    // With GuardDuty on, its plan turns on EventBridge delivery for the bucket itself; saying so here keeps the
    // next update or refresh from turning it off again (and every scan from waiting for a result that never comes).
    this.notification = configureBucket(
      ingest,
      (after) =>
        new aws.s3.BucketNotification(
          `${name}-ingest-events`,
          {
            bucket: ingest.id,
            topics: INGEST_PREFIXES.map((prefix) => ({
              topicArn: this.fanoutTopic.arn,
              events: ["s3:ObjectCreated:*"],
              filterPrefix: prefix,
            })),
            eventbridge: config.guardduty,
          },
          { parent: this, dependsOn: [...after.dependsOn, topicPolicy] },
        ),
    );
    this.undelivered = undeliveredQueue(`${name}-fanout-undelivered`, this.fanoutTopic, key, this);

    const env = {
      ...args.decide.env,
      AIRLOCK_FANOUT_TOPIC_ARN: this.fanoutTopic.arn,
      AIRLOCK_MAX_SIZE_BYTES: String(config.maxSizeBytes),
      AIRLOCK_ALLOWED_TYPES: config.allowedTypes.join(","),
      AIRLOCK_SCAN_MAX_DEPTH: String(config.scanMaxDepth),
      AIRLOCK_SCAN_MAX_ENTRIES: String(config.scanMaxEntries),
      AIRLOCK_SCAN_MAX_EXPANDED_BYTES: String(config.scanMaxExpandedBytes),
      AIRLOCK_SCAN_MAX_RATIO: String(config.scanMaxRatio),
      AIRLOCK_STUCK_AFTER_SECONDS: String(config.stuckAfterSeconds),
      ...textEnv(config),
      AIRLOCK_OCR_TOPIC_ARN: args.ocr.topic.arn,
      AIRLOCK_OCR_ROLE_ARN: args.ocr.serviceRole.arn,
    };
    const decide = args.decide.statements;
    const consume = consumeQueues;

    for (const stage of STAGES) {
      const { queue, dlq } = queueWithDlq(
        { queue: `${name}-${stage}`, dlq: `${name}-${stage}-dlq` },
        key,
        config,
        this,
      );
      new aws.sqs.QueuePolicy(
        `${name}-${stage}-policy`,
        {
          queueUrl: queue.url,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "FanoutDelivers",
                Effect: "Allow",
                Principal: { Service: "sns.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: queue.arn,
                Condition: { ArnEquals: { "aws:SourceArn": this.fanoutTopic.arn } },
              },
            ],
          }),
        },
        { parent: this },
      );
      const subscription = new aws.sns.TopicSubscription(
        `${name}-${stage}-subscription`,
        {
          topic: this.fanoutTopic.arn,
          protocol: "sqs",
          endpoint: queue.arn,
          rawMessageDelivery: false,
          redrivePolicy: this.undelivered.redrivePolicy,
        },
        { parent: this, dependsOn: [this.undelivered.policy] },
      );
      const lambda = airlockFunction(
        {
          name: `${name}-${stage}`,
          handler: stage,
          code: args.code(stage),
          env,
          statements: [
            ...decide,
            consume(queue),
            ...(stage === "metadata" ? args.ocr.startStatements : []),
            ...(stage === "scan" ? (args.scan?.statements ?? []) : []),
          ],
          ...(stage === "scan"
            ? {
                optionalEnv: args.scan?.optionalEnv,
                vpc: args.scan?.vpc,
                architecture: args.scan?.architecture,
              }
            : {}),
        },
        config,
        this,
      );
      const mapping = consumer(`${name}-${stage}-mapping`, queue, lambda.fn, config, this);
      this.stages[stage] = { queue, dlq, subscription, mapping, lambda };
    }

    const dlqs = STAGES.map((s) => this.stages[s].dlq);
    this.deadLetter = airlockFunction(
      {
        name: `${name}-dead-letter`,
        handler: "deadLetter",
        code: args.code("deadLetter"),
        env,
        statements: [...decide, consume(...dlqs)],
      },
      config,
      this,
    );
    for (const stage of STAGES) {
      consumer(`${name}-${stage}-dlq-mapping`, this.stages[stage].dlq, this.deadLetter.fn, config, this);
    }

    this.sweeper = airlockFunction(
      {
        name: `${name}-sweeper`,
        handler: "sweeper",
        code: args.code("sweeper"),
        env,
        optionalEnv: {
          ...(config.rescanFailedAfterMinutes > 0
            ? {
                AIRLOCK_RESCAN_FAILED_AFTER_SECONDS: String(config.rescanFailedAfterMinutes * 60),
                AIRLOCK_RESCAN_MAX_ATTEMPTS: String(config.rescanMaxAttempts),
              }
            : {}),
          // Every run also reconciles the buckets with the table (core/usecases/pipeline/reconcile.ts).
          AIRLOCK_RECONCILE: "on",
        },
        statements: [
          ...decide,
          {
            Sid: "FindStuckFiles",
            Effect: "Allow",
            Action: ["dynamodb:Query"],
            Resource: [pulumi.interpolate`${storage.table.arn}/index/byStatus`],
          },
          {
            // The status index holds keys (and notificationId): the records listed are read from the table.
            Sid: "ReadListedFiles",
            Effect: "Allow",
            Action: ["dynamodb:BatchGetItem"],
            Resource: [storage.table.arn],
          },
          { Sid: "Redrive", Effect: "Allow", Action: ["sns:Publish"], Resource: [this.fanoutTopic.arn] },
          {
            // The reconciler lists both buckets' objects and versions and reads the clean copies' metadata
            // (airlock-sha256); withdrawing a copy with no VERIFIED record is a delete by version id (decide).
            Sid: "ReconcileBuckets",
            Effect: "Allow",
            Action: ["s3:ListBucket", "s3:ListBucketVersions"],
            Resource: [storage.ingestBucket.arn, storage.cleanBucket.arn],
          },
          {
            Sid: "ReconcileCleanCopies",
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:GetObjectVersion"],
            Resource: [pulumi.interpolate`${storage.cleanBucket.arn}/*`],
          },
        ],
      },
      config,
      this,
    );
    const schedule = new aws.cloudwatch.EventRule(
      `${name}-sweep-schedule`,
      {
        scheduleExpression: "rate(5 minutes)",
        description: "Airlock: re-drive or fail files stuck in PENDING",
      },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(
      `${name}-sweep-target`,
      { rule: schedule.name, arn: this.sweeper.fn.arn },
      { parent: this },
    );
    new aws.lambda.Permission(
      `${name}-sweep-permission`,
      {
        action: "lambda:InvokeFunction",
        function: this.sweeper.fn.name,
        principal: "events.amazonaws.com",
        sourceArn: schedule.arn,
      },
      { parent: this },
    );

    this.functions = [...STAGES.map((s) => this.stages[s].lambda), this.deadLetter, this.sweeper];
    this.registerOutputs({
      fanoutTopicArn: this.fanoutTopic.arn,
      queueUrls: STAGES.map((s) => this.stages[s].queue.url),
    });
  }
}
