/**
 * OCR with Amazon Textract: the completion channel of asynchronous jobs (an encrypted SNS topic Textract
 * publishes to through its own service role, an encrypted SQS queue with a DLQ), and the continuation Lambda
 * that reads finished jobs and completes the metadata stage (it decides like a stage: `decide.ts`). Created
 * whatever the `ocr` setting (idle, it costs nothing); Textract is only called when `ocr` is not `off`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AirlockConfig } from "./config.ts";
import { type Deciding, textEnv } from "./decide.ts";
import { type Statement, serviceRole } from "./iam.ts";
import { type AirlockFunction, airlockFunction } from "./lambda.ts";
import { consumeQueues, consumer, queueWithDlq, undeliveredQueue } from "./queues.ts";

/** Textract has no resource-level permissions for these actions: they are only allowed on `Resource: "*"`. */
export const TEXTRACT_START = ["textract:DetectDocumentText", "textract:StartDocumentTextDetection"];
export const TEXTRACT_READ = ["textract:GetDocumentTextDetection"];

export interface OcrArgs {
  config: AirlockConfig;
  key: aws.kms.Key;
  accountId: pulumi.Input<string>;
  /** The continuation's bundle. */
  code: pulumi.asset.Archive;
  /** What the continuation needs to record the metadata result and settle the file. */
  decide: Deciding;
}

export class Ocr extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  /** The role Textract assumes to publish job completions. */
  readonly serviceRole: aws.iam.Role;
  readonly queue: aws.sqs.Queue;
  readonly dlq: aws.sqs.Queue;
  /** Completions the topic could not deliver to the queue. */
  readonly undelivered: aws.sqs.Queue;
  /** The continuation: reads finished jobs, records the metadata result and settles like a stage. */
  readonly lambda: AirlockFunction;
  /** What the metadata stage may do with Textract: start work, and hand Textract its publishing role. */
  readonly startStatements: Statement[];

  constructor(name: string, args: OcrArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airlock:ocr:Ocr", name, {}, opts);
    const { config, key } = args;
    this.topic = new aws.sns.Topic(`${name}-ocr`, { kmsMasterKeyId: key.arn }, { parent: this });
    this.serviceRole = serviceRole(
      `${name}-textract-role`,
      "textract.amazonaws.com",
      args.accountId,
      "Airlock: Textract publishes OCR job completions",
      this,
    );
    new aws.iam.RolePolicy(
      `${name}-textract-policy`,
      {
        role: this.serviceRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "PublishCompletions",
              Effect: "Allow",
              Action: ["sns:Publish"],
              Resource: [this.topic.arn],
            },
            {
              Sid: "EncryptedTopic",
              Effect: "Allow",
              Action: ["kms:GenerateDataKey", "kms:Decrypt"],
              Resource: [key.arn],
            },
          ],
        }),
      },
      { parent: this },
    );
    const queues = queueWithDlq({ queue: `${name}-ocr-queue`, dlq: `${name}-ocr-dlq` }, key, config, this);
    this.queue = queues.queue;
    this.dlq = queues.dlq;
    new aws.sqs.QueuePolicy(
      `${name}-ocr-queue-policy`,
      {
        queueUrl: this.queue.url,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "OcrTopicDelivers",
              Effect: "Allow",
              Principal: { Service: "sns.amazonaws.com" },
              Action: "sqs:SendMessage",
              Resource: this.queue.arn,
              Condition: { ArnEquals: { "aws:SourceArn": this.topic.arn } },
            },
          ],
        }),
      },
      { parent: this },
    );
    const undelivered = undeliveredQueue(`${name}-ocr-undelivered`, this.topic, key, this);
    this.undelivered = undelivered.queue;
    new aws.sns.TopicSubscription(
      `${name}-ocr-subscription`,
      {
        topic: this.topic.arn,
        protocol: "sqs",
        endpoint: this.queue.arn,
        rawMessageDelivery: false,
        redrivePolicy: undelivered.redrivePolicy,
      },
      { parent: this, dependsOn: [undelivered.policy] },
    );
    this.startStatements = [
      { Sid: "TextractStart", Effect: "Allow", Action: TEXTRACT_START, Resource: ["*"] },
      {
        Sid: "PassTextractRole",
        Effect: "Allow",
        Action: ["iam:PassRole"],
        Resource: [this.serviceRole.arn],
      },
    ];

    this.lambda = airlockFunction(
      {
        name: `${name}-ocr`,
        handler: "ocr",
        code: args.code,
        env: { ...args.decide.env, ...textEnv(config) },
        statements: [
          ...args.decide.statements,
          { Sid: "TextractRead", Effect: "Allow", Action: TEXTRACT_READ, Resource: ["*"] },
          consumeQueues(this.queue),
        ],
      },
      config,
      this,
    );
    consumer(`${name}-ocr-mapping`, this.queue, this.lambda.fn, config, this);
    this.registerOutputs({ topicArn: this.topic.arn, queueUrl: this.queue.url });
  }
}
