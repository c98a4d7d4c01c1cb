import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AdminUser, AdminUserPage, Problem, User } from '@bazaar/contracts';
import type { ManualClock } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import { client, identityApp, identityDatabase } from './support/identity.ts';

let db: Awaited<ReturnType<typeof identityDatabase>>;
let app: FastifyInstance;
let api: ReturnType<typeof client>;
let clock: ManualClock;

before(async () => {
  db = await identityDatabase();
  ({ app, clock } = await identityApp(db.pool));
  api = client(app);
});
after(async () => {
  await app?.close();
  await db?.drop();
});

async function makeAdmin(email: string): Promise<string> {
  await api.register(email);
  await db.pool.query(`UPDATE users SET role = 'admin' WHERE email = $1`, [email]);
  return (await api.login(email)).accessToken;
}

describe('registration', () => {
  test('register, log in and read /me: the same user, email trimmed and lower-cased', async () => {
    const res = await api.register('  Ada@Example.COM ', 'correct horse battery', { name: ' Ada ' });
    assert.equal(res.statusCode, 201);
    const user = res.json<User>();
    assert.deepEqual(Object.keys(user).sort(), ['createdAt', 'email', 'id', 'name', 'role']);
    assert.equal(user.email, 'ada@example.com');
    assert.equal(user.name, 'Ada');
    assert.equal(user.role, 'customer');

    const pair = await api.login('ADA@example.com ');
    assert.equal(pair.tokenType, 'Bearer');
    assert.equal(pair.expiresIn, 600);
    assert.match(pair.refreshToken, /^bzr_[A-Za-z0-9_-]{43}$/);
    const me = await api.me(pair.accessToken);
    assert.equal(me.statusCode, 200);
    assert.deepEqual(me.json(), user);
  });

  test('the password is stored as an Argon2id hash with the OWASP parameters, never in clear', async () => {
    await api.register('hash@example.com', 'a password of mine');
    const { rows } = await db.pool.query('SELECT password_hash FROM users WHERE email = $1', [
      'hash@example.com',
    ]);
    assert.match(rows[0].password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.doesNotMatch(rows[0].password_hash, /a password of mine/);
  });

  test('a second registration with the same email, in another case, is 409 EMAIL_TAKEN', async () => {
    assert.equal((await api.register('dup@example.com')).statusCode, 201);
    const again = await api.register('DUP@Example.com');
    assert.equal(again.statusCode, 409);
    assert.equal(again.json<Problem>().code, 'EMAIL_TAKEN');
  });

  test('registering with role "admin" is refused and creates no account', async () => {
    const res = await api.register('mallory@example.com', 'correct horse battery', { role: 'admin' });
    assert.equal(res.statusCode, 400);
    assert.ok(res.json<Problem>().errors?.some((e) => e.path === 'body/role'));
    const { rowCount } = await db.pool.query('SELECT 1 FROM users WHERE email = $1', ['mallory@example.com']);
    assert.equal(rowCount, 0);
  });

  test('a merchant may register as merchant', async () => {
    const res = await api.register('shop@example.com', 'correct horse battery', { role: 'merchant' });
    assert.equal(res.json<User>().role, 'merchant');
  });

  test('unknown fields are refused with 400 naming them', async () => {
    const res = await api.register('extra@example.com', 'correct horse battery', { isAdmin: true });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(
      res.json<Problem>().errors?.map((e) => e.path),
      ['body/isAdmin'],
    );
  });

  test('passwords shorter than 10 or longer than 128 characters, bad emails and blank names are 400', async () => {
    for (const [body, field] of [
      [{ email: 'a@example.com', password: 'short', name: 'A' }, 'body/password'],
      [{ email: 'a@example.com', password: 'x'.repeat(129), name: 'A' }, 'body/password'],
      [{ email: 'not-an-email', password: 'long enough pass', name: 'A' }, 'body/email'],
      [{ email: 'b@example.com', password: 'long enough pass', name: '   ' }, 'body/name'],
    ] as const) {
      const res = await api.send('POST', '/api/auth/register', body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.ok(
        res.json<Problem>().errors?.some((e) => e.path === field),
        `${field}: ${res.body}`,
      );
    }
  });
});

describe('login', () => {
  test('a wrong password and an unknown email both answer 401 INVALID_CREDENTIALS, alike', async () => {
    await api.register('bob@example.com');
    const wrong = await api.send('POST', '/api/auth/login', {
      email: 'bob@example.com',
      password: 'not the password',
    });
    const unknown = await api.send('POST', '/api/auth/login', {
      email: 'nobody@example.com',
      password: 'not the password',
    });
    for (const res of [wrong, unknown]) {
      assert.equal(res.statusCode, 401);
      assert.equal(res.json<Problem>().code, 'INVALID_CREDENTIALS');
    }
    assert.equal(wrong.json<Problem>().detail, unknown.json<Problem>().detail);
  });

  test('an unknown email takes about as long as a wrong password (one Argon2 verification each)', async () => {
    await api.register('timing@example.com');
    const time = async (email: string) => {
      const started = performance.now();
      await api.send('POST', '/api/auth/login', { email, password: 'not the password' });
      return performance.now() - started;
    };
    await time('nobody@example.com');
    // Interleaved, best of five each: a burst of other work on the machine slows both alike.
    const knownTimes: number[] = [];
    const unknownTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      knownTimes.push(await time('timing@example.com'));
      unknownTimes.push(await time('ghost@example.com'));
    }
    const known = Math.min(...knownTimes);
    const unknown = Math.min(...unknownTimes);
    assert.ok(
      unknown > known * 0.5,
      `unknown email ${unknown.toFixed(0)} ms vs wrong password ${known.toFixed(0)} ms`,
    );
  });
});

describe('password change', () => {
  test("ends every other session but not the caller's; the old password stops working", async () => {
    await api.register('carol@example.com', 'the first password');
    const mine = await api.login('carol@example.com', 'the first password');
    const other = await api.login('carol@example.com', 'the first password');

    const wrong = await api.send(
      'POST',
      '/api/auth/password',
      { currentPassword: 'not my password', newPassword: 'the second password' },
      mine.accessToken,
    );
    assert.equal(wrong.statusCode, 403);
    assert.equal(wrong.json<Problem>().code, 'CURRENT_PASSWORD_INCORRECT');

    const changed = await api.send(
      'POST',
      '/api/auth/password',
      { currentPassword: 'the first password', newPassword: 'the second password' },
      mine.accessToken,
    );
    assert.equal(changed.statusCode, 204);
    assert.equal((await api.me(mine.accessToken)).statusCode, 200, "the caller's access token still works");
    assert.equal((await api.refresh(mine.refreshToken)).statusCode, 200, "the caller's session goes on");
    assert.equal(
      (await api.me(other.accessToken)).statusCode,
      401,
      "the other session's access token is refused",
    );
    assert.equal((await api.refresh(other.refreshToken)).statusCode, 401, 'the other session cannot refresh');
    const old = await api.send('POST', '/api/auth/login', {
      email: 'carol@example.com',
      password: 'the first password',
    });
    assert.equal(old.statusCode, 401);
    await api.login('carol@example.com', 'the second password');
  });
});

describe('admin', () => {
  test('a customer on admin routes gets 403, without a token 401 with WWW-Authenticate', async () => {
    await api.register('eve@example.com');
    const eve = await api.login('eve@example.com');
    assert.equal((await api.send('GET', '/api/admin/users', undefined, eve.accessToken)).statusCode, 403);
    const anonymous = await api.send('GET', '/api/admin/users');
    assert.equal(anonymous.statusCode, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /^Bearer/);
  });

  test('admins page through users and search them by email or name', async () => {
    const admin = await makeAdmin('root@example.com');
    for (const n of [1, 2, 3]) {
      clock.advance(1);
      await api.register(`page${n}@example.com`, 'correct horse battery', { name: `Pager ${n}` });
    }
    const seen: string[] = [];
    let url: string | null = '/api/admin/users?limit=2&q=pager';
    while (url) {
      const res = await api.send('GET', url, undefined, admin);
      assert.equal(res.statusCode, 200, res.body);
      const page = res.json<AdminUserPage>();
      seen.push(...page.items.map((u) => u.email));
      url = page.nextCursor ? `/api/admin/users?limit=2&q=pager&cursor=${page.nextCursor}` : null;
    }
    assert.deepEqual(seen, ['page1@example.com', 'page2@example.com', 'page3@example.com']);
    const bad = await api.send('GET', '/api/admin/users?cursor=nonsense', undefined, admin);
    assert.equal(bad.statusCode, 400);
  });

  test('a disabled user cannot log in, loses its sessions, and shows in /internal/revocations', async () => {
    const admin = await makeAdmin('boss@example.com');
    const dave = (await api.register('dave@example.com')).json<User>();
    const session = await api.login('dave@example.com');

    const res = await api.send('PATCH', `/api/admin/users/${dave.id}`, { disabled: true }, admin);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<AdminUser>().disabled, true);

    const login = await api.send('POST', '/api/auth/login', {
      email: 'dave@example.com',
      password: 'correct horse battery',
    });
    assert.equal(login.statusCode, 401);
    assert.equal(login.json<Problem>().code, 'INVALID_CREDENTIALS');
    assert.equal((await api.me(session.accessToken)).statusCode, 401);
    assert.equal((await api.refresh(session.refreshToken)).statusCode, 401);

    const revocations = await app.inject({
      method: 'GET',
      url: '/internal/revocations',
      headers: { authorization: 'Bearer bzc_catalog_test-credential-of-catalog-000000' },
    });
    assert.equal(revocations.statusCode, 200);
    const body = revocations.json<{
      subjects: { sub: string; notBefore: number }[];
      sessions: { sid: string }[];
    }>();
    const claims = JSON.parse(Buffer.from(session.accessToken.split('.')[1]!, 'base64url').toString());
    const subject = body.subjects.find((s) => s.sub === dave.id);
    assert.ok(subject, 'the disabled user is listed');
    assert.ok(claims.iat < subject.notBefore, 'its earlier tokens fall before notBefore');
    assert.ok(
      body.sessions.some((s) => s.sid === claims.sid),
      'its session is listed',
    );

    const enabled = await api.send('PATCH', `/api/admin/users/${dave.id}`, { disabled: false }, admin);
    assert.equal(enabled.json<AdminUser>().disabled, false);
    await api.login('dave@example.com');
  });

  test("a role change ends the user's sessions; admins cannot demote themselves; unknown ids are 404", async () => {
    const admin = await makeAdmin('chief@example.com');
    const frank = (await api.register('frank@example.com')).json<User>();
    const session = await api.login('frank@example.com');
    const res = await api.send('PATCH', `/api/admin/users/${frank.id}`, { role: 'merchant' }, admin);
    assert.equal(res.json<AdminUser>().role, 'merchant');
    assert.equal((await api.me(session.accessToken)).statusCode, 401);
    const again = await api.login('frank@example.com');
    assert.equal((await api.me(again.accessToken)).json<User>().role, 'merchant');

    const me = (await api.me(admin)).json<User>();
    const demote = await api.send('PATCH', `/api/admin/users/${me.id}`, { role: 'customer' }, admin);
    assert.equal(demote.statusCode, 409);
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      assert.equal(
        (await api.send('PATCH', `/api/admin/users/${id}`, { disabled: true }, admin)).statusCode,
        404,
      );
    }
    const mass = await api.send('PATCH', `/api/admin/users/${frank.id}`, { email: 'x@example.com' }, admin);
    assert.equal(mass.statusCode, 400);
  });
});
