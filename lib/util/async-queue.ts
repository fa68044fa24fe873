/**
 * An unbounded single-consumer queue: producers push, one consumer awaits.
 * `close()` ends the consumer's iteration after the queued items; `fail()`
 * makes its next read throw.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private error: unknown;

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  fail(err: unknown): void {
    this.error = err;
    this.closed = true;
    this.notify();
  }

  get size(): number {
    return this.items.length;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Next item, or undefined when closed and drained, or when `timeoutMs` passes first ('timeout'). */
  async next(timeoutMs?: number): Promise<{ item: T } | 'closed' | 'timeout'> {
    for (;;) {
      if (this.items.length > 0) return { item: this.items.shift()! };
      if (this.error !== undefined) throw this.error;
      if (this.closed) return 'closed';
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await new Promise<boolean>((resolve) => {
        this.wake = () => resolve(false);
        if (timeoutMs !== undefined) timer = setTimeout(() => resolve(true), timeoutMs);
      });
      if (timer) clearTimeout(timer);
      if (timedOut) {
        this.wake = undefined;
        return 'timeout';
      }
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const r = await this.next();
      if (r === 'closed' || r === 'timeout') return;
      yield r.item;
    }
  }
}
