/**
 * HTTP errors the API may show its callers: each carries its status and a message written for them.
 * Anything else that escapes a route becomes a bare 500 with no detail.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>) =>
  new HttpError(400, message, details);
export const notFound = (message = "No such file") => new HttpError(404, message);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new HttpError(409, message, details);
export const gone = (message: string) => new HttpError(410, message);
export const tooLarge = (message: string) => new HttpError(413, message);
export const unsupportedType = (message: string) => new HttpError(415, message);
export const unprocessable = (message: string) => new HttpError(422, message);
