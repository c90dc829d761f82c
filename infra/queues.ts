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
