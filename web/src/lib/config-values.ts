/**
 * The config center's values, as pure functions: the difference between two versions leaf by
 * leaf, a schema's defaults (what version 0 means, and what a left-out field takes) and its fields
 * in words, a field error's path as the operator reads it, and values as short text.
 */

/** One leaf that differs between two versions, at a dotted path (`simulator.declineRate`). */
export type ValueChange =
  | { kind: 'changed'; path: string; before: unknown; after: unknown }
  | { kind: 'added'; path: string; after: unknown }
  | { kind: 'removed'; path: string; before: unknown };

/**
 * Every leaf path whose value differs from `before` to `after`, sorted by path. Objects are
 * walked; anything else (numbers, text, arrays, null) is a leaf compared by value. A leaf that
 * turns into an object or back is one change at its path.
 */
export function diffValues(before: unknown, after: unknown, prefix = ''): ValueChange[] {
  if (!isPlainObject(before) || !isPlainObject(after)) {
    if (sameValue(before, after)) return [];
    return [{ kind: 'changed', path: prefix, before, after }];
  }
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changes: ValueChange[] = [];
  for (const key of keys) {
    const path = prefix ? `${prefix}.${key}` : key;
    const has = { before: Object.hasOwn(before, key), after: Object.hasOwn(after, key) };
    if (has.before && has.after) changes.push(...diffValues(before[key], after[key], path));
    else if (has.after) changes.push(...leaves(after[key], path).map(([p, v]) => added(p, v)));
    else changes.push(...leaves(before[key], path).map(([p, v]) => removed(p, v)));
  }
  return changes;
}

/** The subset of JSON Schema that the live-config schemas use (TypeBox objects are such). */
export interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  anyOf?: SchemaNode[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
}

/** The values a schema's defaults give, the way the config center reads `{}` (version 0). */
export function schemaDefaults(schema: SchemaNode): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    if (node.type === 'object' && node.properties) values[key] = schemaDefaults(node);
    else if (node.default !== undefined) values[key] = node.default;
  }
  return values;
}

/**
 * The values a service runs with: `values` with every field it leaves out taken from `defaults`
 * (objects merged field by field), so two versions compare by what they do, not how they are written.
 */
export function withDefaults(
  values: Record<string, unknown>,
  defaults: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(values)) {
    const fallback = defaults[key];
    merged[key] = isPlainObject(value) && isPlainObject(fallback) ? withDefaults(value, fallback) : value;
  }
  return merged;
}

/** One settable leaf of a schema, in words. */
export interface SchemaField {
  path: string;
  /** What it accepts: "a number from 0 to 1", "one of info, debug", "true or false". */
  accepts: string;
  /** Its default as JSON text, or null when it has none. */
  defaultText: string | null;
}

/** Every leaf of `schema` with what it accepts and its default, in the schema's order. */
export function schemaFields(schema: SchemaNode, prefix = ''): SchemaField[] {
  const fields: SchemaField[] = [];
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (node.type === 'object' && node.properties) fields.push(...schemaFields(node, path));
    else
      fields.push({
        path,
        accepts: accepts(node),
        defaultText: node.default === undefined ? null : JSON.stringify(node.default),
      });
  }
  return fields;
}

/** Where a field error of a change belongs: the reason, or a place in the values. */
export type ConfigFieldPlace = { field: 'reason' } | { field: 'values'; path: string };

/**
 * Where a field error's path points, as the operator reads it: the request's own prefixes
 * (`body`, `values`) dropped and segments joined by dots, so `body/values/simulator/declineRate`
 * (or `/simulator/declineRate`) is `simulator.declineRate`; the whole document is "the values".
 * No live-config schema has a top-level `reason`, so a path of just `reason` is the change's reason.
 */
export function configFieldPlace(path: string): ConfigFieldPlace {
  const segments = path.split(/[/.]/).filter(Boolean);
  if (segments[0] === 'body') segments.shift();
  if (segments.length === 1 && segments[0] === 'reason') return { field: 'reason' };
  if (segments[0] === 'values') segments.shift();
  return { field: 'values', path: segments.length === 0 ? 'the values' : segments.join('.') };
}

/** A value as short text: JSON, with text quoted, so `"info"` and `1` and `true` read apart. */
export function formatValue(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function accepts(node: SchemaNode): string {
  if (node.anyOf?.every((n) => n.const !== undefined))
    return `one of ${node.anyOf.map((n) => String(n.const)).join(', ')}`;
  const range =
    node.minimum !== undefined && node.maximum !== undefined
      ? ` from ${node.minimum} to ${node.maximum}`
      : node.minimum !== undefined
        ? ` from ${node.minimum} up`
        : node.maximum !== undefined
          ? ` up to ${node.maximum}`
          : '';
  switch (node.type) {
    case 'integer':
      return `a whole number${range}`;
    case 'number':
      return `a number${range}`;
    case 'boolean':
      return 'true or false';
    case 'string':
      return 'text';
    default:
      return 'any value';
  }
}

/** Each leaf under `value` (the value itself when it is not a non-empty object). */
function leaves(value: unknown, path: string): [string, unknown][] {
  if (!isPlainObject(value) || Object.keys(value).length === 0) return [[path, value]];
  return Object.keys(value)
    .sort()
    .flatMap((key) => leaves(value[key], `${path}.${key}`));
}

function added(path: string, after: unknown): ValueChange {
  return { kind: 'added', path, after };
}

function removed(path: string, before: unknown): ValueChange {
  return { kind: 'removed', path, before };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Equal as JSON values (object keys in any order). */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) return diffValues(a, b).length === 0;
  return false;
}
