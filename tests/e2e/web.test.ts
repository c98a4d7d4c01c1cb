/**
 * The web app in a real Chromium against the whole embedded system: a shopper's journey, a
 * merchant selling to a shopper, an operator killing an instance from the ops console and another
 * changing a config, reading a checkout's trace and the alerts. Every page visited is checked for
 * accessibility and app errors, and photographed at phone and desktop width.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { checkPage, demoAccounts, type E2E, inTab, logIn, openTab, startE2E, type Tab } from './support.ts';

let e2e: E2E;
before(async () => {
  e2e = await startE2E();
});
after(async () => {
  await e2e?.stop();
});

const unique = () => Math.random().toString(36).slice(2, 8);

/** Registers through the page and ends signed in. */
async function register(tab: Tab, name: string, options: { merchant?: boolean } = {}) {
  const { page } = tab;
  const email = `${name.toLowerCase().replaceAll(' ', '.')}.${unique()}@example.com`;
  const password = 'correct horse battery';
  await page.goto('/register');
  await checkPage(tab, 'register');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  if (options.merchant) await page.getByLabel('I want to sell on Bazaar (merchant account)').check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('button', { name: /^Log out/ }).waitFor();
  return { email, password };
}

/** Searches from the header box and opens the product named `name`. */
async function searchAndOpen(page: Page, query: string, name: string) {
  await page.getByRole('searchbox', { name: 'Search products' }).fill(query);
  await page.waitForURL(/\/search\?q=/);
  await page.getByRole('link', { name, exact: true }).first().click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

/** Fills the checkout form with `card` and places the order; answers the order page's URL. */
async function checkOut(tab: Tab, card: RegExp, screenshot?: string) {
  const { page } = tab;
  await page.goto('/cart');
  await page.getByRole('link', { name: 'Check out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Checkout' }).waitFor();
  await page.getByRole('radio', { name: card }).check();
  await page.getByLabel('Full name').fill('Ada Shopper');
  await page.getByLabel('Address', { exact: true }).fill('1 Market Street');
  await page.getByLabel('City').fill('Springfield');
  await page.getByLabel('Postal code').fill('12345');
  if (screenshot) await checkPage(tab, screenshot);
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
  return page.url();
}

async function settledStatus(page: Page): Promise<string> {
  const status = page.getByRole('status').filter({ hasText: /confirmed|cancelled/i });
  await status.first().waitFor({ timeout: 30_000 });
  return (await status.first().textContent()) ?? '';
}

describe('a shopper', () => {
  test('registers, searches, buys two items with tok_visa, sees a declined card explained, finds both orders', async () => {
    const tab = await openTab(e2e);
    const { page } = tab;
    await inTab(tab, 'shopper', async () => {
      await page.goto('/');
      await page.getByRole('heading', { level: 1, name: 'Welcome to Bazaar' }).waitFor();
      await checkPage(tab, 'home');
      await register(tab, 'Ada Shopper');

      // Two different products, found by search.
      const home = await e2e.system.gatewayUrl;
      const products = (await (await fetch(`${home}/api/products?limit=2`)).json()) as {
        items: { name: string }[];
      };
      const [first, second] = products.items;
      assert.ok(first && second, 'the demo catalog has products');
      await searchAndOpen(page, first.name, first.name);
      await checkPage(tab, 'search-and-product');
      await page.getByRole('button', { name: 'Add to cart' }).click();
      await page.getByRole('status').filter({ hasText: 'Added to your cart.' }).waitFor();
      await searchAndOpen(page, second.name, second.name);
      await page.getByRole('button', { name: 'Add to cart' }).click();
      await page.getByRole('status').filter({ hasText: 'Added to your cart.' }).waitFor();

      await page.goto('/cart');
      await page.getByRole('heading', { level: 1, name: 'Your cart' }).waitFor();
      await page.getByLabel(`Quantity of ${first.name}`).waitFor();
      await page.getByLabel(`Quantity of ${second.name}`).waitFor();
      await checkPage(tab, 'cart');

      const confirmedUrl = await checkOut(tab, /Visa/, 'checkout');
      assert.match(await settledStatus(page), /Your order is confirmed/);
      await checkPage(tab, 'order-confirmed');

      // The cart emptied by the confirmation's event; buy one more with a declined card.
      await searchAndOpen(page, first.name, first.name);
      await page.getByRole('button', { name: 'Add to cart' }).click();
      await page.getByRole('status').filter({ hasText: 'Added to your cart.' }).waitFor();
      const declinedUrl = await checkOut(tab, /declined/);
      assert.match(await settledStatus(page), /cancelled: your card was declined/);
      await checkPage(tab, 'order-declined');

      await page.goto('/orders');
      await page.getByRole('heading', { level: 1, name: 'Your orders' }).waitFor();
      for (const url of [confirmedUrl, declinedUrl]) {
        const id = url.split('/').at(-1)!;
        await page.getByRole('link', { name: `Order ${id.slice(0, 8)}` }).waitFor();
      }
      await checkPage(tab, 'orders');
    });
  });
});

describe('a merchant and a shopper', () => {
  test('the merchant creates a product with stock; a shopper finds and buys it; the merchant sees the order and less stock', async () => {
    const seller = await openTab(e2e);
    const buyer = await openTab(e2e);
    const name = `Hand-thrown mug ${unique()}`;
    await inTab(seller, 'seller', () =>
      inTab(buyer, 'buyer', async () => {
        await register(seller, 'Mia Merchant', { merchant: true });
        const m = seller.page;
        await m.goto('/merchant');
        await m.getByRole('heading', { level: 1, name: 'My products' }).waitFor();
        await checkPage(seller, 'merchant-products');
        await m.getByRole('link', { name: 'New product' }).click();
        await m.getByRole('heading', { level: 1, name: 'New product' }).waitFor();
        await m.getByLabel('Name').fill(name);
        await m.getByLabel('Description').fill('A mug thrown by hand, glazed blue.');
        await m.getByLabel('Price').fill('24.50');
        await m.getByLabel('Category').selectOption({ index: 1 });
        await m.getByLabel('Stock on hand').fill('7');
        await checkPage(seller, 'merchant-new-product');
        await m.getByRole('button', { name: 'Save product' }).click();
        await m.getByRole('status').filter({ hasText: 'Product saved.' }).waitFor();
        await m.getByRole('heading', { level: 1, name: `Edit ${name}` }).waitFor();
        await checkPage(seller, 'merchant-edit-product');

        await register(buyer, 'Bo Buyer');
        const b = buyer.page;
        await searchAndOpen(b, name.split(' ').at(-1)!, name);
        await b.getByText('In stock: 7 available').waitFor({ timeout: 20_000 });
        await b.getByLabel('Quantity').fill('2');
        await b.getByRole('button', { name: 'Add to cart' }).click();
        await b.getByRole('status').filter({ hasText: 'Added to your cart.' }).waitFor();
        await checkOut(buyer, /Visa/);
        assert.match(await settledStatus(b), /Your order is confirmed/);

        await m.goto('/merchant/orders');
        await m.getByRole('heading', { level: 1, name: 'Orders with my products' }).waitFor();
        await m.getByText(`2 × ${name}`).waitFor();
        await checkPage(seller, 'merchant-orders');
        await m.goto('/merchant');
        await m.getByRole('link', { name }).click();
        await m.getByRole('heading', { level: 2, name: 'Stock' }).waitFor();
        const stock = m
          .locator('section')
          .filter({ has: m.getByRole('heading', { level: 2, name: 'Stock' }) });
        await assertEventually(
          async () =>
            /Available\s*5\s*On hand\s*5\s*Reserved\s*0/.test((await stock.last().textContent()) ?? ''),
          'the stock shows 5 available, 5 on hand, none reserved',
        );
      }),
    );
  });
});

describe('an operator', () => {
  test('sees two catalog instances, kills one with the button, sees it go and come back; the charts show traffic', async () => {
    const tab = await openTab(e2e);
    const { page } = tab;
    await inTab(tab, 'operator', async () => {
      const admin = demoAccounts(e2e.system).admin;
      await logIn(tab, admin.email, admin.password);
      await page.goto('/ops');
      await page.getByRole('heading', { level: 1, name: 'Operations' }).waitFor();
      const table = page.getByRole('table', { name: 'catalog instances' });
      const upIds = async () => {
        const ids: string[] = [];
        for (const row of await table.getByRole('row').all()) {
          const cells = await row.getByRole('cell').allTextContents();
          if (cells.length > 1 && /^up$/i.test(cells[1]!.trim())) ids.push(cells[0]!.trim());
        }
        return ids;
      };
      await assertEventually(async () => (await upIds()).length === 2, 'two catalog instances up');
      const before = await upIds();
      const victim = before[0]!;
      await page.getByRole('button', { name: `Kill ${victim}` }).click();
      await page
        .getByRole('status')
        .filter({ hasText: `Killed ${victim}` })
        .waitFor();
      // Evicted by the registry (its heartbeats stopped), then replaced by the supervisor's restart.
      await assertEventually(async () => !(await upIds()).includes(victim), `${victim} no longer up`, 20_000);
      await assertEventually(
        async () => {
          const now = await upIds();
          return now.length === 2 && now.some((id) => !before.includes(id));
        },
        'a new catalog instance up beside the survivor',
        40_000,
      );
      // Traffic for the charts.
      for (let i = 0; i < 30; i++) await fetch(`${e2e.baseUrl}/api/products?limit=5`);
      await page.getByRole('heading', { level: 2, name: 'Traffic' }).waitFor();
      await page
        .locator('figure')
        .filter({ hasText: /^catalog: requests per second/ })
        .locator('canvas')
        .first()
        .waitFor();
      await assertEventually(
        async () =>
          /[1-9][0-9.]* req\/s/.test(
            (await page
              .locator('figure')
              .filter({ hasText: /^catalog:/ })
              .textContent()) ?? '',
          ),
        'the catalog chart shows requests',
        30_000,
      );
      await checkPage(tab, 'ops');
    });
  });
});

describe('an operator at the controls', () => {
  test("the operator changes payments' config with a reason, sees it in the history with its diff, rolls it back; finds a checkout's trace and opens its waterfall; sees the alerts page", async () => {
    const tab = await openTab(e2e);
    const { page } = tab;
    await inTab(tab, 'operator-controls', async () => {
      const admin = demoAccounts(e2e.system).admin;
      await logIn(tab, admin.email, admin.password);
      await page.goto('/ops');
      const opsNav = page.getByRole('navigation', { name: 'Operations' });

      // Config: payments' simulator gets slower, with a reason.
      await opsNav.getByRole('link', { name: 'Config' }).click();
      await page.getByRole('heading', { level: 1, name: 'Config' }).waitFor();
      await page
        .getByRole('navigation', { name: 'Services' })
        .getByRole('link', { name: 'payments' })
        .click();
      await page.getByRole('heading', { level: 2, name: 'payments' }).waitFor();
      const editor = page.getByLabel('Values (JSON)');
      const save = page.getByRole('button', { name: 'Save', exact: true });
      const reason = page.getByLabel('Reason', { exact: true });
      /** Sets fields of `simulator` in the editor's JSON, keeping everything else. */
      const edit = async (simulator: Record<string, unknown>) => {
        const values = JSON.parse(await editor.inputValue()) as { simulator?: Record<string, unknown> };
        values.simulator = { ...values.simulator, ...simulator };
        await editor.fill(JSON.stringify(values, null, 2));
      };
      const latencyInEditor = async () =>
        (JSON.parse(await editor.inputValue()) as { simulator: { latencyMs: number } }).simulator.latencyMs;
      await edit({ latencyMs: 25 });
      await save.click();
      await page.getByText('enter a reason: it is kept in the history').waitFor();
      await reason.fill('Drill: a slower card provider');
      await save.click();
      const saved = page.getByRole('status').filter({ hasText: /^Saved: payments is now at version \d+\.$/ });
      await saved.waitFor();
      const first = Number(/version (\d+)/.exec((await saved.textContent()) ?? '')?.[1]);
      const firstEntry = page.getByRole('article', { name: `Version ${first}`, exact: true });
      await firstEntry.getByText('“Drill: a slower card provider”').waitFor();
      await firstEntry.getByText(`By ${admin.email}`).waitFor();
      assert.match(
        (await firstEntry.getByRole('listitem').allTextContents()).join('\n'),
        /changed simulator\.latencyMs: 0 → 25/,
      );

      // An invalid value is refused, naming the field.
      await edit({ declineRate: 2 });
      await reason.fill('Decline every card twice over');
      await save.click();
      await page.getByText(/^simulator\.declineRate: /).waitFor();
      await checkPage(tab, 'ops-config');

      // Someone else changes it meanwhile: the page's save is refused, and a reload shows theirs.
      const token = await accessToken(admin.email, admin.password);
      const meanwhile = await fetch(`${e2e.baseUrl}/api/ops/config/payments`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          values: { simulator: { latencyMs: 60 } },
          reason: 'Meanwhile, from a script',
          expectedVersion: first,
        }),
      });
      assert.equal(meanwhile.status, 200, await meanwhile.text());
      await edit({ declineRate: 0.5 });
      await save.click();
      await page.getByRole('alert').filter({ hasText: 'Someone changed it meanwhile: reload' }).waitFor();
      await page.getByRole('alert').getByRole('button', { name: 'Reload' }).click();
      await page.getByText(`Version ${first + 1}, set by ${admin.email}`).waitFor();
      assert.equal(await latencyInEditor(), 60);

      // Roll back to the first change, with a reason asked for inline.
      await firstEntry.getByRole('button', { name: `Roll back to version ${first}` }).click();
      const confirm = page.getByRole('group', { name: `Roll back to version ${first}?` });
      await confirm.getByLabel('Reason for the rollback').fill('The script was a mistake');
      await checkPage(tab, 'ops-config-rollback');
      await confirm.getByRole('button', { name: 'Yes, roll back' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: `Rolled back: version ${first + 2} has the values of version ${first}.` })
        .waitFor();
      const rollbackEntry = page.getByRole('article', { name: `Version ${first + 2}`, exact: true });
      await rollbackEntry.getByText('current', { exact: true }).waitFor();
      await rollbackEntry.getByText('“The script was a mistake”').waitFor();
      assert.match(
        (await rollbackEntry.getByRole('listitem').allTextContents()).join('\n'),
        /changed simulator\.latencyMs: 60 → 25/,
      );
      assert.equal(await latencyInEditor(), 25);

      // Every payments instance applied the rollback.
      await opsNav.getByRole('link', { name: 'Overview' }).click();
      const payments = page.getByRole('table', { name: 'payments instances' });
      await assertEventually(
        async () => {
          const cells = await payments.getByRole('row').allTextContents();
          return cells.length > 1 && cells.slice(1).every((row) => row.includes(`v${first + 2}`));
        },
        `every payments instance on v${first + 2}`,
        20_000,
      );

      // Traces: a checkout (its trace id chosen here and sent as `traceparent`), found and opened.
      const traceId = randomBytes(16).toString('hex');
      await checkOutByApi(traceId);
      await opsNav.getByRole('link', { name: 'Traces' }).click();
      await page.getByRole('heading', { level: 1, name: 'Traces' }).waitFor();
      await page.getByLabel('Trace id').fill(traceId);
      await page
        .getByRole('form', { name: 'Search traces' })
        .getByRole('button', { name: 'Search', exact: true })
        .click();
      await page.waitForURL(`/ops/traces?traceId=${traceId}`);
      const checkout = page
        .getByRole('table', { name: 'Traces found' })
        .getByRole('row')
        .filter({ hasText: traceId.slice(0, 12) });
      await assertEventually(
        async () => {
          if (/payments/.test((await checkout.allTextContents()).join(' '))) return true;
          await page.getByRole('button', { name: 'Refresh' }).click();
          return false;
        },
        'the checkout trace is listed, with its payments spans',
        20_000,
      );
      await checkPage(tab, 'ops-traces');
      await checkout.getByRole('link').click();
      await page.waitForURL(`/ops/traces/${traceId}`);
      await page.getByRole('heading', { level: 2, name: 'Waterfall' }).waitFor();
      const legend = page.getByRole('list', { name: 'Services in this trace' });
      for (const service of ['gateway', 'orders', 'inventory', 'payments'])
        await legend
          .getByRole('listitem')
          .filter({ hasText: new RegExp(`^${service} `) })
          .waitFor();
      const paymentsSpan = page
        .getByRole('list', { name: /^Spans/ })
        .getByRole('button')
        .filter({ hasText: /^Level \d+: payments / })
        .first();
      await paymentsSpan.click();
      assert.equal(await paymentsSpan.getAttribute('aria-expanded'), 'true');
      await page.getByRole('heading', { level: 3, name: /^Attributes of / }).waitFor();
      await checkPage(tab, 'ops-trace');

      // Alerts: the evaluator's rules, and whatever is active.
      await opsNav.getByRole('link', { name: /^Alerts/ }).click();
      await page.getByRole('heading', { level: 1, name: 'Alerts' }).waitFor();
      await page.getByText(/^\d+ rules evaluated/).waitFor();
      await page.getByRole('heading', { level: 2, name: 'Firing' }).waitFor();
      await checkPage(tab, 'ops-alerts');
    });
  });
});

