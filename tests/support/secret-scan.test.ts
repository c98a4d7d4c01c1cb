import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { assertNoSecretsLogged, dataDirSecrets, rememberSecret, scanLogs } from './secret-scan.ts';

const dir = mkdtempSync(join(tmpdir(), 'bazaar-secret-scan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function dataDir(name: string, logLines: string[]): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'logs'), { recursive: true });
  writeFileSync(
    join(root, 'credentials.json'),
    JSON.stringify({ admin: { email: 'admin@bazaar.local', password: 'Adm1n-generated-pass' } }),
  );
  writeFileSync(
    join(root, 'service-credentials.json'),
    JSON.stringify({ catalog: 'bzc_catalog_0123456789abcdefghijklmno' }),
  );
  writeFileSync(join(root, 'signing-key-secret'), 'sealing-secret-of-identity\n');
  writeFileSync(join(root, 'logs', 'gateway-1.jsonl'), `${logLines.join('\n')}\n`);
  return root;
}

test("a data folder's passwords, credentials and secret files are what the scan looks for; emails are not", () => {
  const root = dataDir('collect', []);
  const secrets = [...dataDirSecrets(root).keys()];
  assert.ok(secrets.includes('Adm1n-generated-pass'));
  assert.ok(secrets.includes('bzc_catalog_0123456789abcdefghijklmno'));
  assert.ok(secrets.includes('sealing-secret-of-identity'));
  assert.ok(!secrets.includes('admin@bazaar.local'));
});

test('clean logs pass; a password, a JWT, a bearer header or a remembered token is found by file and line', () => {
  const clean = dataDir('clean', ['{"level":30,"msg":"access","path":"/api/products","status":200}']);
  assert.doesNotThrow(() => assertNoSecretsLogged(clean));

  const jwt = `eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyLTEyMyJ9.${'a'.repeat(43)}`;
  rememberSecret('rt_remembered-refresh-token-value');
  const leaky = dataDir('leaky', [
    '{"level":30,"msg":"ok"}',
    '{"level":30,"msg":"login","body":{"password":"Adm1n-generated-pass"}}',
    `{"level":30,"token":"${jwt}"}`,
    '{"level":30,"authorization":"Bearer abcdefghijklmnopqrstuvwxyz"}',
    '{"level":30,"msg":"refresh rt_remembered-refresh-token-value"}',
  ]);
  const leaks = scanLogs(join(leaky, 'logs'), dataDirSecrets(leaky));
  assert.deepEqual(
    leaks.map((l) => l.line),
    [2, 3, 4],
  );
  assert.throws(() => assertNoSecretsLogged(leaky), /secrets found in 4 log lines[\s\S]*gateway-1\.jsonl:5/);
});
