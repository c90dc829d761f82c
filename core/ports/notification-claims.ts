/** The notification-claim port: one verdict notification per object version, claimed before it is sent. */
import type { ObjectVersion } from "../domain/types.ts";

export interface NotificationClaims {
  /**
   * Claims the right to send the verdict notification for `leaseSeconds`; false when it was sent (confirmed), or
   * another caller holds a claim that has not lapsed. A lapsed claim without confirmation can be claimed again.
   */
  claimNotification(fileId: string, version: ObjectVersion, leaseSeconds: number): Promise<boolean>;
  /** Gives the claim back after a failed send, so a retry can claim it again. */
  releaseNotification(fileId: string, version: ObjectVersion): Promise<void>;
  confirmNotification(fileId: string, version: ObjectVersion, messageId: string): Promise<void>;
}
