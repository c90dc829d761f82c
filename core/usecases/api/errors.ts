/**
 * What the API's use cases refuse, by name. Each error says what went wrong in terms of the request; the HTTP
 * edge (core/http/error-table.ts) maps each one to its status and public message, in one place. The upload
 * storage adapter raises the storage errors below for the storage service's refusals (S3's `InvalidPart`,
 * `NoSuchUpload`, …), so no use case sees an SDK error name.
 */

abstract class ApiUseCaseError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

// --- The request itself ---------------------------------------------------------------------------------

/** The request body is not JSON at all. */
export class MalformedBodyError extends ApiUseCaseError {}

/** A body field breaks the contract (`field` is its path, or `body`). */
export class InvalidBodyError extends ApiUseCaseError {
  constructor(
    readonly field: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`Invalid request: ${field} ${problem}`, options);
  }
}

/** A query parameter breaks the contract. */
export class InvalidQueryError extends ApiUseCaseError {
  constructor(
    readonly field: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`Invalid query: ${field} ${problem}`, options);
  }
}

/** A list cursor that was edited, replayed by another owner, or is not a cursor. */
export class InvalidCursorError extends ApiUseCaseError {}

// --- Uploads --------------------------------------------------------------------------------------------

export class FileTooLargeError extends ApiUseCaseError {
  constructor(
    readonly size: number,
    readonly maxSizeBytes: number,
    options?: ErrorOptions,
  ) {
    super(`The file is ${size} bytes; the limit is ${maxSizeBytes} bytes`, options);
  }
}

export class UnsupportedTypeError extends ApiUseCaseError {
  constructor(
    readonly contentType: string,
    options?: ErrorOptions,
  ) {
    super(`Files of type ${contentType} are not accepted`, options);
  }
}

/** The file name cannot be used (the file-name policy's code and words). */
export class InvalidFileNameError extends ApiUseCaseError {
  constructor(
    readonly code: string | undefined,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`Invalid request: filename ${problem}`, options);
  }
}

/** The name's extension is missing or stands for another type than the declared Content-Type. */
export class ExtensionMismatchError extends ApiUseCaseError {
  constructor(
    readonly extension: string,
    readonly contentType: string,
    readonly example: string,
    options?: ErrorOptions,
  ) {
    super("", options);
    this.message =
      extension === ""
        ? `Invalid request: filename needs an extension for ${contentType} (such as .${example})`
        : `Invalid request: filename extension .${extension} does not match ${contentType} (such as .${example})`;
  }
}

/** No upload session with this id for this owner (another owner's session is not shown either). */
export class NoSuchUploadError extends ApiUseCaseError {
  constructor(options?: ErrorOptions) {
    super("No such upload", options);
  }
}

export class NotMultipartError extends ApiUseCaseError {
  constructor(options?: ErrorOptions) {
    super("This upload is not a multipart upload", options);
  }
}

export class UploadExpiredError extends ApiUseCaseError {
  constructor(
    readonly expiredAt: string,
    options?: ErrorOptions,
  ) {
    super(`This upload expired at ${expiredAt}; start a new upload`, options);
  }
}

/** The parts listed do not cover the upload's plan, each part once. */
export class PartsMismatchError extends ApiUseCaseError {
  constructor(
    readonly expected: number,
    options?: ErrorOptions,
  ) {
    super(
      `Invalid request: this upload has ${expected} part${expected === 1 ? "" : "s"}; list each of parts 1 to ${expected} once`,
      options,
    );
  }
}

/**
 * The session was already closed: `closed` says how, `attempted` what the caller tried. Completing a completed
 * or aborted upload, or aborting a completed one (aborting an aborted one is done, not an error).
 */
export class UploadClosedError extends ApiUseCaseError {
  constructor(
    readonly closed: "completed" | "aborted",
    readonly attempted: "complete" | "abort",
    options?: ErrorOptions,
  ) {
    super(
      closed === "aborted"
        ? "This upload was aborted; start a new upload"
        : attempted === "abort"
          ? "This upload was already completed; delete the file instead"
          : "This upload was already completed",
      options,
    );
  }
}

// --- Storage refusals (raised by the upload storage adapter; `cause` is the storage service's error) -----

/** The storage service no longer knows the multipart upload: completed, aborted or expired there. */
export class UploadNotOpenError extends ApiUseCaseError {
  /** Set by the use case: true when the file has landed (the upload was completed after all). */
  landed = false;
  constructor(options?: ErrorOptions) {
    super("This upload is no longer open: it was aborted or has expired; start a new upload", options);
  }
}

/** A listed part was never uploaded, or its ETag is not the one the storage service returned. */
export class InvalidPartError extends ApiUseCaseError {
  constructor(options?: ErrorOptions) {
    super(
      "A part was never uploaded, or its ETag is not the one the storage service returned for it",
      options,
    );
  }
}

export class InvalidPartOrderError extends ApiUseCaseError {
  constructor(options?: ErrorOptions) {
    super("The parts must be listed in ascending order of part number", options);
  }
}

/** A part other than the last is smaller than the storage service's minimum (the plan's part size). */
export class PartTooSmallError extends ApiUseCaseError {
  constructor(options?: ErrorOptions) {
    super("Every part but the last must be the size the upload plan gave it", options);
  }
}

/** The storage errors that are the client's doing (logged for operators, answered plainly). */
export type StorageRefusal =
  | UploadNotOpenError
  | InvalidPartError
  | InvalidPartOrderError
  | PartTooSmallError;

export function isStorageRefusal(error: unknown): error is StorageRefusal {
  return (
    error instanceof UploadNotOpenError ||
    error instanceof InvalidPartError ||
    error instanceof InvalidPartOrderError ||
    error instanceof PartTooSmallError
  );
}

// --- Files ----------------------------------------------------------------------------------------------

/** No file with this id for this owner (another owner's file is not shown either). */
export class NoSuchFileError extends ApiUseCaseError {
  constructor(options?: ErrorOptions) {
    super("No such file", options);
  }
}

export class FileDeletedError extends ApiUseCaseError {
  constructor(options?: ErrorOptions) {
    super("The file was deleted", options);
  }
}

/** Only VERIFIED files (with their clean copy) can be downloaded; `status` is the public status. */
export class NotDownloadableError extends ApiUseCaseError {
  constructor(
    readonly status: string,
    options?: ErrorOptions,
  ) {
    super(`The file is ${status}; only VERIFIED files can be downloaded`, options);
  }
}

export class NotPreviewableError extends ApiUseCaseError {
  constructor(options?: ErrorOptions) {
    super("Only images and PDF files can be previewed inline", options);
  }
}

/** The pipeline still works on the file: a delete would race its writes. */
export class FileBusyError extends ApiUseCaseError {
  readonly status = "PENDING";
  constructor(options?: ErrorOptions) {
    super("The file is still being checked; it can be deleted once it has a verdict", options);
  }
}

/** The record moved to another version between reading and marking it deleted. */
export class FileChangedError extends ApiUseCaseError {
  constructor(options?: ErrorOptions) {
    super("The file changed while it was being deleted; try again", options);
  }
}
