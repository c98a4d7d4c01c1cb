import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RingBuffer } from '../src/domain/ring-buffer.ts';
import {
  type Bucket,
  bucketQuantile,
  isOwnTraffic,
  type MetricJson,
  readTotals,
  type TrafficTotals,
  totalsDelta,
  trafficPoint,
} from '../src/domain/traffic.ts';

const INF = Number.POSITIVE_INFINITY;

/** prom-client JSON of a counter and a histogram, one label set per route and status. */
function metrics(series: { route: string; status: string; count: number; buckets: [number, number][] }[]) {
  const requests: MetricJson = {
    name: 'http_server_requests_total',
    values: series.map((s) => ({
      value: s.count,
      labels: { route: s.route, method: 'GET', status: s.status, service: 'x' },
    })),
  };
  const duration: MetricJson = {
    name: 'http_server_request_duration_seconds',
    values: series.flatMap((s) => [
      ...s.buckets.map(([le, value]) => ({
        value,
        metricName: 'http_server_request_duration_seconds_bucket',
        labels: { le: le === INF ? '+Inf' : le, route: s.route, method: 'GET', status: s.status },
      })),
      {
        value: s.count,
        metricName: 'http_server_request_duration_seconds_count',
        labels: { route: s.route, method: 'GET', status: s.status },
      },
    ]),
  };
  const other: MetricJson = { name: 'process_cpu_seconds_total', values: [{ value: 9, labels: {} }] };
  return [other, requests, duration];
}

describe('reading an instance’s totals', () => {
  test('sums routes, counts 5xx as errors, and leaves out the collector’s and health checks’ own samples', () => {
    const totals = readTotals(
      metrics([
        {
          route: '/api/products',
          status: '2xx',
          count: 8,
          buckets: [
            [0.01, 5],
            [0.1, 8],
            [INF, 8],
          ],
        },
        {
          route: '/api/products',
          status: '5xx',
          count: 2,
          buckets: [
            [0.01, 0],
            [0.1, 1],
            [INF, 2],
          ],
        },
        {
          route: '/metrics',
          status: '2xx',
          count: 100,
          buckets: [
            [0.01, 100],
            [0.1, 100],
            [INF, 100],
          ],
        },
        {
          route: '/health/ready',
          status: '2xx',
          count: 50,
          buckets: [
            [0.01, 50],
            [0.1, 50],
            [INF, 50],
          ],
        },
        {
          route: '/api/ops/watch',
          status: '2xx',
          count: 1,
          buckets: [
            [0.01, 0],
            [0.1, 0],
            [INF, 1],
          ],
        },
      ]),
    );
    assert.deepEqual(totals, {
      requests: 10,
      errors: 2,
      buckets: [
        { le: 0.01, count: 5 },
        { le: 0.1, count: 9 },
        { le: INF, count: 10 },
      ],
    });
  });

  test('an instance without HTTP metrics has nothing', () => {
    assert.deepEqual(readTotals([]), { requests: 0, errors: 0, buckets: [] });
  });

  test('own traffic is the scrape, health and the ops stream', () => {
    assert.ok(isOwnTraffic('/metrics'));
    assert.ok(isOwnTraffic('/health/live'));
    assert.ok(isOwnTraffic('/api/ops/watch'));
    assert.ok(!isOwnTraffic('/api/ops/services'));
    assert.ok(!isOwnTraffic('/*'));
  });
});

describe('deltas between scrapes', () => {
  const at = (requests: number, errors: number, counts: number[]): TrafficTotals => ({
    requests,
    errors,
    buckets: counts.map((count, i) => ({ le: [0.01, 0.1, INF][i]!, count })),
  });

  test('what grew since the previous scrape', () => {
    assert.deepEqual(totalsDelta(at(10, 1, [5, 9, 10]), at(25, 4, [12, 22, 25])), at(15, 3, [7, 13, 15]));
  });

  test('a counter that went down means a restart: everything counts from 0', () => {
    assert.deepEqual(totalsDelta(at(1000, 10, [500, 900, 1000]), at(7, 1, [3, 6, 7])), at(7, 1, [3, 6, 7]));
    // Only one bucket lower: still a restart, never a negative count.
    assert.deepEqual(totalsDelta(at(10, 0, [9, 10, 10]), at(12, 0, [4, 12, 12])), at(12, 0, [4, 12, 12]));
  });

  test('a bucket the previous scrape did not have counts from 0', () => {
    const before: TrafficTotals = { requests: 0, errors: 0, buckets: [] };
    assert.deepEqual(totalsDelta(before, at(3, 0, [1, 3, 3])), at(3, 0, [1, 3, 3]));
  });
});

