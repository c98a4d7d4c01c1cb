import { chmodSync, renameSync, writeFileSync } from 'node:fs';

/** Writes `content` to `path` atomically with mode 0600 (owner read/write only). */
export function writeSecretFile(path: string, content: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
