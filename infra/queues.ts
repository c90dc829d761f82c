/**
 * The queue shape every consumer in Airlock uses: an encrypted SQS queue whose visibility is six times the
 * function timeout (so a running invocation is never redelivered), backed by an encrypted dead-letter queue after
 * `maxReceiveCount` receives; and the statement that lets a function consume exactly its own queues.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AirlockConfig } from "./config.ts";
import type { Statement } from "./iam.ts";

export function queueWithDlq(
  names: { queue: string; dlq: string },
  key: aws.kms.Key,
  config: AirlockConfig,
  parent: pulumi.Resource,
): { queue: aws.sqs.Queue; dlq: aws.sqs.Queue } {
  // SQS guidance: visibility at least six times the function timeout, so retries do not overlap.
  const visibility = config.lambdaTimeoutSeconds * 6;
  const dlq = new aws.sqs.Queue(
    names.dlq,
    {
      kmsMasterKeyId: key.arn,
      messageRetentionSeconds: 14 * 24 * 3600,
      visibilityTimeoutSeconds: visibility,
    },
    { parent },
  );
  const queue = new aws.sqs.Queue(
    names.queue,
    {
      kmsMasterKeyId: key.arn,
      visibilityTimeoutSeconds: visibility,
      messageRetentionSeconds: 4 * 24 * 3600,
      redrivePolicy: pulumi.jsonStringify({
        deadLetterTargetArn: dlq.arn,
        maxReceiveCount: config.maxReceiveCount,
      }),
    },
    { parent },
  );
  return { queue, dlq };
}

/**
 * A function consuming a queue: batches of ten, partial batch responses, and a concurrency cap, so that a
 * burst of files does not become hundreds of invocations at once against one clamd task or Textract's quotas.
 */
export function consumer(
  name: string,
  queue: aws.sqs.Queue,
  fn: aws.lambda.Function,
  config: AirlockConfig,
  parent: pulumi.Resource,
): aws.lambda.EventSourceMapping {
  return new aws.lambda.EventSourceMapping(
    name,
    {
      eventSourceArn: queue.arn,
      functionName: fn.arn,
      batchSize: 10,
      maximumBatchingWindowInSeconds: 0,
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: { maximumConcurrency: config.maxConcurrency },
    },
    { parent },
  );
}

/**
 * A queue for what an SNS topic could not deliver to one of its subscriptions (the subscriptions' redrive
 * policy), with the queue policy that lets exactly that topic send to it. Without it, SNS drops a message
 * after its retries, and an email or a stage's event is lost without a trace.
 */
export function undeliveredQueue(
  name: string,
  topic: aws.sns.Topic,
  key: aws.kms.Key,
  parent: pulumi.Resource,
): { queue: aws.sqs.Queue; redrivePolicy: pulumi.Output<string>; policy: aws.sqs.QueuePolicy } {
  const queue = new aws.sqs.Queue(
    name,
    { kmsMasterKeyId: key.arn, messageRetentionSeconds: 14 * 24 * 3600 },
    { parent },
  );
  const policy = new aws.sqs.QueuePolicy(
    `${name}-policy`,
    {
      queueUrl: queue.url,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "TopicMovesUndelivered",
            Effect: "Allow",
            Principal: { Service: "sns.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: queue.arn,
            Condition: { ArnEquals: { "aws:SourceArn": topic.arn } },
          },
        ],
      }),
    },
    { parent },
  );
  return { queue, policy, redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: queue.arn }) };
}

export function consumeQueues(...queues: aws.sqs.Queue[]): Statement {
  return {
    Sid: "OwnQueues",
    Effect: "Allow",
    Action: [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ChangeMessageVisibility",
    ],
    Resource: queues.map((q) => q.arn),
  };
}
