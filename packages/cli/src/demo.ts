import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What `<dataDir>/demo.json` keeps: ids of the demo data, chosen at first start. */
export interface DemoIds {
  merchantId: string;
}

/** The demo ids of a data folder, created (a random UUID) at first start and kept in `demo.json`. */
export function loadOrCreateDemoIds(dataDir: string): DemoIds {
  const file = join(dataDir, 'demo.json');
  if (existsSync(file)) {
    try {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoIds>;
      if (typeof stored.merchantId === 'string' && stored.merchantId.length > 0)
        return { merchantId: stored.merchantId };
    } catch {
      // Rewritten below.
    }
  }
  const ids: DemoIds = { merchantId: randomUUID() };
  writeFileSync(file, `${JSON.stringify(ids, null, 2)}\n`);
  return ids;
}
