import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProductFacts } from '@bazaar/contracts';
import { buildApp, type Clock, createMetrics, ServiceClient, systemClock } from '@bazaar/kit';
import {
  accessClaims,
  type FakeIdentity,
  newKey,
  StaticInstances,
  serviceClaims,
  sign,
  startFakeIdentity,
} from '@bazaar/kit/testing';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import pino from 'pino';
import { Agent } from 'undici';
import inventory from '../../src/service.ts';

/** A stand-in for catalog's `POST /internal/products/lookup`: products set by the test, lookups counted. */
export interface FakeCatalog {
  address: string;
  /** product id → its merchant. */
  products: Map<string, string>;
  lookups: number;
  close(): Promise<void>;
}

async function startFakeCatalog(): Promise<FakeCatalog> {
  const fake: FakeCatalog = {
    address: '',
    products: new Map(),
    lookups: 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method !== 'POST' || req.url !== '/internal/products/lookup') {
        res.statusCode = 404;
        res.end('{"code":"ROUTE_NOT_FOUND"}');
        return;
      }
      fake.lookups++;
      const { ids } = JSON.parse(raw) as { ids: string[] };
      const items: ProductFacts[] = ids.flatMap((id) => {
        const merchantId = fake.products.get(id);
        return merchantId
          ? [{ id, merchantId, name: 'A thing', price: 100, currency: 'USD', hidden: false }]
          : [];
      });
      res.end(JSON.stringify({ items }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** Inventory's app on `pool`, with a fake identity and a fake catalog, and tokens to call it with. */
export interface InventoryApp {
  app: FastifyInstance;
  catalog: FakeCatalog;
  identity: FakeIdentity;
  /** An access token of a user with `role` (and id `sub`, random when not given). */
  user(role: 'customer' | 'merchant' | 'admin', sub?: string): Promise<string>;
  /** A service token of `svc` addressed to `audience` (inventory unless given). */
  service(svc: string, audience?: string): Promise<string>;
  close(): Promise<void>;
}

/** Builds inventory for `inject()` tests; token times follow `clock`, so a test may move it. */
export async function inventoryApp(pool: pg.Pool, clock: Clock = systemClock): Promise<InventoryApp> {
  const key = await newKey();
  const identity = await startFakeIdentity([key]);
  const catalog = await startFakeCatalog();
  const source = new StaticInstances();
  source.set('catalog', [catalog.address]);
  const dispatcher = new Agent({ connect: { timeout: 500 } });
  const clients = new Map<string, ServiceClient>();
  const client = (target: string) => {
    let made = clients.get(target);
    if (!made) {
      made = new ServiceClient({
        target,
        source,
        dispatcher,
        metrics: createMetrics('inventory-test'),
        log: pino({ level: 'silent' }),
      });
      clients.set(target, made);
    }
    return made;
  };
  const { app } = await buildApp(inventory, {
    db: pool,
    clock,
    client,
    env: { BAZAAR_IDENTITY_URL: identity.url, BAZAAR_SERVICE_CREDENTIAL: 'x'.repeat(20) },
  });
  const now = () => Math.floor(clock.now() / 1000);
  return {
    app,
    catalog,
    identity,
    user: (role, sub) => sign(key, accessClaims(now(), { role, ...(sub ? { sub } : {}) })),
    service: (svc, audience = 'inventory') =>
      sign(key, serviceClaims(now(), svc, audience), { typ: 'st+jwt' }),
    async close() {
      await app.close();
      await catalog.close();
      await identity.close();
      await dispatcher.close();
    },
  };
}
