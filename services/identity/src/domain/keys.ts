import { ACCESS_TOKEN_TTL_SECONDS, SERVICE_TOKEN_TTL_SECONDS } from '@bazaar/contracts';

/** Verifiers refresh the JWKS at least this often by default (QUALITY.md "signing keys"; `BAZAAR_JWKS_REFRESH_MS`). */
export const JWKS_REFRESH_MS = 60_000;

/** How long the tokens identity signs live, in seconds. */
export interface TokenLifetimes {
  access: number;
  service: number;
}

/**
 * The lifetimes for an access-token lifetime of `accessSeconds` (`BAZAAR_ACCESS_TOKEN_TTL_SECONDS`):
 * a service token lives as agreed in the contracts, but never longer than an access token, so a
 * short setting (tests) shortens how long a retired key must stay published for both kinds.
 */
export function tokenLifetimes(accessSeconds: number = ACCESS_TOKEN_TTL_SECONDS): TokenLifetimes {
  return { access: accessSeconds, service: Math.min(SERVICE_TOKEN_TTL_SECONDS, accessSeconds) };
}

/** When a signing key was made, starts signing and stops signing (all in epoch milliseconds). */
export interface KeyTimes {
  kid: string;
  createdAt: number;
  activatesAt: number;
  /** Set when its successor is scheduled: the successor's `activatesAt`. */
  retiresAt: number | null;
}

/** How keys rotate. */
export interface KeyPolicy {
  /** How long a key signs before its successor takes over. */
  rotationMs: number;
  /** A new key is published this long before it signs: two verifier refresh periods and a margin. */
  publishLeadMs: number;
  /** A retired key stays published until the last token it signed has expired, plus a margin. */
  retentionMs: number;
}

/**
 * The standard policy with a rotation period in hours (`BAZAAR_KEY_ROTATION_HOURS`), for verifiers
 * that refresh the JWKS every `jwksRefreshMs` and tokens that live `lifetimes`. The defaults are the
 * production values: 150 s lead, 660 s retention.
 */
export function keyPolicy(
  rotationHours: number,
  options: { jwksRefreshMs?: number; lifetimes?: TokenLifetimes } = {},
): KeyPolicy {
  const publishLeadMs = 2 * (options.jwksRefreshMs ?? JWKS_REFRESH_MS) + 30_000;
  const { access, service } = options.lifetimes ?? tokenLifetimes();
  const retentionMs = Math.max(access, service) * 1000 + 60_000;
  const rotationMs = Math.round(rotationHours * 3_600_000);
  if (rotationMs <= publishLeadMs) {
    throw new Error(
      `a key rotation period (${rotationMs / 1000} s) must be longer than the ${publishLeadMs / 1000} s publish lead (2 × BAZAAR_JWKS_REFRESH_MS + 30 s)`,
    );
  }
  return { rotationMs, publishLeadMs, retentionMs };
}

/** What to do with the keys at one moment: which key signs, which are published, what to change. */
export interface KeyPlan {
  /** The key that signs now; undefined until `create` has been carried out. */
  signing: string | undefined;
  /** Keys in the JWKS: the signing key, a successor waiting to sign, retired keys whose tokens may live. */
  published: string[];
  /** A new key to make, and when it starts signing. */
  create: { activatesAt: number } | undefined;
  /** Keys to stop signing at the given time (when their successor starts). */
  retire: { kid: string; retiresAt: number }[];
  /** Keys whose every token has expired: drop them. */
  remove: string[];
}

/**
 * The key schedule. A key signs from `activatesAt` until `retiresAt`; its successor is made
 * `publishLeadMs` before it signs (so every verifier has seen it), and a retired key stays published
 * for `retentionMs` (so every token it signed can still be verified) and is then removed. With no
 * usable key at all (first start), a key that signs at once is made.
 */
export function planKeys(keys: readonly KeyTimes[], now: number, policy: KeyPolicy): KeyPlan {
  const gone = (k: KeyTimes) => k.retiresAt !== null && now >= k.retiresAt + policy.retentionMs;
  const live = keys.filter((k) => !gone(k));
  const remove = keys.filter(gone).map((k) => k.kid);
  const signing = live
    .filter((k) => k.activatesAt <= now && (k.retiresAt === null || now < k.retiresAt))
    .sort((a, b) => b.activatesAt - a.activatesAt || (a.kid < b.kid ? -1 : 1))[0];
  const waiting = live.filter((k) => k.activatesAt > now);
  const plan: KeyPlan = {
    signing: signing?.kid,
    published: live.map((k) => k.kid),
    create: undefined,
    retire: [],
    remove,
  };
  if (!signing) {
    plan.create = { activatesAt: now };
  } else if (
    waiting.length === 0 &&
    signing.retiresAt === null &&
    now >= signing.activatesAt + policy.rotationMs - policy.publishLeadMs
  ) {
    const activatesAt = Math.max(now + policy.publishLeadMs, signing.activatesAt + policy.rotationMs);
    plan.create = { activatesAt };
    plan.retire.push({ kid: signing.kid, retiresAt: activatesAt });
  }
  return plan;
}

/** Whether a plan changes anything in the store. */
export function planChangesKeys(plan: KeyPlan): boolean {
  return plan.create !== undefined || plan.retire.length > 0 || plan.remove.length > 0;
}
