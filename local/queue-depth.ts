/** How many messages a queue holds: visible, in flight (received, not yet deleted) and delayed. */
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";

export type QueueDepth = [visible: number, inFlight: number, delayed: number];

export async function queueDepth(sqs: SQSClient, url: string): Promise<QueueDepth> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  const a = out.Attributes ?? {};
  return [
    Number(a.ApproximateNumberOfMessages ?? 0),
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
  ];
}
