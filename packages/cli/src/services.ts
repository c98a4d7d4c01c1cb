import { isAbsolute, resolve } from 'node:path';
import { repoRoot } from './repo-root.ts';

/** One row of what `bazaar up` runs. */
export interface ServiceSpec {
  /** Service name; slots are `<name>-1`, `<name>-2`, … */
  name: string;
  /** Entry script, relative to the repository root (or absolute). */
  entry: string;
  /** Its own database in the embedded cluster, when it keeps one. */
  database?: string;
  /** How many instances run by default. */
  replicas: number;
}

/** What `bazaar up` runs. Start order: the registry, then every other service at once, then the gateway. */
export const services: readonly ServiceSpec[] = [
  { name: 'registry', entry: 'services/registry/src/main.ts', database: 'registry', replicas: 1 },
  { name: 'catalog', entry: 'services/catalog/src/main.ts', database: 'catalog', replicas: 2 },
  { name: 'identity', entry: 'services/identity/src/main.ts', database: 'identity', replicas: 1 },
  { name: 'inventory', entry: 'services/inventory/src/main.ts', database: 'inventory', replicas: 1 },
  { name: 'cart', entry: 'services/cart/src/main.ts', database: 'cart', replicas: 1 },
  { name: 'payments', entry: 'services/payments/src/main.ts', database: 'payments', replicas: 1 },
  { name: 'orders', entry: 'services/orders/src/main.ts', database: 'orders', replicas: 1 },
  { name: 'gateway', entry: 'services/gateway/src/main.ts', replicas: 1 },
];

/** The absolute path of a service's entry script. */
export function entryPath(spec: ServiceSpec, root: string = repoRoot): string {
  return isAbsolute(spec.entry) ? spec.entry : resolve(root, spec.entry);
}

/** The services in start groups: `[registry], [everything else], [gateway]` (empty groups left out). */
export function startGroups(table: readonly ServiceSpec[]): ServiceSpec[][] {
  const first = table.filter((s) => s.name === 'registry');
  const last = table.filter((s) => s.name === 'gateway');
  const middle = table.filter((s) => s.name !== 'registry' && s.name !== 'gateway');
  return [first, middle, last].filter((group) => group.length > 0);
}
