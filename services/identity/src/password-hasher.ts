import { availableParallelism } from 'node:os';
import { AppError } from '@bazaar/kit';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { QueueFullError, Semaphore } from './semaphore.ts';

/** Argon2id with the OWASP parameters: 19 MiB, 2 iterations, 1 lane (QUALITY.md "passwords"). */
export const OWASP_ARGON2 = {
  algorithm: 2 as Algorithm.Argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};

/**
 * Hashes and verifies passwords off the main thread (libuv's pool), at most `concurrency` at once so
 * that a flood of logins cannot take every core from the other requests; one core is left to the event
 * loop by default.
 */
export class PasswordHasher {
  readonly #gate: Semaphore;
  #dummy: Promise<string> | undefined;

  constructor(options: { concurrency?: number; maxWaiting?: number } = {}) {
    const concurrency = options.concurrency ?? Math.min(4, Math.max(1, availableParallelism() - 1));
    this.#gate = new Semaphore({ limit: concurrency, maxWaiting: options.maxWaiting ?? 256 });
  }

  /** The PHC string of a new password. */
  hash(password: string): Promise<string> {
    return this.#run(() => hash(password, OWASP_ARGON2));
  }

  /** Whether `password` matches `phc`; a malformed hash is a mismatch, never an error. */
  verify(phc: string, password: string): Promise<boolean> {
    return this.#run(() => verify(phc, password).catch(() => false));
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await this.#gate.run(work);
    } catch (err) {
      if (err instanceof QueueFullError) {
        // A flood of logins is answered at once rather than queued past every deadline.
        throw new AppError(
          'SERVICE_UNAVAILABLE',
          'Too many password checks are waiting; try again shortly.',
          {
            headers: { 'retry-after': '1' },
          },
        );
      }
      throw err;
    }
  }

  /**
   * Spends the time of one verification without an account, so that an unknown email answers as
   * slowly as a wrong password. Always false.
   */
  async verifyNobody(password: string): Promise<false> {
    await this.verify(await this.#dummyHash(), password);
    return false;
  }

  /** Makes the stand-in hash now, so the first unknown email does not take longer than the others. */
  async warmUp(): Promise<void> {
    await this.#dummyHash();
  }

  #dummyHash(): Promise<string> {
    this.#dummy ??= this.hash(`nobody-${Math.random()}`);
    return this.#dummy;
  }
}
