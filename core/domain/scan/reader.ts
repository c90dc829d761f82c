/**
 * A pull reader over a stream of chunks: exact reads for container headers, chunk-at-a-time reads for bodies,
 * and unshift for bytes read past the end of a deflate stream. It holds only what a caller asked for plus at
 * most one source chunk, so memory does not grow with the stream.
 */
export class TruncatedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TruncatedError";
  }
}

export class ByteReader {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  /** Bytes pulled from the source so far. */
  consumed = 0;

  constructor(
    private readonly source: AsyncIterator<Uint8Array>,
    private readonly tap?: (chunk: Buffer) => void,
  ) {}

  /** Bytes handed to callers so far (the offset of the next byte). */
  get position(): number {
    return this.consumed - this.queued;
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value)
      ? next.value
      : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    if (chunk.length === 0) return true;
    this.consumed += chunk.length;
    this.tap?.(chunk);
    this.queue.push(chunk);
    this.queued += chunk.length;
    return true;
  }

  /** Buffers at least `n` bytes if the stream has them; returns how many are buffered. */
  async ensure(n: number): Promise<number> {
    while (this.queued < n && (await this.pull())) {}
    return this.queued;
  }

  /** The first `n` buffered bytes (fewer at the end of the stream), without consuming them. */
  peek(n: number): Buffer {
    if (this.queue.length === 1 || (this.queue[0]?.length ?? 0) >= n)
      return (this.queue[0] ?? Buffer.alloc(0)).subarray(0, n);
    const joined = Buffer.concat(this.queue);
    this.queue.length = 0;
    this.queue.push(joined);
    return joined.subarray(0, n);
  }

  /** Exactly `n` bytes (a copy: sources may reuse their buffers), or TruncatedError. */
  async read(n: number, what: string): Promise<Buffer> {
    if ((await this.ensure(n)) < n) throw new TruncatedError(`truncated ${what}`);
    const out = Buffer.from(this.peek(n));
    this.skipBuffered(n);
    return out;
  }

  /** Discards exactly `n` bytes without holding them, or TruncatedError. */
  async skip(n: number, what: string): Promise<void> {
    let left = n;
    while (left > 0) {
      const chunk = await this.chunk(left);
      if (!chunk) throw new TruncatedError(`truncated ${what}`);
      left -= chunk.length;
    }
  }

  private skipBuffered(n: number): void {
    let left = n;
    while (left > 0) {
      const head = this.queue[0] as Buffer;
      if (head.length <= left) {
        this.queue.shift();
        left -= head.length;
      } else {
        this.queue[0] = head.subarray(left);
        left = 0;
      }
    }
    this.queued -= n;
  }

  /** The next chunk of at most `max` bytes, or undefined at the end of the stream. */
  async chunk(max = Number.POSITIVE_INFINITY): Promise<Buffer | undefined> {
    while (this.queued === 0) if (!(await this.pull())) return undefined;
    const head = this.queue[0] as Buffer;
    const n = Math.min(head.length, max);
    this.skipBuffered(n);
    return head.subarray(0, n);
  }

  /** Puts bytes back in front (read past the end of a deflate stream). */
  unshift(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.queue.unshift(bytes);
    this.queued += bytes.length;
  }

  /** Reads to the end of the stream (every byte still passes the tap). */
  async drain(): Promise<void> {
    while (await this.chunk()) {}
  }

  /** Releases the source after an early stop (an inner stream's decompressor, or the caller's connection). */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    this.queued = 0;
    await this.source.return?.();
  }
}
