/**
 * A stand-in for the identity service in the kit's unit tests: Ed25519 keys made here, a JWKS,
 * a revocation list and a service-token exchange on a loopback HTTP server, with counters.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Revocations } from '@bazaar/contracts';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export interface FakeKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** A fresh Ed25519 signing key with a random kid. */
export async function newKey(kid = `k-${randomUUID().slice(0, 8)}`): Promise<FakeKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' } };
}

/** Signs `claims` with `key`; the header defaults to what identity sends. */
export function sign(
  key: FakeKey,
  claims: Record<string, unknown>,
  header: { typ?: string; kid?: string } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', typ: header.typ ?? 'at+jwt', kid: header.kid ?? key.kid })
    .sign(key.privateKey);
}

/** Claims of a good access token issued `now` (seconds), overridable. */
export function accessClaims(
  nowSeconds: number,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    iss: 'bazaar-identity',
    aud: 'bazaar',
    sub: randomUUID(),
    role: 'customer',
    sid: randomUUID(),
    jti: randomUUID(),
    typ: 'access',
    iat: nowSeconds,
    exp: nowSeconds + 600,
    ...over,
  };
}

/** Claims of a good service token from `svc` to `aud`, overridable. */
export function serviceClaims(
  nowSeconds: number,
  svc: string,
  aud: string,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    iss: 'bazaar-identity',
    aud,
    sub: `service:${svc}`,
    svc,
    jti: randomUUID(),
    typ: 'service',
    iat: nowSeconds,
    exp: nowSeconds + 300,
    ...over,
  };
}

export interface FakeIdentity {
  url: string;
  keys: FakeKey[];
  revocations: Revocations;
  /** Requests seen per path. */
  hits: Map<string, number>;
  /** What each exchange answers; the default signs a real service token. */
  exchange: (audience: string, credential: string | undefined) => { status: number; body: unknown };
  close(): Promise<void>;
}

/** Starts a fake identity on a free loopback port, publishing `keys`. */
export async function startFakeIdentity(keys: FakeKey[]): Promise<FakeIdentity> {
  const fake: FakeIdentity = {
    url: '',
    keys,
    revocations: { subjects: [], sessions: [], generatedAt: 0 },
    hits: new Map(),
    exchange: () => ({ status: 500, body: {} }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    fake.hits.set(path, (fake.hits.get(path) ?? 0) + 1);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/.well-known/jwks.json') return send(200, { keys: fake.keys.map((k) => k.publicJwk) });
    if (path === '/internal/revocations') return send(200, fake.revocations);
    if (path === '/internal/service-tokens' && req.method === 'POST') {
      let raw = '';
      req.on('data', (chunk) => {
        raw += chunk;
      });
      req.on('end', () => {
        const { audience } = JSON.parse(raw) as { audience: string };
        const credential = req.headers.authorization?.replace(/^Bearer /, '');
        const answer = fake.exchange(audience, credential);
        send(answer.status, answer.body);
      });
      return;
    }
    send(404, { code: 'ROUTE_NOT_FOUND' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
