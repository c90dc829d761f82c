/**
 * Observability: alarms on every dead-letter queue (any message), on the age of the oldest message of every
 * stage queue, and on every function's errors and throttles, all to an encrypted alarm topic.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AirlockConfig } from "./config.ts";
import type { AirlockFunction } from "./lambda.ts";

export interface ObservabilityArgs {
  config: AirlockConfig;
  key: aws.kms.Key;
  queues: { name: string; queue: aws.sqs.Queue; dlq: aws.sqs.Queue }[];
  functions: AirlockFunction[];
}

export class Observability extends pulumi.ComponentResource {
  readonly alarmTopic: aws.sns.Topic;
  readonly alarms: aws.cloudwatch.MetricAlarm[] = [];

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airlock:observability:Observability", name, {}, opts);
    this.alarmTopic = new aws.sns.Topic(`${name}-alarms`, { kmsMasterKeyId: args.key.arn }, { parent: this });
    if (args.config.alarmEmail) {
      new aws.sns.TopicSubscription(
        `${name}-alarm-email`,
        { topic: this.alarmTopic.arn, protocol: "email", endpoint: args.config.alarmEmail },
        { parent: this },
      );
    }
    const alarm = (id: string, spec: Omit<aws.cloudwatch.MetricAlarmArgs, "alarmActions" | "okActions">) => {
      this.alarms.push(
        new aws.cloudwatch.MetricAlarm(
          `${name}-${id}`,
          {
            ...spec,
            alarmActions: [this.alarmTopic.arn],
            okActions: [this.alarmTopic.arn],
            treatMissingData: "notBreaching",
          },
          { parent: this },
        ),
      );
    };
    for (const { name: stage, queue, dlq } of args.queues) {
      alarm(`${stage}-dlq-not-empty`, {
        alarmDescription: `Airlock: messages in the ${stage} dead-letter queue (files were failed)`,
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: dlq.name },
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
      });
      alarm(`${stage}-oldest-message`, {
        alarmDescription: `Airlock: the ${stage} queue is falling behind`,
        namespace: "AWS/SQS",
        metricName: "ApproximateAgeOfOldestMessage",
        dimensions: { QueueName: queue.name },
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: 5,
        threshold: 300,
        comparisonOperator: "GreaterThanThreshold",
      });
    }
    args.functions.forEach((f, i) => {
      for (const metric of ["Errors", "Throttles"]) {
        alarm(`fn${i}-${metric.toLowerCase()}`, {
          alarmDescription: pulumi.interpolate`Airlock: ${metric.toLowerCase()} in ${f.fn.name}`,
          namespace: "AWS/Lambda",
          metricName: metric,
          dimensions: { FunctionName: f.fn.name },
          statistic: "Sum",
          period: 300,
          evaluationPeriods: 1,
          threshold: 0,
          comparisonOperator: "GreaterThanThreshold",
        });
      }
    });
    this.registerOutputs({ alarmTopicArn: this.alarmTopic.arn });
  }
}
