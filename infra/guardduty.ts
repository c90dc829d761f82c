/**
 * GuardDuty Malware Protection for S3 as a second opinion (`guardduty: true`): a protection plan on the ingest
 * bucket with the service role AWS documents for it (scoped to this bucket, its KMS key and GuardDuty's own
 * managed EventBridge rule), an EventBridge rule that sends the plan's "Object Scan Result" events to an
 * encrypted queue (with a DLQ and an alarm), and the function that records them as GuardDuty's half of the scan.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GUARDDUTY_DETAIL_TYPE } from "../core/domain/scan/guardduty.ts";
import type { AirlockConfig } from "./config.ts";
import type { Deciding } from "./decide.ts";
import { serviceRole } from "./iam.ts";
import { type AirlockFunction, airlockFunction } from "./lambda.ts";
import { consumeQueues, consumer, queueWithDlq } from "./queues.ts";
import { configureBucket } from "./storage.ts";

export interface GuardDutyArgs {
  config: AirlockConfig;
  key: aws.kms.Key;
  ingestBucket: aws.s3.Bucket;
  accountId: pulumi.Input<string>;
  region: pulumi.Input<string>;
  code: pulumi.asset.Archive;
  /** What every deciding function may do (records, quarantine, promotion, notification), and reads. */
  decide: Deciding;
}

export class GuardDuty extends pulumi.ComponentResource {
  readonly plan: aws.guardduty.MalwareProtectionPlan;
  /** The role GuardDuty scans with: it must be able to read quarantine. */
  readonly serviceRole: aws.iam.Role;
  readonly queue: aws.sqs.Queue;
  readonly dlq: aws.sqs.Queue;
  /** The results rule, and where it puts what it could not deliver. */
  readonly rule: aws.cloudwatch.EventRule;
  readonly undelivered: aws.sqs.Queue;
  readonly lambda: AirlockFunction;

  constructor(name: string, args: GuardDutyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airlock:guardduty:GuardDuty", name, {}, opts);
    const { config, key, ingestBucket } = args;
    this.serviceRole = serviceRole(
      `${name}-guardduty-service-role`,
      "malware-protection-plan.guardduty.amazonaws.com",
      args.accountId,
      "Airlock: GuardDuty Malware Protection scans the ingest bucket",
      this,
    );
    const role = this.serviceRole;
    const managedRule = pulumi.interpolate`arn:aws:events:${args.region}:${args.accountId}:rule/DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*`;
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-guardduty-service-policy`,
      {
        role: role.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            // As AWS's prerequisite policy has it: events:ManagedBy is a condition key of the rule-changing actions
            // only. DescribeRule and ListTargetsByRule do not support it, and a statement that applies it to them
            // never matches, so GuardDuty could not check its own rule.
            {
              Sid: "ManagedRule",
              Effect: "Allow",
              Action: ["events:PutRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets"],
              Resource: [managedRule],
              Condition: {
                StringLike: { "events:ManagedBy": "malware-protection-plan.guardduty.amazonaws.com" },
              },
            },
            {
              Sid: "WatchManagedRule",
              Effect: "Allow",
              Action: ["events:DescribeRule", "events:ListTargetsByRule"],
              Resource: [managedRule],
            },
            {
              Sid: "Bucket",
              Effect: "Allow",
              Action: ["s3:ListBucket", "s3:GetBucketNotification", "s3:PutBucketNotification"],
              Resource: [ingestBucket.arn],
            },
            {
              Sid: "ScanAndTag",
              Effect: "Allow",
              Action: [
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:GetObjectTagging",
                "s3:GetObjectVersionTagging",
                "s3:PutObjectTagging",
                "s3:PutObjectVersionTagging",
              ],
              Resource: [pulumi.interpolate`${ingestBucket.arn}/*`],
            },
            {
              Sid: "ValidationObject",
              Effect: "Allow",
              Action: ["s3:PutObject"],
              Resource: [
                pulumi.interpolate`${ingestBucket.arn}/malware-protection-resource-validation-object`,
              ],
            },
            {
              Sid: "DecryptObjects",
              Effect: "Allow",
              Action: ["kms:GenerateDataKey", "kms:Decrypt"],
              Resource: [key.arn],
              Condition: { StringLike: { "kms:ViaService": "s3.*.amazonaws.com" } },
            },
          ],
        }),
      },
      { parent: this },
    );
    // The plan changes the bucket's notification configuration (EventBridge on): it is one more link of the
    // bucket's configuration chain.
    this.plan = configureBucket(
      ingestBucket,
      (after) =>
        new aws.guardduty.MalwareProtectionPlan(
          `${name}-malware-protection`,
          {
            role: role.arn,
            protectedResource: { s3Bucket: { bucketName: ingestBucket.bucket } },
            actions: [{ taggings: [{ status: "ENABLED" }] }],
          },
          { parent: this, dependsOn: [...after.dependsOn, rolePolicy] },
        ),
    );

    const queues = queueWithDlq(
      { queue: `${name}-guardduty-queue`, dlq: `${name}-guardduty-dlq` },
      key,
      config,
      this,
    );
    this.queue = queues.queue;
    this.dlq = queues.dlq;
    const rule = new aws.cloudwatch.EventRule(
      `${name}-guardduty-results`,
      {
        description: "Airlock: GuardDuty Malware Protection results for the ingest bucket",
        eventPattern: pulumi.jsonStringify({
          source: ["aws.guardduty"],
          "detail-type": [GUARDDUTY_DETAIL_TYPE],
          resources: [this.plan.arn],
        }),
      },
      { parent: this },
    );
    this.rule = rule;
    // What the rule could not deliver (a queue or key policy that refuses it) is kept here, and alarmed,
    // instead of being dropped after EventBridge's retries.
    this.undelivered = new aws.sqs.Queue(
      `${name}-guardduty-undelivered`,
      { kmsMasterKeyId: key.arn, messageRetentionSeconds: 14 * 24 * 3600 },
      { parent: this },
    );
    const ruleDelivers = (queue: aws.sqs.Queue, sid: string) =>
      new aws.sqs.QueuePolicy(
        `${queue === this.queue ? `${name}-guardduty-queue` : `${name}-guardduty-undelivered`}-policy`,
        {
          queueUrl: queue.url,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: sid,
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: queue.arn,
                Condition: { ArnEquals: { "aws:SourceArn": rule.arn } },
              },
            ],
          }),
        },
        { parent: this },
      );
    const policies = [
      ruleDelivers(this.queue, "ResultsRuleDelivers"),
      ruleDelivers(this.undelivered, "ResultsRuleDeadLetters"),
    ];
    new aws.cloudwatch.EventTarget(
      `${name}-guardduty-results-target`,
      {
        rule: rule.name,
        arn: this.queue.arn,
        deadLetterConfig: { arn: this.undelivered.arn },
        retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 },
      },
      { parent: this, dependsOn: policies },
    );
    this.lambda = airlockFunction(
      {
        name: `${name}-guardduty`,
        handler: "guardduty",
        code: args.code,
        env: args.decide.env,
        statements: [...args.decide.statements, consumeQueues(this.queue)],
      },
      config,
      this,
    );
    consumer(`${name}-guardduty-mapping`, this.queue, this.lambda.fn, config, this);
    this.registerOutputs({ planArn: this.plan.arn, queueUrl: this.queue.url });
  }
}
