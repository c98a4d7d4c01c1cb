/** The config center's values in the console: diffs between versions, schema defaults and fields, error paths. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveConfigSchemas } from '@bazaar/contracts';
import {
  configFieldPlace,
  diffValues,
  formatValue,
  type SchemaNode,
  schemaDefaults,
  schemaFields,
  withDefaults,
} from '../src/lib/config-values.ts';

test('a diff lists the changed, added and removed leaves by dotted path, sorted', () => {
  const before = { logLevel: 'info', simulator: { declineRate: 0, errorRate: 0 }, old: true };
  const after = { logLevel: 'debug', simulator: { declineRate: 1, errorRate: 0, latencyMs: 50 } };
  assert.deepEqual(diffValues(before, after), [
    { kind: 'changed', path: 'logLevel', before: 'info', after: 'debug' },
    { kind: 'removed', path: 'old', before: true },
    { kind: 'changed', path: 'simulator.declineRate', before: 0, after: 1 },
    { kind: 'added', path: 'simulator.latencyMs', after: 50 },
  ]);
});

test('equal versions have no difference, whatever the order of their keys', () => {
  assert.deepEqual(
    diffValues({ a: { x: 1, y: [1, { z: 2 }] }, b: null }, { b: null, a: { y: [1, { z: 2 }], x: 1 } }),
    [],
  );
});

test('a whole object added or removed is told leaf by leaf; an empty one as itself', () => {
  assert.deepEqual(diffValues({}, { features: { checkout: false, failFast: true }, empty: {} }), [
    { kind: 'added', path: 'empty', after: {} },
    { kind: 'added', path: 'features.checkout', after: false },
    { kind: 'added', path: 'features.failFast', after: true },
  ]);
  assert.deepEqual(diffValues({ features: { checkout: false } }, {}), [
    { kind: 'removed', path: 'features.checkout', before: false },
  ]);
});

test('a leaf that becomes an object, an array that changes, and 0 → null are one change each', () => {
  assert.deepEqual(diffValues({ a: 1, b: [1, 2], c: 0 }, { a: { x: 1 }, b: [2, 1], c: null }), [
    { kind: 'changed', path: 'a', before: 1, after: { x: 1 } },
    { kind: 'changed', path: 'b', before: [1, 2], after: [2, 1] },
    { kind: 'changed', path: 'c', before: 0, after: null },
  ]);
});

test("a schema's defaults are what version 0 means; the payments schema's fields in words", () => {
  const payments = LiveConfigSchemas.payments as SchemaNode;
  const defaults = schemaDefaults(payments);
  assert.deepEqual(defaults.simulator, { declineRate: 0, errorRate: 0, latencyMs: 0 });
  assert.equal(defaults.logLevel, 'info');
  assert.equal((defaults.resilience as Record<string, unknown>).maxAttempts, 3);
  const fields = schemaFields(payments);
  assert.deepEqual(
    fields.find((f) => f.path === 'simulator.declineRate'),
    { path: 'simulator.declineRate', accepts: 'a number from 0 to 1', defaultText: '0' },
  );
  assert.deepEqual(
    fields.find((f) => f.path === 'logLevel'),
    {
      path: 'logLevel',
      accepts: 'one of fatal, error, warn, info, debug, trace, silent',
      defaultText: '"info"',
    },
  );
  assert.equal(
    fields.find((f) => f.path === 'resilience.maxAttempts')?.accepts,
    'a whole number from 1 to 5',
  );
  const orders = schemaFields(LiveConfigSchemas.orders as SchemaNode);
  assert.equal(orders.find((f) => f.path === 'features.checkout')?.accepts, 'true or false');
  // Every leaf has a default, so the list and the defaults agree.
  assert.equal(
    fields.every((f) => f.defaultText !== null),
    true,
  );
});

test('field errors point at the reason or at a dotted place in the values', () => {
  assert.deepEqual(configFieldPlace('body/values/simulator/declineRate'), {
    field: 'values',
    path: 'simulator.declineRate',
  });
  assert.deepEqual(configFieldPlace('values/simulator/declineRate'), {
    field: 'values',
    path: 'simulator.declineRate',
  });
  assert.deepEqual(configFieldPlace('/logLevel'), { field: 'values', path: 'logLevel' });
  assert.deepEqual(configFieldPlace('values'), { field: 'values', path: 'the values' });
  assert.deepEqual(configFieldPlace('body/reason'), { field: 'reason' });
  assert.deepEqual(configFieldPlace('/reason'), { field: 'reason' });
});

test('values read apart as text', () => {
  assert.equal(formatValue('info'), '"info"');
  assert.equal(formatValue(1), '1');
  assert.equal(formatValue(false), 'false');
  assert.equal(formatValue({ a: 1 }), '{"a":1}');
  assert.equal(formatValue(undefined), 'nothing');
});

test('versions compare by what they do: a left-out field takes its default', () => {
  const defaults = { logLevel: 'info', simulator: { declineRate: 0, latencyMs: 0 } };
  assert.deepEqual(withDefaults({ simulator: { latencyMs: 60 } }, defaults), {
    logLevel: 'info',
    simulator: { declineRate: 0, latencyMs: 60 },
  });
  assert.deepEqual(withDefaults({ logLevel: 'debug', extra: 1 }, defaults), {
    logLevel: 'debug',
    simulator: { declineRate: 0, latencyMs: 0 },
    extra: 1,
  });
  // A full version and a partial one that runs the same way differ only where they act differently.
  const full = { logLevel: 'info', simulator: { declineRate: 0, latencyMs: 25 } };
  assert.deepEqual(
    diffValues(withDefaults({ simulator: { latencyMs: 60 } }, defaults), withDefaults(full, defaults)),
    [{ kind: 'changed', path: 'simulator.latencyMs', before: 60, after: 25 }],
  );
});
