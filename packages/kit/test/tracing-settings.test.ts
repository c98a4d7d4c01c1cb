import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SamplingDecision } from '@opentelemetry/sdk-trace-base';
import {
  NewTraceSampling,
  sampledByRatio,
  TraceSampler,
  withRootDecision,
} from '../src/telemetry/sampler.ts';
import { DEFAULT_SAMPLING, readTracingSettings } from '../src/telemetry/settings.ts';
import { installTracing, newTraceSampling, setSamplingPolicy } from '../src/telemetry/tracer.ts';

test('spans are recorded only when an OTLP endpoint is set and tracing is not turned off', () => {
  assert.equal(readTracingSettings({}).enabled, false);
  const on = readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
  assert.equal(on.enabled && on.url, 'http://collector:4318/v1/traces');
  const specific = readTracingSettings({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:8080/internal/otlp/v1/traces',
  });
  assert.equal(specific.enabled && specific.url, 'http://127.0.0.1:8080/internal/otlp/v1/traces');
  for (const off of [
    { BAZAAR_TRACING: 'off' },
    { OTEL_SDK_DISABLED: 'true' },
    { OTEL_TRACES_EXPORTER: 'none' },
  ]) {
    assert.equal(
      readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', ...off }).enabled,
      false,
      JSON.stringify(off),
    );
  }
  const notUrl = readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' });
  assert.equal(notUrl.enabled, false);
  assert.equal(notUrl.problems.length, 1);
});

