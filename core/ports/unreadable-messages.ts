/** The unreadable-message port: queue messages nothing can read, kept so they are not lost. */

export interface UnreadableMessages {
  /** Keeps a message nothing can read, so that it is not lost when its queue lets go of it. */
  keepUnreadable(queue: string, messageId: string, body: string): Promise<void>;
}
