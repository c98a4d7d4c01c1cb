import type { FieldError } from '@bazaar/contracts';
import type { TObject, TSchema } from 'typebox';
import Value from 'typebox/value';

/** A live configuration checked against its schema: the values with every default filled, or why not. */
export type LiveConfigCheck =
  | { ok: true; values: Record<string, unknown> }
  | { ok: false; errors: FieldError[] };

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean;
  anyOf?: { const?: unknown }[];
}

/**
 * Checks `values` against a live-config schema (closed objects whose fields all have defaults):
 * defaults are filled into a copy, and each failing field is named once by its path under `prefix`,
 * e.g. `values/simulator/declineRate`. Fields are checked one by one, so every bad field is named
 * (TypeBox stops collecting errors after a few, and a union spends them all on its branches).
 */
export function checkLiveConfig(schema: TObject, values: unknown, prefix = 'values'): LiveConfigCheck {
  if (!isRecord(values)) return { ok: false, errors: [{ path: prefix, message: 'must be an object' }] };
  const filled = Value.Default(schema, Value.Clone(values)) as Record<string, unknown>;
  if (Value.Check(schema, filled)) return { ok: true, values: filled };
  const errors: FieldError[] = [];
  collect(schema as SchemaNode, filled, prefix, errors);
  return {
    ok: false,
    errors: errors.length > 0 ? errors : [{ path: prefix, message: 'is not a valid configuration' }],
  };
}

function collect(node: SchemaNode, value: unknown, path: string, errors: FieldError[]): void {
  if (node.type === 'object' && node.properties && isRecord(value)) {
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(node.properties, key) && node.additionalProperties === false)
        errors.push({ path: `${path}/${key}`, message: 'is not an accepted field' });
    }
    for (const [key, child] of Object.entries(node.properties)) {
      if (Object.hasOwn(value, key)) collect(child, value[key], `${path}/${key}`, errors);
    }
    return;
  }
  const schema = node as TSchema;
  if (Value.Check(schema, value)) return;
  // A union of constants (a log level) reads better as its list than as its first branch's failure.
  const options = node.anyOf?.map((branch) => branch.const).filter((c) => c !== undefined);
  const message =
    options && options.length > 0
      ? `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}`
      : (Value.Errors(schema, value)[0]?.message ?? 'is invalid');
  errors.push({ path, message });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
