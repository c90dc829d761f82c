/**
 * One line of progress on stderr, redrawn in place: bytes, rate and ETA for transfers, a counter for waits.
 * Only on a terminal and only when asked (`--no-progress` turns it off): piped or redirected output stays clean.
 * Hand-written (about fifty lines) rather than a progress-bar package: it has to share the line with the
 * summary and never write when stderr is not a TTY, which is simplest to guarantee here.
 */
import { formatSize } from "../../core/domain/format.ts";

export interface ProgressSink {
  /** Redraws the line (at most every 100 ms unless `force`). */
  update(render: () => string, force?: boolean): void;
  /** Clears the line so that normal output can follow. */
  clear(): void;
}

export const SILENT: ProgressSink = { update: () => {}, clear: () => {} };

export function progressSink(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressSink {
  if (!enabled || !stream.isTTY) return SILENT;
  let last = 0;
  let drawn = false;
  return {
    update(render, force = false) {
      const now = Date.now();
      if (!force && now - last < 100) return;
      last = now;
      const width = Math.max(20, (stream.columns || 80) - 1);
      stream.write(`\r\x1b[2K${render().slice(0, width)}`);
      drawn = true;
    },
    clear() {
      if (drawn) stream.write("\r\x1b[2K");
      drawn = false;
    },
  };
}

/** Bytes per second over the last few seconds, so the ETA follows changes of pace. */
export class Rate {
  private samples: { at: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 5000) {}

  add(bytes: number, at = Date.now()): void {
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && (this.samples[0]?.at ?? at) < at - this.windowMs) this.samples.shift();
  }

  perSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at <= first.at) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

export function bar(fraction: number, width = 20): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

/** `[####----] 412.0 MiB/1.0 GiB  52.3 MiB/s  ETA 0:12` (fits 80 columns with a label of 20). */
export function transferLine(done: number, total: number, bytesPerSecond: number, eta?: number): string {
  const left = eta ?? (bytesPerSecond > 0 ? (total - done) / bytesPerSecond : Number.NaN);
  return `${bar(total > 0 ? done / total : 0, 16)} ${formatSize(done)}/${formatSize(total)}  ${formatSize(Math.round(bytesPerSecond))}/s  ETA ${formatDuration(left)}`;
}

/** A file name cut to `max` characters for a progress line. */
export function label(name: string, max = 20): string {
  return name.length <= max ? name : `${name.slice(0, max - 1)}…`;
}
