/**
 * Notifications: the KMS-encrypted verdict topic, email subscribers, and an example of a filtered subscription
 * (alert addresses receive only INFECTED and FAILED verdicts, by the `status` message attribute). What SNS
 * cannot deliver goes to an encrypted queue (every subscription's redrive policy), which is alarmed.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AirlockConfig } from "./config.ts";
import { undeliveredQueue } from "./queues.ts";

export interface NotificationsArgs {
  config: AirlockConfig;
  key: aws.kms.Key;
}

export const ALERT_FILTER = { status: ["INFECTED", "FAILED"] } as const;

export class Notifications extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  /** Verdicts SNS could not deliver to a subscriber after its retries (a bouncing address, a deleted endpoint). */
  readonly undelivered?: aws.sqs.Queue;

  constructor(name: string, args: NotificationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airlock:notifications:Notifications", name, {}, opts);
    this.topic = new aws.sns.Topic(`${name}-verdicts`, { kmsMasterKeyId: args.key.arn }, { parent: this });
    const subscribers = args.config.notificationEmails.length + args.config.alertEmails.length;
    const undelivered =
      subscribers > 0
        ? undeliveredQueue(`${name}-verdicts-undelivered`, this.topic, args.key, this)
        : undefined;
    this.undelivered = undelivered?.queue;
    const redrive = undelivered ? { redrivePolicy: undelivered.redrivePolicy } : {};
    const after = { parent: this, dependsOn: undelivered ? [undelivered.policy] : [] };
    args.config.notificationEmails.forEach((email, i) => {
      new aws.sns.TopicSubscription(
        `${name}-email-${i}`,
        { topic: this.topic.arn, protocol: "email", endpoint: email, ...redrive },
        after,
      );
    });
    args.config.alertEmails.forEach((email, i) => {
      new aws.sns.TopicSubscription(
        `${name}-alert-${i}`,
        {
          topic: this.topic.arn,
          protocol: "email",
          endpoint: email,
          filterPolicyScope: "MessageAttributes",
          filterPolicy: JSON.stringify(ALERT_FILTER),
          ...redrive,
        },
        after,
      );
    });
    this.registerOutputs({ topicArn: this.topic.arn });
  }
}
