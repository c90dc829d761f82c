/**
 * Polling delays for files still being checked: quick at first (a verdict usually arrives in well under a
 * second), then slower and slower up to a ceiling, with jitter so that many tabs do not poll in step.
 */

export interface BackoffOptions {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** Fraction of the delay drawn at random, 0 for none. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 400, factor: 1.6, maxMs: 15_000, jitter: 0.2 };

/** The delay before poll number `attempt` (0-based). `random` returns [0, 1), as Math.random. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** Math.max(0, attempt));
  const spread = base * options.jitter;
  return Math.round(Math.min(options.maxMs, base - spread + 2 * spread * random()));
}

/** A poll schedule that restarts from the quick end when something changed. */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    return backoffDelay(this.attempt++, this.options, this.random);
  }

  reset(): void {
    this.attempt = 0;
  }
}
