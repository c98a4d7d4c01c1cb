import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import { buildApp, defineService } from '../src/index.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bazaar-tls-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'].concat([
      '-subj',
      '/CN=localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]),
    { stdio: 'ignore' },
  );
});
after(() => rm(dir, { recursive: true, force: true }));

const hello = defineService({
  name: 'hello',
  routes: (app) => {
    app.get('/api/hello', async (request) => ({ protocol: request.protocol }));
  },
});

test('with BAZAAR_TLS_CERT and BAZAAR_TLS_KEY the service answers over HTTPS', async () => {
  const { app } = await buildApp(hello, {
    env: { BAZAAR_TLS_CERT: join(dir, 'cert.pem'), BAZAAR_TLS_KEY: join(dir, 'key.pem') },
  });
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const res = await request(`https://127.0.0.1:${port}/api/hello`, { dispatcher });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), { protocol: 'https' });
    await assert.rejects(request(`http://127.0.0.1:${port}/api/hello`, { headersTimeout: 2_000 }));
  } finally {
    await dispatcher.close();
    await app.close();
  }
});

test('only one of the two is a start-up error', async () => {
  await assert.rejects(
    buildApp(hello, { env: { BAZAAR_TLS_CERT: join(dir, 'cert.pem') } }),
    /BAZAAR_TLS_KEY/,
  );
});
