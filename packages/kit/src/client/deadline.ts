import { type Clock, systemClock } from '../time.ts';

/** The longest deadline accepted from a header: a caller cannot make us hold work for longer. */
export const MAX_DEADLINE_MS = 5 * 60_000;

/** The shortest attempt worth making when the deadline allows it (see `attemptTimeout`). */
const MIN_ATTEMPT_MS = 100;

/** Options of `Deadline.attemptTimeout`. */
export interface AttemptTimeoutOptions {
  /** Attempts this call may still make, counting the one about to start. */
  attemptsLeft: number;
  /** Whether the request is an idempotent read (GET, HEAD, …). */
  readOnly: boolean;
  /** Longest attempt of a read. */
  maxReadAttemptMs?: number;
}

/** The moment by which a request must be answered; what remains of it travels as `Bazaar-Deadline-Ms`. */
export class Deadline {
  readonly #atMs: number;
  readonly #clock: Clock;

  constructor(atMs: number, clock: Clock = systemClock) {
    this.#atMs = atMs;
    this.#clock = clock;
  }

  /**
   * The deadline a `Bazaar-Deadline-Ms` header grants (remaining ms, a non-negative integer);
   * `defaultMs` when the header is missing or malformed; never more than five minutes.
   */
  static fromHeader(value: string | undefined, defaultMs: number, clock: Clock = systemClock): Deadline {
    const ms = value !== undefined && /^\d+$/.test(value) ? Number(value) : defaultMs;
    return Deadline.after(Math.min(Math.max(0, ms), MAX_DEADLINE_MS), clock);
  }

  /** A deadline `ms` from now. */
  static after(ms: number, clock: Clock = systemClock): Deadline {
    return new Deadline(clock.now() + ms, clock);
  }

  /** The absolute time of the deadline, in the clock's milliseconds. */
  get atMs(): number {
    return this.#atMs;
  }

  /** Milliseconds left; 0 once passed. */
  remaining(): number {
    return Math.max(0, this.#atMs - this.#clock.now());
  }

  /** Whether the deadline has passed, so work for it should not start. */
  expired(): boolean {
    return this.remaining() <= 0;
  }

  /** What remains, as the `Bazaar-Deadline-Ms` header sends it to the next hop. */
  headerValue(): string {
    return String(Math.floor(this.remaining()));
  }

  /** The earlier of the two deadlines. */
  min(other: Deadline): Deadline {
    return other.atMs < this.#atMs ? other : this;
  }

  /**
   * The timeout of the next attempt of a call: a share of what remains, so that an instance that
   * accepts connections but never answers (a stopped process) costs one short attempt, not the
   * whole deadline.
   *
   * - Every attempt gets `remaining / attemptsLeft`, but at least `min(remaining, 100 ms)`: a share
   *   too small to be answered in would only waste the attempt.
   * - Reads are further capped at `maxReadAttemptMs` (1 s): a read that is not answered within it
   *   is better retried on another instance, and reads are always safe to retry.
   * - Writes get all that remains: a write cut short may still commit, and a keyed write retried
   *   while its first attempt works would only be answered "in progress". They are retried when
   *   they failed to arrive (refused, reset, an instance's 503), not when they were slow.
   *
   * The result never exceeds what remains, and is a whole number of milliseconds.
   */
  attemptTimeout({ attemptsLeft, readOnly, maxReadAttemptMs = 1_000 }: AttemptTimeoutOptions): number {
    const remaining = this.remaining();
    // A write gets all that remains: a keyed write retried while its first attempt still works
    // would only be answered "in progress". Writes are retried when they failed to arrive.
    if (!readOnly) return Math.floor(remaining);
    const share = Math.max(remaining / Math.max(1, attemptsLeft), Math.min(remaining, MIN_ATTEMPT_MS));
    return Math.floor(Math.min(maxReadAttemptMs, share));
  }
}
