/**
 * One read of an object for several engines. Every branch sees every chunk in order; the source is pulled only
 * when no attached branch is more than `window` chunks behind, so the slowest engine paces the read and memory
 * holds at most `window` chunks whatever the object's size. A branch whose engine has finished (a finding, an
 * error, a size it refuses) is detached and never holds the others back.
 */
export interface TeeBranch {
  readonly stream: AsyncIterable<Uint8Array>;
  /** Stops this branch: the others no longer wait for it. Idempotent. */
  detach(): void;
}

export interface Tee {
  readonly branches: TeeBranch[];
  /** Chunks held right now (for tests and benchmarks). */
  heldChunks(): number;
}

export function tee(source: AsyncIterable<Uint8Array>, count: number, window = 4): Tee {
  const upstream = source[Symbol.asyncIterator]();
  const held: Uint8Array[] = []; // held[j] is chunk number base + j
  let base = 0;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let pulling: Promise<void> | undefined;
  const positions = new Array<number>(count).fill(0);
  const attached = new Array<boolean>(count).fill(true);
  let waiters: (() => void)[] = [];

  const wake = () => {
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  };
  const slowest = () => {
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < count; i++) if (attached[i]) min = Math.min(min, positions[i] as number);
    return min;
  };
  const release = () => {
    const keepFrom = slowest();
    while (held.length > 0 && base < keepFrom) {
      held.shift();
      base++;
    }
  };
  const pull = () => {
    pulling ??= (async () => {
      try {
        const next = await upstream.next();
        if (next.done) ended = true;
        else held.push(next.value);
      } catch (error) {
        failure = { error };
        ended = true;
      } finally {
        pulling = undefined;
        wake();
      }
    })();
    return pulling;
  };
  const detach = (i: number) => {
    if (!attached[i]) return;
    attached[i] = false;
    release();
    wake();
    // Nobody reads any more: let the source go (an S3 body releases its connection).
    if (!attached.includes(true) && !ended) {
      ended = true;
      void upstream.return?.()?.catch?.(() => undefined);
    }
  };

  async function* branch(i: number): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        if (!attached[i]) return;
        const k = positions[i] as number;
        if (k < base + held.length) {
          const chunk = held[k - base] as Uint8Array;
          positions[i] = k + 1;
          release();
          wake();
          yield chunk;
          continue;
        }
        if (failure) throw failure.error;
        if (ended) return;
        if (k - slowest() >= window) await new Promise<void>((resolve) => waiters.push(resolve));
        else await pull();
      }
    } finally {
      detach(i);
    }
  }

  return {
    branches: Array.from({ length: count }, (_, i) => ({ stream: branch(i), detach: () => detach(i) })),
    heldChunks: () => held.length,
  };
}
