import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientAddress, TrustedProxies } from '../src/domain/client-address.ts';

test('without trusted proxies the socket address is the client, whatever X-Forwarded-For says', () => {
  const none = new TrustedProxies('');
  assert.equal(clientAddress('10.0.0.5', '1.2.3.4', none), '10.0.0.5');
  assert.equal(clientAddress('::ffff:127.0.0.3', undefined, none), '127.0.0.3');
});

test('behind a trusted proxy the first untrusted hop from the right is the client', () => {
  const trusted = new TrustedProxies('10.0.0.0/8, 192.168.1.7');
  assert.equal(clientAddress('10.0.0.5', '1.2.3.4', trusted), '1.2.3.4');
  // The client wrote "6.6.6.6" itself; the proxies appended what they saw.
  assert.equal(clientAddress('10.0.0.5', '6.6.6.6, 1.2.3.4, 192.168.1.7', trusted), '1.2.3.4');
  assert.equal(clientAddress('10.0.0.5', ['6.6.6.6', '1.2.3.4'], trusted), '1.2.3.4');
  assert.equal(clientAddress('10.0.0.5', '1.2.3.4:5678', trusted), '1.2.3.4');
});

test('an untrusted socket cannot choose its address by sending X-Forwarded-For', () => {
  const trusted = new TrustedProxies('10.0.0.0/8');
  assert.equal(clientAddress('203.0.113.9', '10.0.0.1', trusted), '203.0.113.9');
});

test('junk in X-Forwarded-For stops the walk at the last trusted hop', () => {
  const trusted = new TrustedProxies('10.0.0.0/8');
  assert.equal(clientAddress('10.0.0.5', 'nonsense', trusted), '10.0.0.5');
  assert.equal(clientAddress('10.0.0.5', '10.0.0.6, 10.0.0.7', trusted), '10.0.0.6');
});

test('a malformed trusted-proxy setting is refused', () => {
  assert.throws(() => new TrustedProxies('10.0.0.0/33'), /prefix/);
  assert.throws(() => new TrustedProxies('proxy.internal'), /not an address/);
});
