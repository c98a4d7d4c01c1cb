import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RegistryHeartbeats } from '../src/ops/heartbeats.ts';

const list = (at: string) => ({
  services: [
    {
      name: 'catalog',
      instances: [{ id: 'catalog-a1', lastHeartbeatAt: at }],
    },
  ],
});

test('heartbeats come from the first registry that answers, and the last list stays when none does', async () => {
  const answers: Record<string, () => Response> = {
    'http://r1/v1/services': () => {
      throw new Error('connection refused');
    },
    'http://r2/v1/services': () => Response.json(list('2026-11-23T10:00:02.000Z')),
  };
  const fakeFetch = (async (url: string) => answers[url]!()) as unknown as typeof fetch;
  const heartbeats = new RegistryHeartbeats({ urls: ['http://r1', 'http://r2'], fetch: fakeFetch });
  assert.equal(heartbeats.lastHeartbeat('catalog-a1'), undefined);
  await heartbeats.refresh();
  assert.equal(heartbeats.lastHeartbeat('catalog-a1'), '2026-11-23T10:00:02.000Z');

  answers['http://r2/v1/services'] = () => new Response('down', { status: 503 });
  await heartbeats.refresh();
  assert.equal(heartbeats.lastHeartbeat('catalog-a1'), '2026-11-23T10:00:02.000Z', 'kept');

  answers['http://r2/v1/services'] = () => Response.json({ services: [] });
  await heartbeats.refresh();
  assert.equal(
    heartbeats.lastHeartbeat('catalog-a1'),
    undefined,
    'an instance gone from the registry is forgotten',
  );
});
