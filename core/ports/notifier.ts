/** The notification port: where verdicts are announced. */

export interface OutgoingNotification {
  subject: string;
  body: string;
  attributes: Record<string, string>;
}

export interface Notifier {
  /** Publishes one message; returns its message id. */
  publish(message: OutgoingNotification): Promise<string>;
}
