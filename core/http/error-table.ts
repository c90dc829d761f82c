/**
 * The one place that maps the API's named errors to HTTP: each error's status, the public message (the error's
 * own message, written for the caller, unless said otherwise here) and the stable fields a client may read.
 * An error not in the table is not the client's doing: it escapes, and the error middleware answers a bare 500.
 */
import type { ErrorBody } from "../contract/api.ts";
import * as E from "../usecases/api/errors.ts";

type ErrorClass<T extends Error> = abstract new (...args: never[]) => T;

interface Entry<T extends Error> {
  type: ErrorClass<T>;
  status: number;
  /** The answer's body; by default `{ message: error.message }`. */
  body?: (error: T) => ErrorBody;
}

const entry = <T extends Error>(type: ErrorClass<T>, status: number, body?: (error: T) => ErrorBody) =>
  ({ type, status, body }) as Entry<Error>;

export const ERROR_TABLE: readonly Entry<Error>[] = [
  // The request itself
  entry(E.MalformedBodyError, 400),
  entry(E.InvalidBodyError, 422),
  entry(E.InvalidQueryError, 400),
  entry(E.InvalidCursorError, 400),
  // Uploads
  entry(E.FileTooLargeError, 413),
  entry(E.UnsupportedTypeError, 415),
  entry(E.InvalidFileNameError, 422, (e) => ({ message: e.message, code: e.code })),
  entry(E.ExtensionMismatchError, 422, (e) => ({ message: e.message, code: "name-extension-mismatch" })),
  entry(E.NoSuchUploadError, 404),
  entry(E.NotMultipartError, 409),
  entry(E.UploadExpiredError, 409),
  entry(E.PartsMismatchError, 422),
  entry(E.UploadClosedError, 409),
  // Storage refusals (the client's doing)
  entry(E.UploadNotOpenError, 409, (e) => ({
    message: e.landed ? "This upload was already completed" : e.message,
  })),
  entry(E.InvalidPartError, 422),
  entry(E.InvalidPartOrderError, 422),
  entry(E.PartTooSmallError, 422),
  // Files
  entry(E.NoSuchFileError, 404),
  entry(E.FileDeletedError, 410),
  entry(E.NotDownloadableError, 409, (e) => ({ message: e.message, status: e.status })),
  entry(E.NotPreviewableError, 409),
  entry(E.FileBusyError, 409, (e) => ({ message: e.message, status: e.status })),
  entry(E.FileChangedError, 409),
];

/** The status and body for a named error; undefined for anything else. */
export function errorResponse(error: unknown): { status: number; body: ErrorBody } | undefined {
  if (!(error instanceof Error)) return undefined;
  const found = ERROR_TABLE.find((e) => error instanceof e.type);
  if (!found) return undefined;
  return { status: found.status, body: found.body ? found.body(error) : { message: error.message } };
}
