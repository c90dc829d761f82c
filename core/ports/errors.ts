/**
 * The errors ports raise, whatever adapter stands behind them. Every one takes `{ cause }`, so an adapter can
 * keep the service error it translated.
 */

/** Raised by an ObjectStore asked to act on an object version that has neither a version id nor an ETag. */
export class UnpinnedObjectError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnpinnedObjectError";
  }
}

/** Raised by ObjectStore.stream when the object is larger than the caller will read. */
export class ObjectTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly maxBytes: number,
    options?: ErrorOptions,
  ) {
    super(`the object is ${size} bytes, above the ${maxBytes} bytes it may have`, options);
    this.name = "ObjectTooLargeError";
  }
}

/**
 * Raised while reading a body from ObjectStore.streamWithChecksum when the bytes received are not the bytes the
 * store's checksum of the object version says: nothing read from that body may be trusted.
 */
export class ChecksumMismatchError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ChecksumMismatchError";
  }
}

/** Raised by an ObjectStore when the object no longer is the version an event named. */
export class ObjectVersionGoneError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ObjectVersionGoneError";
  }
}

/** Raised by an OcrEngine when the service could not do the work (after its throttling retries). */
export class OcrError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OcrError";
  }
}

/** Raised by a record store when a record it was conditionally writing disappeared under it. */
export class RecordVanishedError extends Error {
  constructor(
    readonly fileId: string,
    options?: ErrorOptions,
  ) {
    super(`File record ${fileId} vanished during a conditional write`, options);
    this.name = "RecordVanishedError";
  }
}

/** Raised by UploadSessions.putUploadSession when a session with that file id already exists. */
export class UploadSessionExistsError extends Error {
  constructor(
    readonly fileId: string,
    options?: ErrorOptions,
  ) {
    super(`An upload session for ${fileId} already exists`, options);
    this.name = "UploadSessionExistsError";
  }
}
