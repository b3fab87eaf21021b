/**
 * Writes that must not be lost while the database is locked by another process or the disk is full: votes,
 * result records, job rows. Each runs in its own transaction, strictly in the order they were queued. While
 * the head cannot be written, it is retried off the hot path with back-off; an attempt waits at most the
 * connection's short busy timeout (the store skips even that while it knows the file is locked), so the
 * event loop never blocks for long, and nothing is dropped.
 */

export interface WriteQueueOptions {
  /** Runs one write in its own transaction (synchronously: better-sqlite3 is synchronous). */
  readonly run: (work: () => unknown) => unknown;
  /** True for errors that go away by themselves (a lock, a full disk): retry. Others fail that write. */
  readonly isTransient: (error: unknown) => boolean;
  /** Called once when writes start waiting and once when they have all been written. */
  readonly onStall?: (error: unknown, waiting: number) => void;
  readonly onRecover?: (written: number, stalledMs: number) => void;
  /** Back-off between attempts on the head, in ms; the last value repeats. */
  readonly retryDelaysMs?: readonly number[];
}

interface Pending {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

const DEFAULT_RETRY_DELAYS_MS = [25, 50, 100, 200, 400, 500];

export class WriteQueue {
  readonly #options: WriteQueueOptions;
  readonly #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #stalledAt: number | undefined;
  #stalledBy: unknown;
  #writtenSinceStall = 0;
  #closed = false;

  constructor(options: WriteQueueOptions) {
    this.#options = options;
  }

  /** What keeps the head from being written (a lock, a full disk), while it is. */
  get stalledBy(): unknown {
    return this.#stalledAt === undefined ? undefined : this.#stalledBy;
  }

  /** Writes not yet committed. */
  get size(): number {
    return this.#pending.length;
  }

  /**
   * Queues `work`. When nothing is waiting it runs at once (synchronously, before this returns); otherwise
   * after everything queued before it. The promise settles once it is committed, or with the work's own
   * error (a bug or a constraint: never retried).
   */
  enqueue<T>(work: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("the store is closed"));
    const promise = new Promise<T>((resolve, reject) => {
      this.#pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
    });
    if (this.#pending.length === 1) this.flush();
    return promise;
  }

  /** Writes what it can now, in order; true when nothing is left waiting. */
  flush(): boolean {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#pending.length > 0) {
      const head = this.#pending[0] as Pending;
      let value: unknown;
      try {
        value = this.#options.run(head.work);
      } catch (error) {
        if (this.#options.isTransient(error)) {
          this.#stall(error);
          return false;
        }
        this.#pending.shift();
        head.reject(error);
        continue;
      }
      this.#pending.shift();
      this.#writtenSinceStall++;
      head.resolve(value);
    }
    this.#recovered();
    return true;
  }

  /** Keeps trying until every queued write is committed or `timeoutMs` passes; resolves with how many are left. */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (!this.flush() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, this.#delay()));
    }
    return this.#pending.length;
  }

  /** Stops retrying; what is still queued is rejected. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const pending of this.#pending.splice(0)) {
      pending.reject(new Error("the store was closed before this write could be committed"));
    }
  }

  #stall(error: unknown): void {
    this.#stalledBy = error;
    if (this.#stalledAt === undefined) {
      this.#stalledAt = Date.now();
      this.#writtenSinceStall = 0;
      this.#options.onStall?.(error, this.#pending.length);
    }
    const delay = this.#delay();
    this.#attempt++;
    this.#timer = setTimeout(() => this.flush(), delay);
  }

  #recovered(): void {
    this.#attempt = 0;
    if (this.#stalledAt === undefined) return;
    const stalledMs = Date.now() - this.#stalledAt;
    this.#stalledAt = undefined;
    this.#options.onRecover?.(this.#writtenSinceStall, stalledMs);
  }

  #delay(): number {
    const delays = this.#options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    return delays[Math.min(this.#attempt, delays.length - 1)] as number;
  }
}
