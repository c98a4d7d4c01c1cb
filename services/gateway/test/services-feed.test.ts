import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import type { OpsServiceList } from '@bazaar/contracts';
import { sleep } from '@bazaar/kit';
import { ServicesFeed } from '../src/ops/services-feed.ts';

/** A watcher that records what it is sent. */
function recorder() {
  const frames: string[] = [];
  let ended = false;
  return {
    frames,
    get ended() {
      return ended;
    },
    events: () => frames.filter((f) => f.startsWith('event: services\n')),
    send: (frame: string) => {
      frames.push(frame);
    },
    end: () => {
      ended = true;
    },
  };
}

function feedOf(timing: { coalesceMs?: number; refreshMs?: number; pingMs?: number }) {
  const changes = new EventEmitter();
  let version = 0;
  const list = (): OpsServiceList => ({
    items: [{ name: `v${version}`, instances: [] }],
    nextCursor: null,
    registryConnected: true,
    killable: false,
  });
  const feed = new ServicesFeed({
    list,
    changes,
    timing: { coalesceMs: 50, refreshMs: 60_000, pingMs: 60_000, ...timing },
  });
  return { feed, changes, bump: () => version++ };
}

describe('the ops services feed', () => {
  test('a watcher gets the list at once, as a services event of one JSON line', () => {
    const { feed } = feedOf({});
    const watcher = recorder();
    const unsubscribe = feed.subscribe(watcher);
    assert.equal(watcher.frames.length, 1);
    const [head, data, ...rest] = watcher.frames[0]!.split('\n');
    assert.equal(head, 'event: services');
    assert.deepEqual(JSON.parse(data!.replace(/^data: /, '')), {
      items: [{ name: 'v0', instances: [] }],
      nextCursor: null,
      registryConnected: true,
      killable: false,
    });
    assert.deepEqual(rest, ['', '']);
    unsubscribe();
  });

  test('a burst of registry changes is sent once, to every watcher', async () => {
    const { feed, changes, bump } = feedOf({ coalesceMs: 100 });
    const a = recorder();
    const b = recorder();
    const offA = feed.subscribe(a);
    const offB = feed.subscribe(b);
    bump();
    for (let i = 0; i < 5; i++) changes.emit('change', 'catalog');
    await sleep(250);
    for (const w of [a, b]) {
      assert.equal(w.events().length, 2);
      assert.match(w.events()[1]!, /"name":"v1"/);
    }
    offA();
    offB();
  });

  test('the list is sent again every refresh, and a ping comment keeps the stream open', async () => {
    const { feed } = feedOf({ refreshMs: 40, pingMs: 60 });
    const watcher = recorder();
    const off = feed.subscribe(watcher);
    await sleep(300);
    off();
    assert.ok(watcher.events().length >= 3, `${watcher.events().length} events`);
    assert.ok(watcher.frames.includes(': ping\n\n'));
  });

  test('the registry is listened to only while someone watches', () => {
    const { feed, changes } = feedOf({});
    assert.equal(changes.listenerCount('change'), 0);
    const off1 = feed.subscribe(recorder());
    const off2 = feed.subscribe(recorder());
    assert.equal(changes.listenerCount('change'), 1);
    assert.equal(feed.watchers, 2);
    off1();
    off1();
    assert.equal(changes.listenerCount('change'), 1);
    off2();
    assert.equal(changes.listenerCount('change'), 0);
    assert.equal(feed.watchers, 0);
  });

  test('closing ends every stream and sends nothing more', async () => {
    const { feed, changes } = feedOf({ refreshMs: 20 });
    const watcher = recorder();
    feed.subscribe(watcher);
    feed.close();
    assert.ok(watcher.ended);
    assert.equal(changes.listenerCount('change'), 0);
    const sent = watcher.frames.length;
    changes.emit('change', 'catalog');
    await sleep(80);
    assert.equal(watcher.frames.length, sent);
  });
});
