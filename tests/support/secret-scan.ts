import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Proof that secrets stay out of logs: every system a test starts is scanned when it stops. The
 * secrets looked for are those of its data folder (service credentials, generated passwords, the
 * signing-key secret, the cluster's password), every password and token the test itself handled
 * ({@link rememberSecret}), and anything shaped like a JWT or a bearer header.
 */

const remembered = new Set<string>();

/** A secret this test process handled (a password it chose, a token it was given). */
export function rememberSecret(value: string | undefined): void {
  if (value && value.length >= 8) remembered.add(value);
}

/** One leak: where, and what kind of secret (never the secret itself). */
export interface Leak {
  file: string;
  line: number;
  kind: string;
}

const SECRET_KEY = /password|secret|credential|token/i;
const PATTERNS: Array<{ kind: string; pattern: RegExp }> = [
  { kind: 'JWT', pattern: /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/ },
  { kind: 'bearer header', pattern: /Bearer [A-Za-z0-9._~+/-]{16,}/ },
  { kind: 'service credential', pattern: /bzc_[a-z-]+_[A-Za-z0-9_-]{20,}/ },
];

/** The secrets of a data folder that `bazaar up` wrote: values under secret-like keys of its JSON files, and its secret files. */
export function dataDirSecrets(dataDir: string): Map<string, string> {
  const secrets = new Map<string, string>();
  const collect = (value: unknown, key: string, file: string): void => {
    if (typeof value === 'string') {
      if (value.length >= 8 && (SECRET_KEY.test(key) || file.includes('credentials'))) {
        if (!value.includes('@')) secrets.set(value, `${file} ${key}`);
      }
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) collect(v, /^\d+$/.test(k) ? key : k, file);
    }
  };
  if (!existsSync(dataDir)) return secrets;
  for (const name of readdirSync(dataDir)) {
    const path = join(dataDir, name);
    if (!statSync(path).isFile()) continue;
    if (name.endsWith('.json')) {
      try {
        collect(JSON.parse(readFileSync(path, 'utf8')), name, name);
      } catch {
        // Not a JSON document: nothing to collect.
      }
    } else if (SECRET_KEY.test(name)) {
      const value = readFileSync(path, 'utf8').trim();
      if (value.length >= 8) secrets.set(value, name);
    }
  }
  return secrets;
}

/** Every line of every log file under `logDir` that holds a known secret or a secret's shape. */
export function scanLogs(logDir: string, secrets: Map<string, string>): Leak[] {
  const leaks: Leak[] = [];
  if (!existsSync(logDir)) return leaks;
  for (const name of readdirSync(logDir)) {
    const file = join(logDir, name);
    if (!statSync(file).isFile()) continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((text, index) => {
      for (const { kind, pattern } of PATTERNS) {
        if (pattern.test(text)) leaks.push({ file: name, line: index + 1, kind });
      }
      for (const [secret, kind] of secrets) {
        if (text.includes(secret)) leaks.push({ file: name, line: index + 1, kind });
      }
    });
  }
  return leaks;
}

/** Scans a stopped system's logs; throws naming each leak's file, line and kind. */
export function assertNoSecretsLogged(dataDir: string, logDir = join(dataDir, 'logs')): void {
  const secrets = dataDirSecrets(dataDir);
  for (const value of remembered) secrets.set(value, 'a password or token the test handled');
  const leaks = scanLogs(logDir, secrets);
  if (leaks.length > 0) {
    const shown = leaks.slice(0, 20).map((l) => `  ${l.file}:${l.line} ${l.kind}`);
    throw new Error(`secrets found in ${leaks.length} log lines (under ${logDir}):\n${shown.join('\n')}`);
  }
}

/** How many secrets a scan would look for (tests check the scan is not empty-handed). */
export function knownSecretCount(dataDir: string): number {
  return dataDirSecrets(dataDir).size + remembered.size;
}
