import type { DeclineCode } from '@bazaar/contracts';

/** What a card provider does; every one is repeatable under its idempotency key. */
export type ProviderOperation = 'authorize' | 'capture' | 'void' | 'refund';

/** A provider's answer to an authorization: a hold on the card (`ref`) or a decline. */
export type Authorization =
  | { outcome: 'authorized'; ref: string }
  | { outcome: 'declined'; code: DeclineCode };

/**
 * A card provider. Each call carries an idempotency key: the provider does the operation once per
 * key and answers a repeat with the first outcome, so a call may always be retried, even when the
 * first answer was lost. A failure of the provider itself is thrown as a `ProviderError`.
 */
export interface CardProvider {
  /** Holds `amount` on the card behind `token`. */
  authorize(key: string, amount: number, currency: string, token: string): Promise<Authorization>;
  /** Takes the held amount. */
  capture(ref: string, key: string): Promise<void>;
  /** Releases the hold. */
  void(ref: string, key: string): Promise<void>;
  /** Returns a captured amount. */
  refund(ref: string, key: string): Promise<void>;
  /**
   * Voids the hold made under `authorizeKey`, if the provider made one: for a void that finds no
   * recorded payment, since the provider may have authorized while its answer was lost.
   */
  voidByKey(authorizeKey: string, key: string): Promise<void>;
}

/** The provider failed (unreachable, timed out, answered an error): nothing can be assumed done. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  readonly operation: ProviderOperation;
  constructor(operation: ProviderOperation, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.operation = operation;
  }
}
