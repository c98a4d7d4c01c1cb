/**
 * The bus contract: one suite body, run against each transport (pg-boss on a test database, NATS
 * JetStream on the machine's server in a stream of its own), end to end from the outbox through the
 * relay and the bus to a consumer with its inbox. The bus is reached through a TCP proxy of the test's
 * own, so "the bus is down" is a real outage: connections cut and refused.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { EventEnvelope, EventSpec } from '@bazaar/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import pino from 'pino';
import { Type } from 'typebox';
import {
  type BusTransport,
  type ConsumerDefinition,
  createMetrics,
  type EventRuntime,
  jetStreamTransport,
  listDeadLetters,
  outboxWriter,
  pgBossTransport,
  requestRedrive,
  startEventRuntime,
  withTransaction,
} from '../src/index.ts';
import { createServiceDatabase, createTestDatabase, type ServiceTestDatabase } from '../src/testing/index.ts';

const NATS_URL = process.env.BAZAAR_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const MAX_ATTEMPTS = 3;
const log = pino({ level: 'silent' });

const noted: EventSpec = {
  type: 'ledger.entry-noted',
  version: 1,
  data: Type.Object({ key: Type.String(), failTimes: Type.Integer({ minimum: 0 }) }),
};

const natsProblem = await unreachable(NATS_URL);
if (natsProblem && process.env.CI === 'true') {
  throw new Error(`NATS JetStream at ${NATS_URL} is required in CI: ${natsProblem}`);
}
if (natsProblem) {
  console.warn(
    `!!! SKIPPED the JetStream bus contract: NATS at ${NATS_URL} is not reachable (${natsProblem})`,
  );
}

describe('bus contract on pg-boss', () => contract('pg-boss'));
describe('bus contract on NATS JetStream', { skip: natsProblem }, () => contract('jetstream'));

function contract(kind: 'pg-boss' | 'jetstream'): void {
  let service: ServiceTestDatabase;
  let proxy: CuttableProxy;
  let transport: BusTransport;
  let runtime: EventRuntime;
  let removeBus: () => Promise<void> = async () => undefined;
  let makeTransport: (port: number) => BusTransport;
  const published: EventEnvelope[] = [];
  const calls = new Map<string, number>();
  const broken = new Set<string>();
  const metrics = createMetrics('contract');
  const writer = outboxWriter('contract');

  const ledger: ConsumerDefinition = {
    name: 'ledger',
    events: [noted],
    handle: async (event, tx) => {
      const n = (calls.get(event.id) ?? 0) + 1;
      calls.set(event.id, n);
      const data = event.data as { key: string; failTimes: number };
      if (broken.has(data.key)) throw new Error(`the ledger is broken for ${data.key}`);
      if (n <= data.failTimes) throw new Error(`flaky failure ${n} of ${data.key}`);
      await tx.query('INSERT INTO ledger_effects (event_id, key) VALUES ($1, $2)', [event.id, data.key]);
    },
  };

  before(async () => {
    service = await createServiceDatabase('bus_contract', new URL('./', import.meta.url));
    await service.pool.query('CREATE TABLE ledger_effects (event_id uuid NOT NULL, key text NOT NULL)');
    if (kind === 'pg-boss') {
      const bus = await createTestDatabase('bus_contract_pgboss');
      removeBus = () => bus.drop();
      const url = new URL(bus.url);
      proxy = await startCuttableProxy(url.hostname, Number(url.port || 5432));
      makeTransport = (port) => {
        url.hostname = '127.0.0.1';
        url.port = String(port);
        return pgBossTransport({
          url: url.toString(),
          log,
          pollMs: 500,
          reconnect: { baseMs: 50, capMs: 300 },
        });
      };
    } else {
      const stream = `BAZAAR_TEST_${randomBytes(5).toString('hex').toUpperCase()}`;
      const target = new URL(NATS_URL.includes('://') ? NATS_URL : `nats://${NATS_URL}`);
      proxy = await startCuttableProxy(target.hostname, Number(target.port || 4222));
      removeBus = () => deleteStream(stream);
      makeTransport = (port) =>
        jetStreamTransport({
          url: `nats://127.0.0.1:${port}`,
          stream,
          log,
          publishTimeoutMs: 2_000,
          reconnect: { baseMs: 50, capMs: 300 },
        });
    }
    const inner = makeTransport(proxy.port);
    transport = inner;
    runtime = await startEventRuntime({
      service: 'contract',
      instanceId: 'contract-1',
      pool: service.pool,
      consumers: [ledger],
      ctx: {},
      config: {
        BAZAAR_NATS_STREAM: 'unused',
        BAZAAR_EVENT_MAX_ATTEMPTS: MAX_ATTEMPTS,
        BAZAAR_EVENT_ACK_TIMEOUT_MS: 30_000,
        BAZAAR_OUTBOX_POLL_MS: 100,
        BAZAAR_DB_PREPARED_STATEMENTS: true,
      },
      log,
      metrics,
      transport: recording(inner, published),
      subscribeWaitMs: 20_000,
      relay: { backoffBaseMs: 20, backoffCapMs: 200 },
      consumerBackoff: { baseMs: 20, capMs: 100 },
      redrivePollMs: 100,
    });
    await transport.connected();
  });

  after(async () => {
    await runtime?.stop();
    await proxy?.close();
    await service?.drop();
    await removeBus();
  });

  async function write(...items: { key: string; failTimes?: number }[]): Promise<EventEnvelope[]> {
    return withTransaction(service.pool, async (tx) => {
      const envelopes: EventEnvelope[] = [];
      for (const { key, failTimes = 0 } of items) {
        envelopes.push(await writer.publish(tx, noted, key, { key, failTimes }));
      }
      return envelopes;
    });
  }

  async function effects(key: string): Promise<number> {
    const { rows } = await service.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM ledger_effects WHERE key = $1',
      [key],
    );
    return rows[0]!.n;
  }

  async function unsent(ids: string[]): Promise<number> {
    const { rows } = await service.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM kit_outbox WHERE id = ANY($1::uuid[]) AND sent_at IS NULL',
      [ids],
    );
    return rows[0]!.n;
  }

  test('an event written to the outbox reaches the consumer once and its row is marked sent', async () => {
    const [event] = await write({ key: 'first' });
    await until(async () => (await effects('first')) === 1, 'the consumer to have the event');
    await until(async () => (await unsent([event!.id])) === 0, 'the outbox row to be marked sent');
    const { rows } = await service.pool.query(
      'SELECT 1 FROM kit_inbox WHERE consumer = $1 AND event_id = $2',
      ['ledger', event!.id],
    );
    assert.equal(rows.length, 1, 'the inbox records the event');
    assert.equal(await effects('first'), 1);
  });

  test('an event published twice on the bus has one effect', async () => {
    const envelope = {
      id: randomUUID(),
      type: noted.type,
      version: 1,
      source: 'contract',
      subject: 'twice',
      occurredAt: new Date().toISOString(),
      data: { key: 'twice', failTimes: 0 },
    };
    await transport.publish([envelope]);
    await transport.publish([envelope]);
    await until(async () => (await effects('twice')) === 1, 'the event to be processed');
    // An event published after the copies is processed after them (or with them): once it is in,
    // a second delivery of the copy would have happened too.
    await write({ key: 'after-twice' });
    await until(async () => (await effects('after-twice')) === 1, 'the later event to be processed');
    await transport.publish([envelope]);
    await write({ key: 'after-thrice' });
    await until(async () => (await effects('after-thrice')) === 1, 'the last event to be processed');
    assert.equal(await effects('twice'), 1);
  });

  test('a handler that fails twice and then succeeds processes the event once', async () => {
    const [event] = await write({ key: 'flaky', failTimes: 2 });
    await until(async () => (await effects('flaky')) === 1, 'the flaky event to be processed');
    assert.equal(calls.get(event!.id), 3, 'two failures, then success');
    assert.equal(await effects('flaky'), 1);
    const letters = await listDeadLetters(service.pool);
    assert.equal(letters.filter((l) => l.eventId === event!.id).length, 0, 'it never became a dead letter');
  });

  test('an event that always fails goes to the dead-letter store after the last attempt', async () => {
    broken.add('doomed');
    const [event] = await write({ key: 'doomed' });
    await until(
      async () => (await listDeadLetters(service.pool)).some((l) => l.eventId === event!.id),
      'the event to be dead-lettered',
    );
    const letter = (await listDeadLetters(service.pool)).find((l) => l.eventId === event!.id)!;
    assert.equal(letter.consumer, 'ledger');
    assert.equal(letter.type, noted.type);
    assert.equal(letter.attempts, MAX_ATTEMPTS);
    assert.match(letter.error, /the ledger is broken for doomed/);
    assert.equal(letter.redrivenAt, null);
    assert.equal(calls.get(event!.id), MAX_ATTEMPTS);
    assert.equal(await effects('doomed'), 0);
  });

  test('a redrive after the handler is fixed processes the dead letter once', async () => {
    broken.delete('doomed');
    const [letter] = (await listDeadLetters(service.pool)).filter((l) => l.envelope.subject === 'doomed');
    assert.ok(letter, 'the dead letter of the previous test is there');
    assert.equal(await requestRedrive(service.pool, { id: letter.id }), 1);
    await until(
      async () => (await listDeadLetters(service.pool)).find((l) => l.id === letter.id)?.redrivenAt != null,
      'the dead letter to be redriven',
    );
    assert.equal(await effects('doomed'), 1);
    assert.equal(
      await requestRedrive(service.pool, { id: letter.id }),
      0,
      'a redriven letter is not redriven again',
    );
  });

  test('the relay publishes rows in seq order and marks every one sent', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `order-${i}`);
    const batches = [keys.slice(0, 25), keys.slice(25, 32), keys.slice(32)];
    const ids: string[] = [];
    for (const batch of batches) {
      for (const envelope of await write(...batch.map((key) => ({ key })))) ids.push(envelope.id);
    }
    await until(async () => (await unsent(ids)) === 0, 'every row to be sent');
    const { rows } = await service.pool.query<{ id: string }>(
      'SELECT id FROM kit_outbox WHERE id = ANY($1::uuid[]) ORDER BY seq',
      [ids],
    );
    const inSeqOrder = rows.map((r) => r.id);
    const wanted = new Set(ids);
    const inPublishOrder = published.filter((e) => wanted.has(e.id)).map((e) => e.id);
    assert.deepEqual(inPublishOrder, inSeqOrder);
    for (const key of keys) await until(async () => (await effects(key)) === 1, `${key} to be processed`);
  });

  test('a transport whose bus is unreachable at start rejects publishes and stops when asked', async () => {
    const nowhere = await startCuttableProxy('127.0.0.1', 1);
    nowhere.cut();
    const stranded = makeTransport(nowhere.port);
    try {
      stranded.start();
      const subscribed = stranded.subscribe({
        group: 'contract.stranded',
        types: [noted.type],
        handle: async () => 'ack',
      });
      const [envelope] = await write({ key: 'stranded' });
      await assert.rejects(stranded.publish([envelope!]), /not connected/);
      await stranded.stop();
      await subscribed;
    } finally {
      await nowhere.close();
    }
  });

  test('while the bus is unreachable the outbox keeps its rows, and they drain when it returns', async () => {
    const failuresBefore = await counterValue(metrics.outboxRelayFailures);
    proxy.cut();
    try {
      const keys = ['outage-1', 'outage-2', 'outage-3', 'outage-4', 'outage-5'];
      const envelopes = await write(...keys.slice(0, 2).map((key) => ({ key })));
      envelopes.push(...(await write(...keys.slice(2).map((key) => ({ key })))));
      const ids = envelopes.map((e) => e.id);
      await until(
        async () => (await counterValue(metrics.outboxRelayFailures)) > failuresBefore,
        'the relay to fail',
      );
      await until(
        async () => ((await metrics.outboxPending.get()).values[0]?.value ?? 0) >= 5,
        'the pending gauge to show the rows',
      );
      assert.equal(await unsent(ids), 5, 'the rows wait in the outbox');
      for (const key of keys) assert.equal(await effects(key), 0);
      proxy.restore();
      await until(async () => (await unsent(ids)) === 0, 'the outbox to drain');
      for (const key of keys) await until(async () => (await effects(key)) === 1, `${key} to be processed`);
      await until(
        async () => ((await metrics.outboxPending.get()).values[0]?.value ?? -1) === 0,
        'the pending gauge to come back to zero',
      );
    } finally {
      proxy.restore();
    }
  });
}

/** The transport, with every envelope it published appended to `published` (in publish order). */
function recording(inner: BusTransport, published: EventEnvelope[]): BusTransport {
  return {
    kind: inner.kind,
    start: () => inner.start(),
    connected: () => inner.connected(),
    publish: async (envelopes) => {
      await inner.publish(envelopes);
      published.push(...envelopes);
    },
    subscribe: (subscription) => inner.subscribe(subscription),
    stop: () => inner.stop(),
  };
}

/** Polls `check` until it holds; fails the test after `timeoutMs` saying what did not happen. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const giveUp = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUp) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function counterValue(counter: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** Why `url`'s host does not take TCP connections, or `undefined` when it does. */
function unreachable(url: string): Promise<string | undefined> {
  const target = new URL(url.includes('://') ? url : `nats://${url}`);
  return new Promise((resolve) => {
    const socket = tcpConnect(Number(target.port || 4222), target.hostname);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('no answer within 2 s');
    }, 2_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      resolve(err.message);
    });
  });
}

async function deleteStream(stream: string): Promise<void> {
  const nc = await natsConnect({ servers: NATS_URL.replace(/^nats:\/\//, '') });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(stream).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

/** A TCP proxy that can cut every connection through it and refuse new ones until restored. */
interface CuttableProxy {
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

async function startCuttableProxy(host: string, port: number): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    client.on('error', () => undefined);
    if (down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = tcpConnect(port, host);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
