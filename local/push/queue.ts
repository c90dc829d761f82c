/** A bounded hand-over queue between the hashing pool and the upload pool (backpressure both ways). */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private readonly takers: ((item: T | undefined) => void)[] = [];
  private readonly putters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly capacity: number) {}

  /** Waits while the queue is full. */
  async put(item: T): Promise<void> {
    while (this.items.length >= this.capacity && !this.closed) {
      await new Promise<void>((resolve) => this.putters.push(resolve));
    }
    if (this.closed) return;
    const taker = this.takers.shift();
    if (taker) taker(item);
    else this.items.push(item);
  }

  /** The next item, or undefined once the queue is closed and empty. */
  async take(): Promise<T | undefined> {
    const item = this.items.shift();
    if (item !== undefined) {
      this.putters.shift()?.();
      return item;
    }
    if (this.closed) return undefined;
    return new Promise((resolve) => this.takers.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const taker of this.takers.splice(0)) taker(undefined);
    for (const putter of this.putters.splice(0)) putter();
  }
}
