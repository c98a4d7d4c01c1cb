import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError, buildApp, defineService, sleep } from '../src/index.ts';

const probe = defineService({
  name: 'probe',
  routes: (app) => {
    app.get(
      '/api/items',
      {
        schema: {
          querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }),
        },
      },
      async (request) => ({ limit: (request.query as { limit?: number }).limit ?? 20 }),
    );
    app.post(
      '/api/items',
      {
        schema: {
          body: Type.Object({ name: Type.String({ minLength: 1 }), price: Type.Integer({ minimum: 0 }) }),
        },
      },
      async (_request, reply) => reply.code(201).send({ ok: true }),
    );
    app.get('/api/missing', async () => {
      throw new AppError('PRODUCT_NOT_FOUND', 'No product 42.');
    });
    app.get('/api/boom', async () => {
      throw new Error('SELECT secret FROM internal_table failed');
    });
    app.get('/api/slow', async () => {
      await sleep(50);
      return { done: true };
    });
  },
});

let app: FastifyInstance;
before(async () => {
  ({ app } = await buildApp(probe, { env: {} }));
});
after(() => app.close());

function assertProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  code: string,
) {
  assert.equal(res.statusCode, status);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json() as { status: number; code: string; type: string; title: string; detail: string };
  assert.equal(body.status, status);
  assert.equal(body.code, code);
  assert.ok(body.type && body.title && body.detail, 'type, title and detail are present');
  return body;
}

describe('problem+json for every error', () => {
  test('an unknown route is a 404 problem', async () => {
    assertProblem(await app.inject({ method: 'GET', url: '/api/nowhere' }), 404, 'ROUTE_NOT_FOUND');
  });

  test('limit=1000 and limit=abc are 400 with a field error naming limit', async () => {
    for (const limit of ['1000', 'abc', '0']) {
      const body = assertProblem(
        await app.inject({ url: `/api/items?limit=${limit}` }),
        400,
        'VALIDATION_FAILED',
      ) as unknown as {
        errors: { path: string; message: string }[];
      };
      assert.ok(
        body.errors.some((e) => e.path === 'querystring/limit'),
        JSON.stringify(body.errors),
      );
    }
  });

  test('a valid query passes with its coerced value', async () => {
    const res = await app.inject({ url: '/api/items?limit=7' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { limit: 7 });
  });

  test('a body of 70 KiB is 413', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/items',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(70 * 1024), price: 1 }),
    });
    assertProblem(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  test('malformed JSON is 400 MALFORMED_JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/items',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "x", price: }',
    });
    assertProblem(res, 400, 'MALFORMED_JSON');
  });

  test('missing and wrongly typed body fields are each named', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/items', payload: { price: -1 } });
    const body = assertProblem(res, 400, 'VALIDATION_FAILED') as unknown as { errors: { path: string }[] };
    const paths = body.errors.map((e) => e.path).sort();
    assert.deepEqual(paths, ['body/name', 'body/price']);
  });

  test('an AppError keeps its code and status', async () => {
    const body = assertProblem(await app.inject({ url: '/api/missing' }), 404, 'PRODUCT_NOT_FOUND');
    assert.equal(body.detail, 'No product 42.');
  });

  test('an unexpected error is a 500 that reveals nothing inside', async () => {
    const res = await app.inject({ url: '/api/boom' });
    assertProblem(res, 500, 'INTERNAL');
    assert.doesNotMatch(res.body, /SELECT|internal_table|at .*\.ts/);
  });
});

describe('request context', () => {
  test('X-Request-Id is echoed, or made when absent', async () => {
    const given = await app.inject({ url: '/api/items', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(given.headers['x-request-id'], 'abc-123');
    const made = await app.inject({ url: '/api/items' });
    assert.match(String(made.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const hostile = await app.inject({ url: '/api/items', headers: { 'x-request-id': 'a b\u0000c' } });
    assert.notEqual(hostile.headers['x-request-id'], 'a b\u0000c');
  });

  test('work whose deadline has passed is not started, and a counter says so', async () => {
    const res = await app.inject({ url: '/api/slow', headers: { 'bazaar-deadline-ms': '0' } });
    assertProblem(res, 504, 'DEADLINE_EXCEEDED');
    const metrics = (await app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /bazaar_deadline_exceeded_total\{stage="before-handler",service="probe"\} 1/);
  });
});

describe('operations endpoints', () => {
  test('/metrics counts requests by route template, method and status class', async () => {
    await app.inject({ url: '/api/items?limit=3' });
    const metrics = (await app.inject({ url: '/metrics' })).body;
    assert.match(
      metrics,
      /http_server_requests_total\{route="\/api\/items",method="GET",status="2xx",service="probe"\} \d+/,
    );
    assert.match(metrics, /http_server_request_duration_seconds_bucket\{[^}]*route="\/api\/items"/);
    assert.match(metrics, /http_server_requests_total\{route="\(unmatched\)",method="GET",status="4xx"/);
  });

  test('/health/live and /health/ready answer', async () => {
    assert.equal((await app.inject({ url: '/health/live' })).statusCode, 200);
    const ready = await app.inject({ url: '/health/ready' });
    assert.equal(ready.statusCode, 200);
  });

  test('/openapi.json lists the public routes only', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/api/items']);
    assert.equal(doc.paths['/metrics'], undefined);
    assert.equal(doc.paths['/health/ready'], undefined);
  });
});

test('readiness is 503 while the instance is not registered or is draining', async () => {
  let registered = false;
  let draining = false;
  const { app: other } = await buildApp(probe, {
    env: {},
    registered: () => registered,
    draining: () => draining,
  });
  try {
    assert.equal((await other.inject({ url: '/health/ready' })).statusCode, 503);
    registered = true;
    assert.equal((await other.inject({ url: '/health/ready' })).statusCode, 200);
    draining = true;
    assert.equal((await other.inject({ url: '/health/ready' })).statusCode, 503);
  } finally {
    await other.close();
  }
});

test('a JSON body is not coerced to its schema’s types; a query string is', async () => {
  const strict = defineService({
    name: 'strict',
    routes: (app) => {
      app.put(
        '/api/lines',
        { schema: { body: Type.Object({ quantity: Type.Integer({ minimum: 0 }) }) } },
        async (request) => request.body,
      );
      app.get(
        '/api/lines',
        { schema: { querystring: Type.Object({ limit: Type.Integer({ minimum: 1 }) }) } },
        async (request) => request.query,
      );
    },
  });
  const { app } = await buildApp(strict, { env: {} });
  try {
    for (const quantity of [null, '2', true, '']) {
      const res = await app.inject({ method: 'PUT', url: '/api/lines', payload: { quantity } });
      assert.equal(res.statusCode, 400, `quantity ${JSON.stringify(quantity)}`);
      assert.equal(res.json<{ code: string }>().code, 'VALIDATION_FAILED');
    }
    const ok = await app.inject({ method: 'PUT', url: '/api/lines', payload: { quantity: 2 } });
    assert.deepEqual(ok.json(), { quantity: 2 });
    const query = await app.inject({ method: 'GET', url: '/api/lines?limit=5' });
    assert.deepEqual(query.json(), { limit: 5 });
  } finally {
    await app.close();
  }
});
