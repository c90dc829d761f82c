/**
 * The two ways a command ends badly: a usage mistake (exit 2, with a pointer to `--help`) and a failure to do
 * the work (exit 1). Both are one plain sentence on stderr; nothing else reaches the user as a stack trace.
 */

/** The work could not be done (no stack running, unknown file, a refused request): exit 1. */
export class CliError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CliError";
  }
}

/** The command line itself is wrong (a bad value, a missing argument, options that exclude each other): exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** The error code of a Node or SDK network failure, looking through `cause`. */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
