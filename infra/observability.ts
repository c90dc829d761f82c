/**
 * Observability: alarms, all to an encrypted alarm topic, that fire when a stage gives up, when a notification
 * is not delivered, and when the pipeline falls behind or breaks:
 * - a stage gave up on a file: the dead-letter function ran at all (it drains the stage DLQs at once, so a DLQ's
 *   depth would stay at zero), or the sweeper failed stuck files (a metric filter on its "Sweep finished" log);
 * - a dead-letter queue holds messages (the dead-letter function itself is failing);
 * - a topic failed to deliver (NumberOfNotificationsFailed) or a holding queue of undelivered messages is not
 *   empty (SNS subscriptions' and the EventBridge rule's dead letters), or an EventBridge rule failed an invocation;
 * - a stage queue's oldest message is older than five minutes; a function errs or is throttled;
 * - the stack's own ClamAV service has no healthy clamd task (every ClamAV scan then fails).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Clamav } from "./clamav.ts";
import type { AirlockConfig } from "./config.ts";
import type { AirlockFunction } from "./lambda.ts";

export interface ObservabilityArgs {
  config: AirlockConfig;
  key: aws.kms.Key;
  /** Work queues and their dead-letter queues. */
  queues: { name: string; queue: aws.sqs.Queue; dlq: aws.sqs.Queue }[];
  /** Queues that only hold what could not be delivered: any message is an alarm. */
  holding: { name: string; queue: aws.sqs.Queue }[];
  /** Topics whose failed deliveries are alarmed. */
  topics: { name: string; topic: aws.sns.Topic }[];
  /** EventBridge rules whose failed invocations are alarmed. */
  rules: { name: string; rule: aws.cloudwatch.EventRule }[];
  /** The function that fails dead-lettered files: each invocation means a stage gave up. */
  deadLetter: AirlockFunction;
  /** The sweeper, which fails files stuck in PENDING. */
  sweeper: AirlockFunction;
  functions: AirlockFunction[];
  /** The stack's ClamAV service, when it runs one. */
  clamav?: Clamav;
}

/** The custom metric the sweeper's log feeds: files it failed because they stayed stuck. */
export const SWEEPER_FAILED_METRIC = { namespace: "Airlock", name: "FilesFailedStuck" } as const;

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
    const alarm = (
      id: string,
      spec: Omit<aws.cloudwatch.MetricAlarmArgs, "alarmActions" | "okActions">,
      options: pulumi.CustomResourceOptions = {},
    ) => {
      this.alarms.push(
        new aws.cloudwatch.MetricAlarm(
          `${name}-${id}`,
          {
            treatMissingData: "notBreaching",
            ...spec,
            alarmActions: [this.alarmTopic.arn],
            okActions: [this.alarmTopic.arn],
          },
          { parent: this, ...options },
        ),
      );
    };
    const anyMessage = (queue: aws.sqs.Queue) => ({
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: queue.name },
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
    });
    const anyOf = (
      namespace: string,
      metricName: string,
      dimensions: Record<string, pulumi.Input<string>>,
    ) => ({
      namespace,
      metricName,
      dimensions,
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
    });

    alarm("stage-gave-up", {
      alarmDescription:
        "Airlock: a stage gave up on files after maxReceiveCount deliveries; the dead-letter function failed them",
      ...anyOf("AWS/Lambda", "Invocations", { FunctionName: args.deadLetter.fn.name }),
    });
    new aws.cloudwatch.LogMetricFilter(
      `${name}-sweeper-failed`,
      {
        logGroupName: args.sweeper.logGroup.name,
        pattern: '{ $.message = "Sweep finished" && $.failed > 0 }',
        metricTransformation: {
          namespace: SWEEPER_FAILED_METRIC.namespace,
          name: SWEEPER_FAILED_METRIC.name,
          value: "$.failed",
          unit: "Count",
        },
      },
      { parent: this },
    );
    alarm("sweeper-failed-files", {
      alarmDescription: "Airlock: the sweeper failed files that stayed stuck in PENDING",
      ...anyOf(SWEEPER_FAILED_METRIC.namespace, SWEEPER_FAILED_METRIC.name, {}),
    });

    for (const { name: stage, queue, dlq } of args.queues) {
      alarm(`${stage}-dlq-not-empty`, {
        alarmDescription: `Airlock: messages wait in the ${stage} dead-letter queue (is the dead-letter function failing?)`,
        ...anyMessage(dlq),
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
    for (const { name: what, queue } of args.holding) {
      alarm(`${what}-undelivered`, {
        alarmDescription: `Airlock: ${what} messages could not be delivered and are held`,
        ...anyMessage(queue),
      });
    }
    for (const { name: what, topic } of args.topics) {
      alarm(`${what}-delivery-failed`, {
        alarmDescription: `Airlock: the ${what} topic failed to deliver notifications`,
        ...anyOf("AWS/SNS", "NumberOfNotificationsFailed", { TopicName: topic.name }),
      });
    }
    for (const { name: what, rule } of args.rules) {
      alarm(`${what}-rule-failed`, {
        alarmDescription: `Airlock: the ${what} EventBridge rule failed to deliver events`,
        ...anyOf("AWS/Events", "FailedInvocations", { RuleName: rule.name }),
      });
    }
    args.functions.forEach((f, i) => {
      for (const metric of ["Errors", "Throttles"]) {
        alarm(`fn${i}-${metric.toLowerCase()}`, {
          alarmDescription: pulumi.interpolate`Airlock: ${metric.toLowerCase()} in ${f.fn.name}`,
          ...anyOf("AWS/Lambda", metric, { FunctionName: f.fn.name }),
        });
      }
    });
    const { clamav } = args;
    if (clamav) {
      // It was the ClamAV component's child before: the alias keeps it in place.
      alarm(
        "clamav-unhealthy",
        {
          alarmDescription: "Airlock: no healthy clamd task; ClamAV scans fail until one is back",
          namespace: "AWS/NetworkELB",
          metricName: "HealthyHostCount",
          dimensions: { LoadBalancer: clamav.balancer.arnSuffix, TargetGroup: clamav.targets.arnSuffix },
          statistic: "Minimum",
          period: 60,
          evaluationPeriods: 5,
          threshold: 1,
          comparisonOperator: "LessThanThreshold",
          treatMissingData: "breaching",
        },
        { aliases: [{ parent: clamav }] },
      );
    }
    this.registerOutputs({ alarmTopicArn: this.alarmTopic.arn });
  }
}
