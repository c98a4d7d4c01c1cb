/**
 * The pause of a polling loop that a notification can cut short: the relay and the redrive loop
 * sleep until their next poll, unless a NOTIFY (through `wake`) or a stop comes first.
 */

/** A loop's pause and its wake-up call. */
export interface Waker {
  /** Cuts the current pause short, or the next one if the loop is busy now. */
  wake(): void;
  /** Forgets earlier wake-ups: call it when a pass begins, since that pass sees what they announced. */
  reset(): void;
  /**
   * Waits `ms`, or less when woken or when `signal` aborts. With `ignoreWake` (a loop backing off
   * after a failure) only the time or the stop ends it.
   */
  pause(ms: number, options?: { ignoreWake?: boolean }): Promise<void>;
}

/** A waker whose pauses also end when `signal` aborts. */
export function createWaker(signal: AbortSignal): Waker {
  let woken = false;
  let interrupt: (() => void) | undefined;
  return {
    wake() {
      woken = true;
      interrupt?.();
    },
    reset() {
      woken = false;
    },
    pause(ms, { ignoreWake = false } = {}) {
      if ((!ignoreWake && woken) || signal.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          interrupt = undefined;
          signal.removeEventListener('abort', done);
          resolve();
        }
        if (!ignoreWake) interrupt = done;
        signal.addEventListener('abort', done, { once: true });
      });
    },
  };
}
