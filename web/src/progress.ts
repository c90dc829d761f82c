/**
 * How far an upload is and how long it still takes: a percentage, and an estimate from the recent transfer
 * rate (an exponentially weighted average over the progress events, so that one slow or fast moment does not
 * swing it), said the way people say durations ("about 40 s", "about 3 min").
 */
import { formatSize } from "../../core/domain/format.ts";

export class TransferRate {
  private last?: { at: number; loaded: number };
  private rate?: number;

  /**
   * @param halfLifeMs how quickly older speed counts less
   * @param warmUpMs no estimate before this much time has passed since the first sample
   */
  constructor(
    private readonly halfLifeMs = 3_000,
    private readonly warmUpMs = 1_000,
  ) {}

  private first?: number;

  /** Records that `loaded` bytes are done at time `at` (ms). */
  sample(loaded: number, at: number): void {
    this.first ??= at;
    if (!this.last) {
      this.last = { at, loaded };
      return;
    }
    const elapsed = at - this.last.at;
    if (elapsed <= 0) {
      this.last.loaded = Math.max(this.last.loaded, loaded);
      return;
    }
    const instant = Math.max(0, loaded - this.last.loaded) / elapsed;
    const keep = 0.5 ** (elapsed / this.halfLifeMs);
    this.rate = this.rate === undefined ? instant : this.rate * keep + instant * (1 - keep);
    this.last = { at, loaded };
  }

  /** Bytes per second, once there is a rate to speak of. */
  bytesPerSecond(): number | undefined {
    return this.rate === undefined ? undefined : this.rate * 1000;
  }

  /**
   * Seconds left for `total` bytes at time `now` (ms; the last sample's time by default), or undefined while it
   * cannot be told. A transfer that has stalled since its last sample counts as slowing down, so the estimate
   * grows instead of promising "a moment" for ever.
   */
  secondsLeft(total: number, now?: number): number | undefined {
    if (!this.last || this.rate === undefined || this.first === undefined) return undefined;
    if (this.last.at - this.first < this.warmUpMs || this.rate <= 0) return undefined;
    const stalled = Math.max(0, (now ?? this.last.at) - this.last.at);
    const rate = this.rate * 0.5 ** (stalled / this.halfLifeMs);
    return Math.max(0, (total - this.last.loaded) / (rate * 1000));
  }
}

/** "about 5 s", "about 2 min", "about 1 h 10 min"; "a moment" under a second. */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return "a moment";
  if (seconds < 60) return `about ${Math.ceil(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `about ${hours} h${rest > 0 ? ` ${rest} min` : ""}`;
}

/** The progress line of an upload: `42% · 3.7 MiB of 8.8 MiB · about 5 s left`. */
export function progressText(loaded: number, total: number, secondsLeft?: number): string {
  const percent = total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 100;
  const eta = secondsLeft === undefined ? "" : ` · ${formatDuration(secondsLeft)} left`;
  return `${percent}% · ${formatSize(loaded)} of ${formatSize(total)}${eta}`;
}