/** An access token for `email`, from the API. */
async function accessToken(email: string, password: string): Promise<string> {
  const res = await fetch(`${e2e.baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  assert.equal(res.status, 200, 'logged in through the API');
  return ((await res.json()) as { accessToken: string }).accessToken;
}

/**
 * A new customer buys one product with tok_visa through the API, the checkout request carrying
 * `traceId` in its `traceparent` (sampled); answers once the order is confirmed.
 */
async function checkOutByApi(traceId: string): Promise<void> {
  const email = `trace.${unique()}@example.com`;
  const password = 'correct horse battery';
  const json = { 'content-type': 'application/json' };
  const registered = await fetch(`${e2e.baseUrl}/api/auth/register`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, password, name: 'Tracy Shopper' }),
  });
  assert.equal(registered.status, 201);
  const auth = { ...json, authorization: `Bearer ${await accessToken(email, password)}` };
  const products = (await (await fetch(`${e2e.baseUrl}/api/products?limit=1`)).json()) as {
    items: { id: string }[];
  };
  const added = await fetch(`${e2e.baseUrl}/api/cart/items/${products.items[0]!.id}`, {
    method: 'PUT',
    headers: auth,
    body: JSON.stringify({ quantity: 1 }),
  });
  assert.equal(added.status, 200);
  const ordered = await fetch(`${e2e.baseUrl}/api/orders`, {
    method: 'POST',
    headers: {
      ...auth,
      'idempotency-key': randomUUID(),
      traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
    },
    body: JSON.stringify({
      paymentToken: 'tok_visa',
      shippingAddress: {
        name: 'Tracy Shopper',
        line1: '1 Market Street',
        city: 'Springfield',
        postalCode: '12345',
        country: 'US',
      },
    }),
  });
  assert.ok(ordered.status === 201 || ordered.status === 202, `checkout answered ${ordered.status}`);
  const order = (await ordered.json()) as { id: string; status: string };
  await assertEventually(async () => {
    const res = await fetch(`${e2e.baseUrl}/api/orders/${order.id}`, { headers: auth });
    return ((await res.json()) as { status: string }).status === 'CONFIRMED';
  }, 'the checkout is confirmed');
}

async function assertEventually(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('every other page', () => {
  test('log-in, category, a search with no result, a product seen signed out and an unknown page pass the same checks', async () => {
    const tab = await openTab(e2e);
    const { page } = tab;
    await inTab(tab, 'pages', async () => {
      const categories = (await (await fetch(`${e2e.baseUrl}/api/categories`)).json()) as {
        items: { slug: string; name: string }[];
      };
      const category = categories.items[0]!;
      const product = (await (await fetch(`${e2e.baseUrl}/api/products?limit=1`)).json()) as {
        items: { id: string; name: string }[];
      };
      const pages: [string, string, string][] = [
        ['login', '/login', 'Log in'],
        ['category', `/c/${category.slug}`, category.name],
        ['search-empty', '/search?q=zzqxnothing', 'Search'],
        ['product-signed-out', `/p/${product.items[0]!.id}`, product.items[0]!.name],
        ['not-found', '/no/such/page', 'Page not found'],
      ];
      for (const [name, path, heading] of pages) {
        await page.goto(path);
        await page.getByRole('heading', { level: 1, name: heading }).waitFor();
        if (name === 'product-signed-out') await page.getByRole('link', { name: 'Log in to buy' }).waitFor();
        if (name === 'search-empty') await page.getByText('No products match').waitFor();
        await checkPage(tab, name);
      }
    });
  });
});
