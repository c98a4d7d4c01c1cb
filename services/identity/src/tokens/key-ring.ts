import { generateKeyPairSync } from 'node:crypto';
import type { PublicJwk } from '@bazaar/contracts';
import type { Clock } from '@bazaar/kit';
import { type CryptoKey, calculateJwkThumbprint, importJWK } from 'jose';
import type pg from 'pg';
import type { Logger } from 'pino';
import { type KeyPlan, type KeyPolicy, planChangesKeys, planKeys } from '../domain/keys.ts';
import { inTransaction } from '../store/db.ts';
import { deleteKeys, insertKey, type KeyRow, loadKeys, lockKeys, setKeyRetirement } from '../store/keys.ts';
import { deriveKey, open, seal } from './sealing.ts';

/** Key material the signer and verifiers use. */
type SigningKey = { kid: string; key: CryptoKey };

/**
 * The signing keys every identity replica shares through the database: which key signs, which are
 * published, and the rotation of `domain/keys.ts` carried out under an advisory lock. Rows are cached
 * and read again every `reloadMs` (by the injected clock), well within the publish lead.
 */
export class KeyRing {
  readonly #db: pg.Pool;
  readonly #sealKey: Buffer;
  readonly #policy: KeyPolicy;
  readonly #clock: Clock;
  readonly #reloadMs: number;
  readonly #log: Logger | undefined;
  #rows: KeyRow[] = [];
  #loadedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | undefined;
  readonly #privateKeys = new Map<string, Promise<CryptoKey>>();
  readonly #publicKeys = new Map<string, Promise<CryptoKey>>();

  constructor(options: {
    db: pg.Pool;
    secret: string;
    policy: KeyPolicy;
    clock: Clock;
    reloadMs?: number;
    log?: Logger;
  }) {
    this.#db = options.db;
    this.#sealKey = deriveKey(options.secret, 'signing-key-encryption');
    this.#policy = options.policy;
    this.#clock = options.clock;
    this.#reloadMs = options.reloadMs ?? 30_000;
    this.#log = options.log;
  }

  /** The key that signs now (made on first use when there is none yet). */
  async signingKey(): Promise<SigningKey> {
    const plan = await this.#plan();
    const row = this.#rows.find((r) => r.kid === plan.signing);
    if (!row) throw new Error('no signing key is available');
    let key = this.#privateKeys.get(row.kid);
    if (!key) {
      key = this.#unseal(row);
      this.#privateKeys.set(row.kid, key);
      key.catch(() => this.#privateKeys.delete(row.kid));
    }
    return { kid: row.kid, key: await key };
  }

  /** The public keys verifiers must know now. */
  async jwks(): Promise<PublicJwk[]> {
    const plan = await this.#plan();
    return this.#rows
      .filter((r) => plan.published.includes(r.kid))
      .map((r) => ({ ...r.public_jwk, kid: r.kid, alg: 'EdDSA', use: 'sig' }) as PublicJwk);
  }

  /** The public key `kid` while it is published; undefined otherwise (an unknown kid costs no database work). */
  async publicKey(kid: string): Promise<CryptoKey | undefined> {
    const plan = await this.#plan();
    const row = plan.published.includes(kid) ? this.#rows.find((r) => r.kid === kid) : undefined;
    if (!row) return undefined;
    let key = this.#publicKeys.get(kid);
    if (!key) {
      key = importJWK({ ...row.public_jwk, alg: 'EdDSA' }, 'EdDSA') as Promise<CryptoKey>;
      this.#publicKeys.set(kid, key);
    }
    return key;
  }

  /** Reads the keys again and carries out whatever the schedule asks for now. */
  maintain(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #plan(): Promise<KeyPlan> {
    const now = this.#clock.now();
    if (now - this.#loadedAt >= this.#reloadMs || now < this.#loadedAt) await this.#maintainQuietly();
    let plan = planKeys(this.#times(), now, this.#policy);
    if (plan.signing === undefined || planChangesKeys(plan)) {
      await (plan.signing === undefined ? this.maintain() : this.#maintainQuietly());
      plan = planKeys(this.#times(), now, this.#policy);
    }
    return plan;
  }

  /** Maintenance whose failure (database away) leaves the cached keys in use and is tried again soon. */
  async #maintainQuietly(): Promise<void> {
    try {
      await this.maintain();
    } catch (err) {
      this.#log?.warn(
        { err: (err as Error).message },
        'signing keys could not be refreshed; using the cached ones',
      );
      this.#loadedAt = this.#clock.now() - this.#reloadMs + 5_000;
    }
  }

  async #refresh(): Promise<void> {
    const now = this.#clock.now();
    let rows = await loadKeys(this.#db);
    if (planChangesKeys(planKeys(rows.map(times), now, this.#policy))) {
      rows = await inTransaction(this.#db, async (client) => {
        await lockKeys(client);
        // Another replica may have done it while we waited for the lock: plan again on what is stored now.
        const plan = planKeys((await loadKeys(client)).map(times), now, this.#policy);
        if (plan.create) await insertKey(client, await this.#newKey(now, plan.create.activatesAt));
        for (const r of plan.retire) await setKeyRetirement(client, r.kid, new Date(r.retiresAt));
        await deleteKeys(client, plan.remove);
        if (plan.create || plan.retire.length || plan.remove.length) {
          this.#log?.info(
            { created: plan.create, retired: plan.retire.map((r) => r.kid), removed: plan.remove },
            'signing keys rotated',
          );
        }
        return loadKeys(client);
      });
    }
    this.#rows = rows;
    this.#loadedAt = now;
    const known = new Set(rows.map((r) => r.kid));
    for (const cache of [this.#privateKeys, this.#publicKeys]) {
      for (const kid of cache.keys()) if (!known.has(kid)) cache.delete(kid);
    }
  }

  #times() {
    return this.#rows.map(times);
  }

  async #newKey(now: number, activatesAt: number): Promise<KeyRow> {
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' }) as { kty: 'OKP'; crv: 'Ed25519'; x: string; d: string };
    const publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
    const kid = await calculateJwkThumbprint(publicJwk);
    return {
      kid,
      public_jwk: publicJwk,
      private_jwk_sealed: seal(this.#sealKey, JSON.stringify(jwk), kid),
      created_at: new Date(now),
      activates_at: new Date(activatesAt),
      retires_at: null,
    };
  }

  async #unseal(row: KeyRow): Promise<CryptoKey> {
    let jwk: Record<string, string>;
    try {
      jwk = JSON.parse(open(this.#sealKey, row.private_jwk_sealed, row.kid)) as Record<string, string>;
    } catch {
      throw new Error(
        `signing key ${row.kid} cannot be decrypted: BAZAAR_SIGNING_KEY_SECRET is not the secret it was stored with`,
      );
    }
    return importJWK({ ...jwk, alg: 'EdDSA' }, 'EdDSA') as Promise<CryptoKey>;
  }
}

function times(row: KeyRow) {
  return {
    kid: row.kid,
    createdAt: row.created_at.getTime(),
    activatesAt: row.activates_at.getTime(),
    retiresAt: row.retires_at?.getTime() ?? null,
  };
}
