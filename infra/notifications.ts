/**
 * Notifications: the KMS-encrypted verdict topic, email subscribers, and an example of a filtered subscription
 * (alert addresses receive only INFECTED and FAILED verdicts, by the `status` message attribute).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AirlockConfig } from "./config.ts";

export interface NotificationsArgs {
  config: AirlockConfig;
  key: aws.kms.Key;
}

export const ALERT_FILTER = { status: ["INFECTED", "FAILED"] } as const;

export class Notifications extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;

  constructor(name: string, args: NotificationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airlock:notifications:Notifications", name, {}, opts);
    this.topic = new aws.sns.Topic(`${name}-verdicts`, { kmsMasterKeyId: args.key.arn }, { parent: this });
    args.config.notificationEmails.forEach((email, i) => {
      new aws.sns.TopicSubscription(
        `${name}-email-${i}`,
        { topic: this.topic.arn, protocol: "email", endpoint: email },
        { parent: this },
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
        },
        { parent: this },
      );
    });
    this.registerOutputs({ topicArn: this.topic.arn });
  }
}
