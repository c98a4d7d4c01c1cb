import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSecretFile } from './secret-file.ts';

/** Name of the file, in the data folder, that keeps every service's secret (mode 0600). */
export const SERVICE_CREDENTIALS_FILE = 'service-credentials.json';

/** A new secret for `service`: `bzc_<service>_` and 32 random bytes in base64url. */
export function newServiceCredential(service: string): string {
  return `bzc_${service}_${randomBytes(32).toString('base64url')}`;
}

/**
 * Each service's own secret for embedded mode, kept in `<dataDir>/service-credentials.json`
 * (mode 0600); services missing from the file are given one and the file is rewritten.
 */
export function loadOrCreateServiceCredentials(
  dataDir: string,
  serviceNames: readonly string[],
): Record<string, string> {
  const file = join(dataDir, SERVICE_CREDENTIALS_FILE);
  let stored: Record<string, string> = {};
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${file} is not valid JSON (${(err as Error).message}); fix or delete it`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`${file} must hold a JSON object of service name to secret; fix or delete it`);
    }
    for (const [service, secret] of Object.entries(parsed)) {
      if (typeof secret === 'string' && secret.length >= 16) stored[service] = secret;
    }
  }
  let changed = !existsSync(file);
  for (const service of serviceNames) {
    if (!stored[service]) {
      stored = { ...stored, [service]: newServiceCredential(service) };
      changed = true;
    }
  }
  if (changed) writeSecretFile(file, `${JSON.stringify(stored, null, 2)}\n`);
  const result: Record<string, string> = {};
  for (const service of serviceNames) result[service] = stored[service]!;
  return result;
}

/** SHA-256 (hex) of each secret: what the registry is given in `BAZAAR_SERVICE_CREDENTIALS`. */
export function credentialHashes(credentials: Record<string, string>): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const [service, secret] of Object.entries(credentials)) {
    hashes[service] = createHash('sha256').update(secret).digest('hex');
  }
  return hashes;
}
