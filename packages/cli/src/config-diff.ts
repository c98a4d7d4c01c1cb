/** One leaf that differs between two versions of a config, at a dotted path (`simulator.declineRate`). */
export interface ConfigDifference {
  path: string;
  before: unknown;
  after: unknown;
}

/** What a schema node says of defaults: a leaf's `default`, an object's per property. */
interface SchemaNode {
  default?: unknown;
  properties?: Record<string, SchemaNode>;
}

/**
 * Every leaf whose value differs from `before` to `after`, sorted by path. Objects are compared
 * field by field; anything else (arrays included) is one value. A leaf only on one side differs
 * from `undefined`.
 */
export function diffConfig(before: unknown, after: unknown, prefix = ''): ConfigDifference[] {
  if (!isRecord(before) || !isRecord(after)) {
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path: prefix, before, after }];
  }
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.flatMap((key) => diffConfig(before[key], after[key], prefix ? `${prefix}.${key}` : key));
}

/** The values a live-config schema (a JSON schema object) means by `{}`: every field's default. */
export function schemaDefaults(schema: object): unknown {
  const node = schema as SchemaNode;
  if (!node.properties) return node.default;
  const values: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node.properties)) values[key] = schemaDefaults(child);
  return values;
}

/** A difference as one short line: `simulator.declineRate 0 → 1`. */
export function formatDifference(d: ConfigDifference): string {
  const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));
  return `${d.path} ${show(d.before)} → ${show(d.after)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
