import { randomUUID } from 'node:crypto';
import type { DeclineCode, ProviderSettings } from '@bazaar/contracts';
import { type Queryable, sleep } from '@bazaar/kit';
import {
  type Authorization,
  type CardProvider,
  ProviderError,
  type ProviderOperation,
} from '../domain/provider.ts';

/** Any failure inside the provider (its own records unreachable too) reaches the caller as a `ProviderError`. */
async function guarded<T>(operation: ProviderOperation, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    throw new ProviderError(operation, `the simulated provider failed the ${operation}`, { cause: err });
  }
}

/** The test cards of CONTRACT "Checkout": these answer the same way every time. */
const TEST_CARDS: Record<string, 'authorized' | DeclineCode> = {
  tok_visa: 'authorized',
  tok_chargeDeclined: 'card_declined',
  tok_insufficientFunds: 'insufficient_funds',
};

interface OperationRow {
  outcome: 'authorized' | 'declined' | 'done';
  ref: string | null;
  decline_code: DeclineCode | null;
}

/**
 * A card provider that runs inside payments' own database, in the `provider_operations` table (the
 * provider's side; payments' code never reads it). Every call waits `latencyMs`, then fails with a
 * provider error with probability `errorRate`, before doing anything. An operation is done once
 * per idempotency key: a repeat answers the first outcome, as a real provider's keyed API does.
 * `db` should not be the pool whose connection the caller holds while it waits for the answer.
 */
export function simulatedProvider(options: {
  db: Queryable;
  settings: ProviderSettings;
  random?: () => number;
}): CardProvider {
  const { db, settings, random = Math.random } = options;

  const arrive = async (operation: ProviderOperation): Promise<void> => {
    if (settings.latencyMs > 0) await sleep(settings.latencyMs);
    if (settings.errorRate > 0 && random() < settings.errorRate) {
      throw new ProviderError(operation, `the simulated provider failed the ${operation} (error rate)`);
    }
  };

  /**
   * Records the operation under `key` unless one is there; answers whichever is stored. A capture,
   * void or refund (`settles` set) is recorded only while its authorization `ref` stands; without
   * one, and with nothing stored under the key, it is undefined.
   */
  const once = async (
    key: string,
    operation: ProviderOperation,
    fields: OperationRow & { amount?: number; currency?: string },
    settles = false,
  ): Promise<OperationRow | undefined> => {
    const inserted = await db.query<OperationRow>(
      `INSERT INTO provider_operations (idempotency_key, operation, outcome, ref, decline_code, amount, currency)
       SELECT $1, $2, $3, $4, $5, $6, $7
       WHERE NOT $8::boolean OR EXISTS (
         SELECT 1 FROM provider_operations
         WHERE ref = $4 AND operation = 'authorize' AND outcome = 'authorized'
       )
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING outcome, ref, decline_code`,
      [
        key,
        operation,
        fields.outcome,
        fields.ref,
        fields.decline_code,
        fields.amount ?? null,
        fields.currency ?? null,
        settles,
      ],
    );
    if (inserted.rows[0]) return inserted.rows[0];
    const { rows } = await db.query<OperationRow & { operation: ProviderOperation }>(
      'SELECT operation, outcome, ref, decline_code FROM provider_operations WHERE idempotency_key = $1',
      [key],
    );
    const stored = rows[0];
    if (stored && stored.operation !== operation) {
      throw new ProviderError(operation, `idempotency key ${key} was used for a ${stored.operation}`);
    }
    return stored;
  };

  const settle = (operation: Exclude<ProviderOperation, 'authorize'>, ref: string, key: string) =>
    guarded(operation, async () => {
      await arrive(operation);
      const done = await once(key, operation, { outcome: 'done', ref, decline_code: null }, true);
      if (!done) throw new ProviderError(operation, `there is no authorization ${ref}`);
    });

  return {
    authorize: (key, amount, currency, token) =>
      guarded('authorize', async (): Promise<Authorization> => {
        await arrive('authorize');
        const card = TEST_CARDS[token] ?? (random() < settings.declineRate ? 'card_declined' : 'authorized');
        const fields: OperationRow =
          card === 'authorized'
            ? { outcome: 'authorized', ref: `auth_${randomUUID()}`, decline_code: null }
            : { outcome: 'declined', ref: null, decline_code: card };
        const stored = (await once(key, 'authorize', { ...fields, amount, currency }))!;
        return stored.outcome === 'authorized'
          ? { outcome: 'authorized', ref: stored.ref! }
          : { outcome: 'declined', code: stored.decline_code! };
      }),
    capture: (ref, key) => settle('capture', ref, key),
    void: (ref, key) => settle('void', ref, key),
    refund: (ref, key) => settle('refund', ref, key),
    voidByKey: (authorizeKey, key) =>
      guarded('void', async () => {
        const { rows } = await db.query<{ ref: string }>(
          `SELECT ref FROM provider_operations
           WHERE idempotency_key = $1 AND operation = 'authorize' AND outcome = 'authorized'`,
          [authorizeKey],
        );
        if (rows[0]) await settle('void', rows[0].ref, key);
      }),
  };
}
