import type { TestContext } from 'node:test';
import { createServiceDatabase, type ServiceTestDatabase } from '@bazaar/kit/testing';

/** A throwaway database with the kit's tables and catalog's migrations; `drop()` removes it. */
export type TestDatabase = ServiceTestDatabase;

/**
 * Creates `catalog_test_<random>` on the server of `BAZAAR_TEST_PG_URL` with the kit's tables
 * (outbox, inbox) and catalog's migrations. Without that variable it skips `t` loudly and answers
 * undefined; with `CI=true` it fails instead, as a missing tool must in CI.
 */
export async function createTestDatabase(t: TestContext): Promise<TestDatabase | undefined> {
  if (!process.env.BAZAAR_TEST_PG_URL) {
    const message = `!!! SKIPPED: BAZAAR_TEST_PG_URL is not set, so "${t.name}" did NOT run against PostgreSQL`;
    console.warn(`\n${message}\n`);
    if (process.env.CI === 'true') throw new Error(message);
    t.skip(message);
    return undefined;
  }
  return createServiceDatabase('catalog_test', new URL('../../migrations/', import.meta.url));
}
