import { buildApp, createLogger, createMetrics, ServiceClient, type ServiceContext } from '@bazaar/kit';
import {
  accessClaims,
  createServiceDatabase,
  type FakeIdentity,
  type FakeKey,
  newKey,
  type ServiceTestDatabase,
  StaticInstances,
  sign,
  startFakeIdentity,
} from '@bazaar/kit/testing';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { Agent } from 'undici';
import type { OrdersConfig } from '../../src/config.ts';
import { type OrdersRuntime, ordersRuntime } from '../../src/runtime.ts';
import orders from '../../src/service.ts';
import { FakeShop } from './fake-shop.ts';

/**
 * A throwaway database with the kit's tables and orders' migrations, or undefined without
 * `BAZAAR_TEST_PG_URL` — said loudly, and a failure with `CI=true`, as a missing tool must be in CI.
 */
export async function openTestDatabase(): Promise<ServiceTestDatabase | undefined> {
  if (!process.env.BAZAAR_TEST_PG_URL) {
    const message =
      '!!! SKIPPED: BAZAAR_TEST_PG_URL is not set, so the orders tests did NOT run against PostgreSQL';
    console.warn(`\n${message}\n`);
    if (process.env.CI === 'true') throw new Error(message);
    return undefined;
  }
  return createServiceDatabase('orders_test', new URL('../../migrations/', import.meta.url));
}

/** A fake identity whose key signs the test's users' tokens. */
export interface TestIdentity {
  fake: FakeIdentity;
  key: FakeKey;
}

/** Starts a fake identity with one signing key. */
export async function startIdentity(): Promise<TestIdentity> {
  const key = await newKey();
  return { fake: await startFakeIdentity([key]), key };
}

/** The `authorization` header of user `sub` with `role`. */
export async function asUser(
  identity: TestIdentity,
  sub: string,
  role = 'customer',
): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000);
  return { authorization: `Bearer ${await sign(identity.key, accessClaims(now, { sub, role }))}` };
}

/** One orders instance in a test: the app, its runtime (saga runner) and a way to close both. */
export interface TestOrders {
  app: FastifyInstance;
  runtime: OrdersRuntime;
  /** The context its routes were given (its clients, for a test that tunes them). */
  ctx: ServiceContext<OrdersConfig>;
  close(): Promise<void>;
}

const dispatcher = new Agent({ connect: { timeout: 500 } });

/** Closes the HTTP agent the test clients share (once, at the end of a test file). */
export function closeClients(): Promise<void> {
  return dispatcher.close();
}

/**
 * An orders app on `db` whose cart, catalog, inventory and payments are `shop`; its own clients
 * (so circuit breakers start closed). `env` adds settings (e.g. a short `BAZAAR_CHECKOUT_WAIT_MS`).
 */
export async function ordersApp(
  db: pg.Pool,
  identity: TestIdentity,
  shop: FakeShop,
  options: { instanceId?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<TestOrders> {
  const source = new StaticInstances();
  for (const service of ['cart', 'catalog', 'inventory', 'payments']) source.set(service, [shop.address]);
  const log = createLogger({ service: 'orders', instanceId: 'test', level: 'silent' });
  const metrics = createMetrics('orders-clients');
  const clients = new Map<string, ServiceClient>();
  const { app, ctx } = await buildApp(orders, {
    db,
    instanceId: options.instanceId ?? 'orders-test',
    log,
    env: {
      BAZAAR_IDENTITY_URL: identity.fake.url,
      BAZAAR_SERVICE_CREDENTIAL: 'x'.repeat(20),
      ...options.env,
    },
    client: (target) => {
      let client = clients.get(target);
      if (!client) {
        client = new ServiceClient({ target, source, dispatcher, metrics, log });
        clients.set(target, client);
      }
      return client;
    },
  });
  const runtime = ordersRuntime(ctx);
  return {
    app,
    runtime,
    ctx,
    close: async () => {
      await runtime.stop();
      await app.close();
    },
  };
}

/** Polls `check` every 25 ms until it holds; fails after `tries` (bounded, no timing asserted). */
export async function eventually(check: () => Promise<boolean>, what: string, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never happened: ${what}`);
}

/** A test database, a fake identity, a fake shop and an orders app on them. */
export interface OrdersWorld {
  database: ServiceTestDatabase;
  identity: TestIdentity;
  shop: FakeShop;
  orders: TestOrders;
  /** Tears everything down, the test clients' agent included (once, at the end of a file). */
  close(): Promise<void>;
}

/** Sets up an {@link OrdersWorld}; undefined when no test database can be had (the file skips). */
export async function ordersWorld(env: NodeJS.ProcessEnv): Promise<OrdersWorld | undefined> {
  const database = await openTestDatabase();
  if (!database) return undefined;
  const identity = await startIdentity();
  const shop = await new FakeShop().start();
  const orders = await ordersApp(database.pool, identity, shop, { env });
  return {
    database,
    identity,
    shop,
    orders,
    close: async () => {
      await orders.close();
      await shop.close();
      await identity.fake.close();
      await closeClients();
      await database.drop();
    },
  };
}
