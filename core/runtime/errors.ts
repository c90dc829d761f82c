/** The runtime's errors: what stops a cold start. */

/** A missing or malformed environment variable; the message names every one. */
export class ConfigurationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConfigurationError";
  }
}

/** An `s3://` configuration object (blocklist, YARA rules) that is malformed or cannot be read at cold start. */
export class ConfigurationObjectError extends ConfigurationError {
  constructor(
    readonly url: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`Invalid configuration: ${url} ${problem}`, options);
    this.name = "ConfigurationObjectError";
  }
}
