/** The upload-session ports: one session per API upload, admitting one object and closed once. */
import type { UploadSession } from "../domain/types.ts";

export type UploadClosure = "completed" | "aborted";

/** What the pipeline needs: the session behind an API upload's key (its owner and declared size). */
export interface UploadSessionLookup {
  getUploadSession(fileId: string): Promise<UploadSession | undefined>;
}

/** What the API needs besides: opening, closing and re-opening sessions. */
export interface UploadSessions extends UploadSessionLookup {
  putUploadSession(session: UploadSession): Promise<void>;
  /**
   * Closes a multipart upload session once, as completed or aborted (a conditional write): `won` for the caller
   * that closed it, otherwise how it had been closed. `expiresAt` (epoch seconds) lets the store forget it.
   */
  closeUploadSession(
    fileId: string,
    how: UploadClosure,
    expiresAt: number,
  ): Promise<{ won: boolean; how: UploadClosure }>;
  /** Re-opens a session this caller closed as `how` when the storage service refused the completion or abort. */
  reopenUploadSession(fileId: string, how: UploadClosure): Promise<void>;
}
