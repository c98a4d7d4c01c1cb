import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ConfigDocument, OrdersLiveConfig, PaymentsLiveConfig } from '@bazaar/contracts';
import pino from 'pino';
import { checkLiveConfig } from '../src/live-config/check.ts';
import { LiveConfig } from '../src/live-config/live-config.ts';
import { sleep } from '../src/time.ts';

const log = pino({ level: 'silent' });

/** A config center that answers what the test last put in it, or fails while `down`. */
function fakeCenter(service = 'payments') {
  const center = {
    document: { service, version: 0, values: {} } as ConfigDocument,
    down: false,
    fetches: 0,
    set(version: number, values: Record<string, unknown>) {
      center.document = { service, version, values };
    },
    fetch: async (): Promise<ConfigDocument> => {
      center.fetches++;
      if (center.down) throw new Error('registry unreachable');
      return structuredClone(center.document);
    },
  };
  return center;
}

test('a config is checked with its defaults filled, and each bad field is named once by its path', () => {
  const good = checkLiveConfig(PaymentsLiveConfig, { simulator: { declineRate: 1 } });
  assert.ok(good.ok);
  assert.deepEqual(good.values.simulator, { declineRate: 1, errorRate: 0, latencyMs: 0 });
  assert.equal(good.values.logLevel, 'info');

  const bad = checkLiveConfig(PaymentsLiveConfig, {
    simulator: { declineRate: 2, extra: true },
    logLevel: 'loud',
  });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.errors.map((e) => e.path).sort(), [
    'values/logLevel',
    'values/simulator/declineRate',
    'values/simulator/extra',
  ]);
  assert.match(bad.errors.find((e) => e.path === 'values/logLevel')!.message, /one of "fatal", "error"/);
  assert.equal(
    bad.errors.find((e) => e.path === 'values/simulator/extra')!.message,
    'is not an accepted field',
  );

  const notObject = checkLiveConfig(OrdersLiveConfig, [1, 2]);
  assert.deepEqual(notObject.ok ? [] : notObject.errors.map((e) => e.path), ['values']);
});

test('version 0 applies nothing: the environment settings hold, and the view shows the defaults', async () => {
  const center = fakeCenter();
  const applied: number[] = [];
  const live = new LiveConfig({
    schema: PaymentsLiveConfig,
    fetch: center.fetch,
    log,
    apply: (_v, n) => void applied.push(n),
  });
  await live.refresh();
  assert.deepEqual(applied, []);
  assert.equal(live.version, 0);
  assert.deepEqual(live.applied(), { version: 0, error: null });
  assert.deepEqual(live.values.simulator, { declineRate: 0, errorRate: 0, latencyMs: 0 });
});

test('a new version is applied with its defaults filled, once', async () => {
  const center = fakeCenter();
  const applied: { version: number; values: Record<string, unknown> }[] = [];
  const live = new LiveConfig({
    schema: PaymentsLiveConfig,
    fetch: center.fetch,
    log,
    apply: (values, version) => void applied.push({ version, values }),
  });
  center.set(4, { simulator: { errorRate: 1 } });
  await live.refresh();
  await live.refresh();
  assert.equal(applied.length, 1, 'the same version is not applied twice');
  assert.equal(applied[0]!.version, 4);
  assert.deepEqual(applied[0]!.values.simulator, { declineRate: 0, errorRate: 1, latencyMs: 0 });
  assert.equal(live.version, 4);
  assert.deepEqual(live.values.simulator, { declineRate: 0, errorRate: 1, latencyMs: 0 });
  assert.deepEqual(live.applied(), { version: 4, error: null });
});

test('a version that does not fit the schema, or that the service refuses, is reported and the old one kept', async () => {
  const center = fakeCenter();
  let refuse = false;
  let applies = 0;
  const live = new LiveConfig({
    schema: PaymentsLiveConfig,
    fetch: center.fetch,
    log,
    apply: () => {
      applies++;
      if (refuse) throw new Error('the provider cannot go that slow');
    },
  });
  center.set(1, { simulator: { latencyMs: 10 } });
  await live.refresh();
  assert.equal(live.version, 1);

  // Stored under a newer schema than this instance knows.
  center.set(2, { simulator: { latencyMs: 10, jitterMs: 5 } });
  await live.refresh();
  assert.equal(live.version, 1);
  assert.deepEqual(live.values.simulator, { declineRate: 0, errorRate: 0, latencyMs: 10 });
  assert.deepEqual(live.applied(), {
    version: 1,
    error: 'version 2 not applied: values/simulator/jitterMs is not an accepted field',
  });
  await live.refresh();
  assert.equal(applies, 1, 'a refused version is not tried again');

  refuse = true;
  center.set(3, { simulator: { latencyMs: 60_000 } });
  await live.refresh();
  assert.equal(live.version, 1);
  assert.deepEqual(live.applied(), {
    version: 1,
    error: 'version 3 not applied: the provider cannot go that slow',
  });

  refuse = false;
  center.set(4, { simulator: { latencyMs: 20 } });
  await live.refresh();
  assert.deepEqual(live.applied(), { version: 4, error: null });
});

test('a failed fetch keeps the current values and is tried again later', async () => {
  const center = fakeCenter();
  const live = new LiveConfig({
    schema: PaymentsLiveConfig,
    fetch: center.fetch,
    log,
    apply: () => undefined,
    retryMs: 20,
  });
  try {
    center.set(2, { logLevel: 'debug' });
    await live.refresh();
    center.down = true;
    center.set(3, { logLevel: 'warn' });
    await live.refresh();
    assert.equal(live.version, 2);
    assert.equal(live.values.logLevel, 'debug');
    const fetches = center.fetches;
    center.down = false;
    for (let i = 0; i < 100 && live.applied().version !== 3; i++) await sleep(10);
    assert.ok(center.fetches > fetches);
    assert.equal(live.version, 3);
    assert.equal(live.values.logLevel, 'warn');
  } finally {
    live.stop();
  }
});

test('refreshes asked for while one runs are folded into one more run', async () => {
  const center = fakeCenter();
  let gate: (() => void) | undefined;
  const fetch = async () => {
    const document = await center.fetch();
    if (center.fetches === 1) await new Promise<void>((resolve) => (gate = resolve));
    return document;
  };
  const live = new LiveConfig({ schema: PaymentsLiveConfig, fetch, log, apply: () => undefined });
  center.set(1, {});
  const first = live.refresh();
  center.set(2, {});
  const others = [live.refresh(), live.refresh(), live.refresh()];
  while (!gate) await sleep(1);
  gate();
  await Promise.all([first, ...others]);
  assert.equal(center.fetches, 2);
  assert.equal(live.version, 2, 'the run after the first saw the newest version');
});
