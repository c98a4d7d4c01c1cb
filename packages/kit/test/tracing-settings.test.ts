import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { sampledByRatio, TraceSampler } from '../src/telemetry/sampler.ts';
import { readTracingSettings } from '../src/telemetry/settings.ts';

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
  assert.equal(settings.ratio, 0.25);
  assert.deepEqual(settings.batch, { scheduledDelayMillis: 1000 });
  assert.equal(settings.problems.length, 1, 'the bad queue size is reported');
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
  const ratio = (env: NodeJS.ProcessEnv) => {
    const s = readTracingSettings({ ...endpoint, ...env });
    return s.enabled ? s.ratio : undefined;
  };
  assert.equal(ratio({}), 1);
  assert.equal(ratio({ OTEL_TRACES_SAMPLER: 'always_off' }), 0);
  assert.equal(ratio({ OTEL_TRACES_SAMPLER_ARG: '2' }), 1, 'out of range: every trace');
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

  const sampler = new TraceSampler(1);
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
    new TraceSampler(0).shouldSample(ROOT_CONTEXT, 'a'.repeat(32), 'x', SpanKind.INTERNAL, {}).decision,
    SamplingDecision.RECORD,
  );
});
