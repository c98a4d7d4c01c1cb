/** Too many callers are already waiting. */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

/** At most `limit` holders at once; up to `maxWaiting` more wait in order, the rest are refused. */
export class Semaphore {
  readonly #limit: number;
  readonly #maxWaiting: number;
  #held = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(options: { limit: number; maxWaiting?: number }) {
    this.#limit = options.limit;
    this.#maxWaiting = options.maxWaiting ?? Number.POSITIVE_INFINITY;
  }

  /** Runs `work` when a place is free; throws {@link QueueFullError} when the queue is full. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#held >= this.#limit) {
      if (this.#waiting.length >= this.#maxWaiting) throw new QueueFullError('too many waiting');
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#held++;
    }
    try {
      return await work();
    } finally {
      // The place passes straight to the next waiter, so a newcomer cannot overtake the queue.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#held--;
    }
  }

  /** How many hold a place now. */
  get active(): number {
    return this.#held;
  }
}