describe('quantiles from buckets', () => {
  const buckets = (pairs: [number, number][]): Bucket[] => pairs.map(([le, count]) => ({ le, count }));

  test('interpolates linearly inside the bucket the rank falls in', () => {
    // 100 observations: 50 under 10 ms, 40 in (10, 100] ms, 10 in (100 ms, 1 s].
    const b = buckets([
      [0.01, 50],
      [0.1, 90],
      [1, 100],
      [INF, 100],
    ]);
    assert.equal(bucketQuantile(0.5, b), 0.01);
    assert.ok(Math.abs(bucketQuantile(0.7, b)! - 0.055) < 1e-12);
    assert.ok(Math.abs(bucketQuantile(0.99, b)! - 0.91) < 1e-12);
    assert.equal(bucketQuantile(0.25, b), 0.005, 'the first bucket starts at 0');
  });

  test('a rank in the +Inf bucket reads as the highest finite bound', () => {
    assert.equal(
      bucketQuantile(
        0.99,
        buckets([
          [0.5, 1],
          [10, 2],
          [INF, 10],
        ]),
      ),
      10,
    );
  });

  test('no observations, no quantile', () => {
    assert.equal(bucketQuantile(0.5, []), null);
    assert.equal(
      bucketQuantile(
        0.5,
        buckets([
          [0.1, 0],
          [INF, 0],
        ]),
      ),
      null,
    );
  });
});

describe('a service’s point', () => {
  const AT = Date.parse('2025-01-01T00:00:05.000Z');

  test('rates add up over instances, each over its own step; errors and latency over all requests', () => {
    const point = trafficPoint(AT, [
      {
        seconds: 5,
        delta: {
          requests: 50,
          errors: 5,
          buckets: [
            { le: 0.01, count: 40 },
            { le: 0.1, count: 50 },
            { le: INF, count: 50 },
          ],
        },
      },
      {
        // This one missed a round: its delta covers 10 s.
        seconds: 10,
        delta: {
          requests: 50,
          errors: 0,
          buckets: [
            { le: 0.01, count: 10 },
            { le: 0.1, count: 50 },
            { le: INF, count: 50 },
          ],
        },
      },
    ]);
    assert.deepEqual(point, {
      at: '2025-01-01T00:00:05.000Z',
      requestRate: 15,
      errorRate: 0.05,
      p50Ms: 10,
      p99Ms: 98.2,
    });
  });

  test('without requests: rate 0, error share 0, no latency', () => {
    const point = trafficPoint(AT, [{ seconds: 5, delta: { requests: 0, errors: 0, buckets: [] } }]);
    assert.deepEqual(point, {
      at: '2025-01-01T00:00:05.000Z',
      requestRate: 0,
      errorRate: 0,
      p50Ms: null,
      p99Ms: null,
    });
  });
});

describe('ring buffer', () => {
  test('keeps the latest items, oldest first', () => {
    const ring = new RingBuffer<number>(3);
    assert.deepEqual(ring.toArray(), []);
    assert.equal(ring.last(), undefined);
    for (let i = 1; i <= 5; i++) ring.push(i);
    assert.deepEqual(ring.toArray(), [3, 4, 5]);
    assert.equal(ring.size, 3);
    assert.equal(ring.last(), 5);
  });

  test('refuses a capacity that holds nothing', () => {
    assert.throws(() => new RingBuffer(0), RangeError);
  });
});
