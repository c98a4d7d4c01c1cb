/**
 * The embedded alert evaluator on the running system: the gateway scrapes every instance twice a
 * second and evaluates the same rules as `deploy/prometheus/`, with windows and `for` scaled down
 * (0.02: the error-rate rule's 5-minute window is 6 s, its 2 minutes `for` 2.4 s), so a test sees an
 * alert fire and clear.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OpsAlert, OpsAlertList } from '@bazaar/contracts';
import { alertRules } from '@bazaar/kit';
import type { System } from '../../packages/cli/src/system.ts';
import { steadyReads } from '../support/load.ts';
import { waitFor } from '../support/ports.ts';
import { setChaos, startTestSystem } from './support.ts';

let handle: Awaited<ReturnType<typeof startTestSystem>>;
let system: System;
let admin: { authorization: string };

before(async () => {
  handle = await startTestSystem({
    serviceEnv: { gateway: { BAZAAR_OPS_SCRAPE_MS: '500', BAZAAR_ALERT_TIME_SCALE: '0.02' } },
  });
  system = handle.system;
  const { email, password } = system.bootstrapUsers!.users.admin;
  const login = await fetch(`${system.gatewayUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  admin = { authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}` };
});
after(() => handle?.stop());

async function alerts(): Promise<OpsAlertList> {
  const res = await fetch(`${system.gatewayUrl}/api/ops/alerts`, { headers: admin });
  assert.equal(res.status, 200);
  return (await res.json()) as OpsAlertList;
}

const catalogErrors = (list: OpsAlertList): OpsAlert | undefined =>
  list.items.find((a) => a.name === 'BazaarHighErrorRate' && a.labels.service === 'catalog');

test("a failing catalog raises the error-rate alert in the ops console's list, and it clears when catalog heals", async () => {
  const first = await waitFor('a first evaluation', async () => {
    const list = await alerts();
    return list.evaluatedAt === null ? undefined : list;
  });
  assert.equal(first.value.rules, alertRules.length);
  assert.equal(catalogErrors(first.value), undefined, 'no catalog error alert before the fault');

  const catalogs = system.instances
    .filter((i) => i.service === 'catalog')
    .map((i) => system.supervisor.info(i.slot));
  assert.ok(catalogs.length > 0);
  const credential = system.credentials.catalog!;
  // Steady reads through the gateway; with 30 % of catalog's answers failing, its 5xx share is far
  // over the 5 % threshold while its circuits (opening at 50 %) stay closed and traffic keeps coming.
  const load = steadyReads(`${system.gatewayUrl}/api/products?limit=1`, { concurrency: 2, pauseMs: 20 });
  try {
    await Promise.all(catalogs.map((i) => setChaos(i.url!, credential, { errorRate: 0.3 })));
    const firing = await waitFor(
      'the catalog error-rate alert to fire',
      async () => {
        const alert = catalogErrors(await alerts());
        return alert?.state === 'firing' ? alert : undefined;
      },
      { timeoutMs: 60_000, everyMs: 250 },
    );
    assert.equal(firing.value.severity, 'page');
    assert.deepEqual(firing.value.labels, { service: 'catalog' });
    assert.ok(firing.value.value > 0.05, `5xx share ${firing.value.value}`);

    await Promise.all(catalogs.map((i) => setChaos(i.url!, credential, {})));
    await waitFor(
      'the catalog error-rate alert to clear',
      async () => (catalogErrors(await alerts()) === undefined ? true : undefined),
      { timeoutMs: 60_000, everyMs: 250 },
    );
  } finally {
    await Promise.all(catalogs.map((i) => setChaos(i.url!, credential, {}).catch(() => undefined)));
    await load.stop();
  }
});
