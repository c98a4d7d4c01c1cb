import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { TokenPair, User } from '@bazaar/contracts';
import { startService } from '@bazaar/kit';
import { createTestDatabase, type TestDatabase } from '@bazaar/kit/testing';
import pg from 'pg';
import { identityService } from '../src/service.ts';
import { CREDENTIALS, identityEnv } from './support/identity.ts';

const merchantId = randomUUID();
const folder = mkdtempSync(join(tmpdir(), 'identity-bootstrap-'));
const file = join(folder, 'credentials.json');
const accounts = {
  admin: { email: 'admin@bazaar.local', password: 'generated-admin-password' },
  merchant: { email: 'merchant@bazaar.local', password: 'generated-merchant-password' },
  customer: { email: 'customer@bazaar.local', password: 'generated-customer-password' },
};
let database: TestDatabase;

before(async () => {
  writeFileSync(file, JSON.stringify(accounts), { mode: 0o600 });
  database = await createTestDatabase('identity_boot');
});
after(async () => {
  await database?.drop();
  rmSync(folder, { recursive: true, force: true });
});

/** A real identity instance on an ephemeral port, without a registry. */
function start() {
  return startService(
    { ...identityService(), register: false },
    {
      handleSignals: false,
      env: identityEnv({
        BAZAAR_PORT: '0',
        BAZAAR_DATABASE_URL: database.url,
        BAZAAR_BOOTSTRAP_USERS_FILE: file,
        BAZAAR_DEMO_MERCHANT_ID: merchantId,
      }),
    },
  );
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

test('replicas starting together create the bootstrap accounts once, the merchant with the demo id', async () => {
  const [one, two] = await Promise.all([start(), start()]);
  try {
    const login = async (who: keyof typeof accounts) =>
      (await (await post(`${one.url}/api/auth/login`, accounts[who])).json()) as TokenPair;
    const me = async (pair: TokenPair) =>
      (await (
        await fetch(`${two.url}/api/auth/me`, { headers: { authorization: `Bearer ${pair.accessToken}` } })
      ).json()) as User;
    assert.equal((await me(await login('admin'))).role, 'admin');
    const merchant = await me(await login('merchant'));
    assert.equal(merchant.role, 'merchant');
    assert.equal(merchant.id, merchantId, 'the owner of the seeded products');
    assert.equal((await me(await login('customer'))).role, 'customer');

    const exchange = await post(
      `${two.url}/internal/service-tokens`,
      { audience: 'payments' },
      {
        authorization: `Bearer ${CREDENTIALS.catalog}`,
      },
    );
    assert.equal(exchange.status, 200);
  } finally {
    await Promise.all([one.stop(), two.stop()]);
  }
  const pool = new pg.Pool({ connectionString: database.url });
  try {
    const { rows } = await pool.query('SELECT email FROM users ORDER BY email');
    assert.deepEqual(
      rows.map((r) => r.email),
      ['admin@bazaar.local', 'customer@bazaar.local', 'merchant@bazaar.local'],
    );
    // A later start with other passwords in the file leaves the accounts as they are.
    writeFileSync(
      file,
      JSON.stringify({ ...accounts, admin: { ...accounts.admin, password: 'some-other-password' } }),
    );
    const again = await start();
    try {
      assert.equal((await post(`${again.url}/api/auth/login`, accounts.admin)).status, 200);
      assert.equal(
        (await post(`${again.url}/api/auth/login`, { ...accounts.admin, password: 'some-other-password' }))
          .status,
        401,
      );
    } finally {
      await again.stop();
    }
    assert.equal((await pool.query('SELECT 1 FROM users')).rowCount, 3);
  } finally {
    await pool.end();
  }
});
