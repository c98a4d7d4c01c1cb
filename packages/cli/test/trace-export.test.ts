import assert from 'node:assert/strict';
import { test } from 'node:test';
import { embeddedTraceExport } from '../src/trace-export.ts';

test("every other process exports its spans to the gateway's collector, with this start's token", () => {
  const { services, gateway } = embeddedTraceExport({
    gatewayPort: 8080,
    env: {},
    token: 'tok-0123456789abcdef',
  });
  assert.deepEqual(gateway, {
    BAZAAR_COLLECTOR_TOKEN: 'tok-0123456789abcdef',
    OTEL_BSP_SCHEDULE_DELAY: '1000',
  });
  assert.deepEqual(services, {
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:8080/internal/otlp/v1/traces',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer%20tok-0123456789abcdef',
    OTEL_BSP_SCHEDULE_DELAY: '1000',
  });
  const a = embeddedTraceExport({ gatewayPort: 8080, env: {} }).gateway.BAZAAR_COLLECTOR_TOKEN;
  const b = embeddedTraceExport({ gatewayPort: 8080, env: {} }).gateway.BAZAAR_COLLECTOR_TOKEN;
  assert.ok(a.length >= 32 && a !== b, 'a fresh random token per start');
});

test("the user's own OTLP endpoint is respected, and no endpoint is guessed for port 0", () => {
  for (const env of [
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' },
    { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://otel:4318/v1/traces' },
  ]) {
    assert.deepEqual(embeddedTraceExport({ gatewayPort: 8080, env }).services, {});
  }
  assert.deepEqual(embeddedTraceExport({ gatewayPort: 0, env: {} }).services, {});
  const slower = embeddedTraceExport({ gatewayPort: 9000, env: { OTEL_BSP_SCHEDULE_DELAY: '5000' } });
  assert.equal(slower.services.OTEL_BSP_SCHEDULE_DELAY, '5000');
});
