/** Notifier on an SNS topic: the verdict mail, with attributes subscribers filter on. */
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { Notifier, OutgoingNotification } from "../ports/index.ts";

export class SnsNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(message: OutgoingNotification): Promise<string> {
    const out = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: message.subject,
        Message: message.body,
        MessageAttributes: Object.fromEntries(
          Object.entries(message.attributes).map(([name, value]) => [
            name,
            { DataType: "String", StringValue: value },
          ]),
        ),
      }),
    );
    return out.MessageId ?? "";
  }
}