test('headers, sampling ratio and batch settings come from the standard variables', () => {
  const settings = readTracingSettings({
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:8080/internal/otlp/v1/traces',
    OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cret,x-team=shop',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=ops',
    OTEL_TRACES_SAMPLER_ARG: '0.25',
    OTEL_BSP_SCHEDULE_DELAY: '1000',
    OTEL_BSP_MAX_QUEUE_SIZE: 'many',
  });
  assert.ok(settings.enabled);
  assert.deepEqual(settings.headers, { authorization: 'Bearer s3cret', 'x-team': 'ops' });
  assert.deepEqual(
    settings.sampling,
    { ratio: 0.25, perSecond: 10 },
    'the default sampler, with its reservoir',
  );
  assert.deepEqual(settings.batch, { scheduledDelayMillis: 1000 });
  assert.equal(settings.problems.length, 1, 'the bad queue size is reported');
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
  const sampling = (env: NodeJS.ProcessEnv) => {
    const s = readTracingSettings({ ...endpoint, ...env });
    return s.enabled ? s.sampling : undefined;
  };
  assert.deepEqual(sampling({}), DEFAULT_SAMPLING);
  assert.deepEqual(DEFAULT_SAMPLING, { ratio: 0.01, perSecond: 10 });
  assert.deepEqual(sampling({ OTEL_TRACES_SAMPLER: 'always_on' }), { ratio: 1, perSecond: 0 });
  assert.deepEqual(sampling({ OTEL_TRACES_SAMPLER: 'always_off' }), { ratio: 0, perSecond: 0 });
  assert.deepEqual(
    sampling({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio' }),
    { ratio: 1, perSecond: 0 },
    "a named ratio sampler: OpenTelemetry's default ratio, no reservoir",
  );
  assert.deepEqual(
    sampling({
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.5',
      BAZAAR_TRACES_PER_SECOND: '3',
    }),
    { ratio: 0.5, perSecond: 3 },
  );
  assert.deepEqual(sampling({ BAZAAR_TRACES_PER_SECOND: '0', OTEL_TRACES_SAMPLER_ARG: '0' }), {
    ratio: 0,
    perSecond: 0,
  });
  const bad = readTracingSettings({
    ...endpoint,
    OTEL_TRACES_SAMPLER_ARG: '2',
    BAZAAR_TRACES_PER_SECOND: '1.5',
  });
  assert.ok(bad.enabled);
  assert.deepEqual(bad.sampling, DEFAULT_SAMPLING, 'out of range: the defaults');
  assert.equal(bad.problems.length, 2, 'both bad values are reported');
});

test('a new trace is sampled by its id at the ratio; a child follows its parent', () => {
  const ids = Array.from(
    { length: 2000 },
    (_, i) => `${'0'.repeat(24)}${(i * 2_147_483).toString(16).padStart(8, '0')}`,
  );
  const share = ids.filter((id) => sampledByRatio(id, 0.3)).length / ids.length;
  assert.ok(share > 0.25 && share < 0.35, `sampled share ${share}`);
  assert.equal(sampledByRatio(ids[7]!, 0.3), sampledByRatio(ids[7]!, 0.3), 'the same id, the same answer');
  assert.equal(sampledByRatio('f'.repeat(32), 1), true);
  assert.equal(sampledByRatio('0'.repeat(32), 0), false);

  const sampler = new TraceSampler({ ratio: 1, perSecond: 0 });
  const api = { 'url.path': '/api/products' };
  const decide = (context = ROOT_CONTEXT, kind = SpanKind.SERVER, attributes = api) =>
    sampler.shouldSample(context, 'a'.repeat(32), 'GET', kind, attributes).decision;
  assert.equal(decide(), SamplingDecision.RECORD_AND_SAMPLED);
  assert.equal(
    decide(ROOT_CONTEXT, SpanKind.SERVER, { 'url.path': '/v1/instances/x/heartbeat' }),
    SamplingDecision.RECORD,
  );
  const parent = (flags: TraceFlags) =>
    trace.setSpanContext(ROOT_CONTEXT, {
      traceId: 'b'.repeat(32),
      spanId: 'c'.repeat(16),
      traceFlags: flags,
    });
  assert.equal(decide(parent(TraceFlags.NONE)), SamplingDecision.RECORD, 'unsampled parent: recorded only');
  assert.equal(
    decide(parent(TraceFlags.SAMPLED), SpanKind.SERVER, { 'url.path': '/internal/x' }),
    SamplingDecision.RECORD_AND_SAMPLED,
  );
  assert.equal(
    new TraceSampler({ ratio: 0, perSecond: 0 }).shouldSample(
      ROOT_CONTEXT,
      'a'.repeat(32),
      'x',
      SpanKind.INTERNAL,
      {},
    ).decision,
    SamplingDecision.RECORD,
  );
});

test('beyond the ratio, up to the reservoir of new traces a second are sampled; background never is', (t) => {
  let now = 5_000;
  t.mock.method(performance, 'now', () => now);
  const sampling = new NewTraceSampling({ ratio: 0, perSecond: 3 });
  const api = { 'url.path': '/api/products' };
  const id = (i: number) => `${'0'.repeat(24)}${(0xf000_0000 + i).toString(16)}`;
  const decide = (i: number, attributes = api) => sampling.samples(SpanKind.SERVER, attributes, id(i));
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((i) => decide(i)),
    [true, true, true, false, false],
    'three in the first second',
  );
  assert.equal(decide(6, { 'url.path': '/v1/instances/x/heartbeat' }), false, 'background traffic');
  now += 999;
  assert.equal(decide(7), false, 'still the same second');
  now += 1;
  assert.deepEqual(
    [8, 9, 10, 11].map((i) => decide(i)),
    [true, true, true, false],
    'three more the next second',
  );
  assert.equal(
    sampling.samples(SpanKind.INTERNAL, undefined, id(12)),
    false,
    'work of its own shares the reservoir',
  );

  // Traces within the ratio do not use the reservoir up.
  const both = new NewTraceSampling({ ratio: 0.5, perSecond: 1 });
  const low = `${'0'.repeat(24)}00000001`;
  assert.equal(both.samples(SpanKind.SERVER, api, low), true);
  assert.equal(both.samples(SpanKind.SERVER, api, low), true);
  assert.equal(both.samples(SpanKind.SERVER, api, id(1)), true, 'the reservoir is still whole');
  assert.equal(both.samples(SpanKind.SERVER, api, id(2)), false);

  // The SDK sampler asks the reservoir only for a root the kit has not decided already.
  const sampler = new TraceSampler({ ratio: 0, perSecond: 1 });
  now += 1_000;
  const root = () => sampler.shouldSample(ROOT_CONTEXT, id(20), 'x', SpanKind.INTERNAL, {}).decision;
  assert.equal(
    withRootDecision(false, root),
    SamplingDecision.RECORD,
    'decided unsampled: the reservoir is not asked',
  );
  assert.equal(root(), SamplingDecision.RECORD_AND_SAMPLED, 'the token is still there');
  assert.equal(root(), SamplingDecision.RECORD);
  assert.equal(withRootDecision(true, root), SamplingDecision.RECORD_AND_SAMPLED);
});

test('a sampling policy set at run time holds for the tracer installed now and for one installed later', async () => {
  const first = installTracing({
    service: 'probe',
    instanceId: 'probe-1',
    exporter: new InMemorySpanExporter(),
  });
  assert.deepEqual(newTraceSampling().policy, { ratio: 1, perSecond: 0 }, 'as installed');
  setSamplingPolicy({ ratio: 0.2, perSecond: 4 });
  assert.deepEqual(newTraceSampling().policy, { ratio: 0.2, perSecond: 4 });
  await first.shutdown();
  const second = installTracing({
    service: 'probe',
    instanceId: 'probe-1',
    exporter: new InMemorySpanExporter(),
    sampling: DEFAULT_SAMPLING,
  });
  assert.deepEqual(
    newTraceSampling().policy,
    { ratio: 0.2, perSecond: 4 },
    'the live policy outlives a reinstall',
  );
  await second.shutdown();
});
