import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { FakeRegistry, type Harness, startHarness } from './support/ops-harness.ts';

const INDEX = `<!doctype html><html lang="en"><head><title>Bazaar</title>
<script type="module" crossorigin src="/assets/index-abc123.js"></script>
<link rel="stylesheet" crossorigin href="/assets/index-def456.css"></head>
<body><div id="root"></div></body></html>`;
const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

let harness: Harness;
let dir: string;
before(async () => {
  harness = await startHarness();
  dir = await mkdtemp(join(tmpdir(), 'bazaar-web-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), INDEX);
  await writeFile(join(dir, 'assets', 'index-abc123.js'), 'console.log("shop");\n');
  await writeFile(join(dir, 'assets', 'index-def456.css'), 'body { margin: 0 }\n');
  await writeFile(join(dir, 'robots.txt'), 'User-agent: *\n');
});
after(async () => {
  await harness.close();
  await rm(dir, { recursive: true, force: true });
});

function assertProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  code: string,
) {
  assert.equal(res.statusCode, 404);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal((res.json() as { code: string }).code, code);
}

describe('the built web app', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await harness.gateway(new FakeRegistry(), { BAZAAR_WEB_DIR: dir });
  });
  after(() => app.close());

  test('/ is the app’s page, revalidated each time, with a policy that lets its own scripts run', async () => {
    for (const url of ['/', '/index.html']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 200);
      assert.equal(res.body, INDEX);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.match(String(res.headers.etag), /^"[\w-]+"$/);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /style-src 'self'/);
      assert.doesNotMatch(csp, /default-src 'none'/);
    }
  });

  test('hashed assets are cached for a year with their own types; other files are revalidated', async () => {
    const js = await app.inject({ url: '/assets/index-abc123.js' });
    assert.equal(js.statusCode, 200);
    assert.equal(js.body, 'console.log("shop");\n');
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    const css = await app.inject({ url: '/assets/index-def456.css?v=1' });
    assert.match(String(css.headers['content-type']), /^text\/css/);
    const robots = await app.inject({ url: '/robots.txt' });
    assert.equal(robots.statusCode, 200);
    assert.equal(robots.headers['cache-control'], 'no-cache');
  });

  test('a known ETag is answered 304 without a body; HEAD has the headers only', async () => {
    const first = await app.inject({ url: '/assets/index-abc123.js' });
    const again = await app.inject({
      url: '/assets/index-abc123.js',
      headers: { 'if-none-match': String(first.headers.etag) },
    });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    // A revalidated page keeps the page's policy: browsers take the 304's headers for the cached page.
    const page = await app.inject({ url: '/cart', headers: HTML });
    const revalidated = await app.inject({
      url: '/cart',
      headers: { ...HTML, 'if-none-match': String(page.headers.etag) },
    });
    assert.equal(revalidated.statusCode, 304);
    assert.equal(revalidated.headers['content-security-policy'], page.headers['content-security-policy']);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    const head = await app.inject({ method: 'HEAD', url: '/products/42', headers: HTML });
    assert.equal(head.statusCode, 200);
    assert.match(String(head.headers['content-type']), /^text\/html/);
    assert.equal(head.body, '');
  });

  test('any other page a browser asks for gets the app’s page (the app routes itself)', async () => {
    for (const url of ['/products/42', '/ops/services?x=1', '/cart', '/assets-like/thing']) {
      const res = await app.inject({ url, headers: HTML });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.body, INDEX);
    }
  });

  test('API, well-known, metrics and health paths stay theirs: unknown ones are 404 problems, even for browsers', async () => {
    for (const url of [
      '/api/nothing',
      '/.well-known/openid-configuration',
      '/health/nothing',
      '/assets/nope.js',
    ]) {
      assertProblem(await app.inject({ url, headers: HTML }), 'ROUTE_NOT_FOUND');
    }
    const metrics = await app.inject({ url: '/metrics', headers: HTML });
    assert.equal(metrics.statusCode, 200);
    assert.match(String(metrics.headers['content-type']), /^text\/plain/);
  });

  test('a request that does not accept HTML, or is not a GET, still gets the 404 problem', async () => {
    assertProblem(await app.inject({ url: '/products/42' }), 'ROUTE_NOT_FOUND');
    assertProblem(await app.inject({ url: '/products/42', headers: { accept: '*/*' } }), 'ROUTE_NOT_FOUND');
    assertProblem(
      await app.inject({ method: 'DELETE', url: '/products/42', headers: HTML }),
      'ROUTE_NOT_FOUND',
    );
  });

  test('request paths never reach the file system', async () => {
    for (const url of ['/../package.json', '/assets/../../service.ts', '/%2e%2e/%2e%2e/etc/passwd']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 404, url);
    }
  });
});

describe('when the web app is not built', () => {
  test('/ is the landing page, and one warning says how to build the app', async () => {
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const log = pino({ level: 'warn' }, sink);
    const app = await harness.gateway(new FakeRegistry(), { BAZAAR_WEB_DIR: join(dir, 'missing') }, log);
    try {
      const res = await app.inject({ url: '/' });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /The storefront is not built yet/);
      assert.match(String(res.headers['content-security-policy']), /script-src 'self'/);
      const warnings = lines.filter((l) => /web app is not built/.test(l.msg));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!.msg, /npm run build:web/);
    } finally {
      await app.close();
    }
  });
});
