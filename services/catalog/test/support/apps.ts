import { buildApp } from '@bazaar/kit';
import {
  accessClaims,
  type FakeIdentity,
  type FakeKey,
  newKey,
  serviceClaims,
  sign,
  startFakeIdentity,
} from '@bazaar/kit/testing';
import type pg from 'pg';
import catalog from '../../src/service.ts';

/** A fake identity whose key signs the tokens of a test's users and services. */
export interface TestIdentity {
  fake: FakeIdentity;
  key: FakeKey;
  close(): Promise<void>;
}

/** Starts a fake identity with one signing key. */
export async function startIdentity(): Promise<TestIdentity> {
  const key = await newKey();
  const fake = await startFakeIdentity([key]);
  return { fake, key, close: () => fake.close() };
}

/** A catalog app on `db` that verifies tokens signed by `identity`; `env` adds settings. */
export async function catalogApp(
  db: pg.Pool,
  identity: TestIdentity,
  { instanceId = 'catalog-test', env = {} }: { instanceId?: string; env?: NodeJS.ProcessEnv } = {},
) {
  return buildApp(catalog, {
    db,
    instanceId,
    env: { BAZAAR_IDENTITY_URL: identity.fake.url, BAZAAR_SERVICE_CREDENTIAL: 'x'.repeat(20), ...env },
  });
}

const now = () => Math.floor(Date.now() / 1000);

/** The `authorization` header of user `sub` with `role`. */
export async function asUser(
  identity: TestIdentity,
  sub: string,
  role: string,
): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await sign(identity.key, accessClaims(now(), { sub, role }))}` };
}

/** The service-token header of service `svc` calling `audience` (catalog unless said). */
export async function asService(
  identity: TestIdentity,
  svc: string,
  audience = 'catalog',
): Promise<Record<string, string>> {
  return {
    'bazaar-service-token': await sign(identity.key, serviceClaims(now(), svc, audience), { typ: 'st+jwt' }),
  };
}

/** Polls `check` every 20 ms until it holds; fails after `tries` (bounded, no timing asserted). */
export async function eventually(check: () => Promise<boolean>, what: string, tries = 150): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`never happened: ${what}`);
}

/** The categories the write tests use. */
export async function addCategories(db: pg.Pool): Promise<void> {
  await db.query(`INSERT INTO categories (slug, name) VALUES ('books', 'Books'), ('toys', 'Toys')`);
}
