/**
 * Reads an OTLP/HTTP JSON export request (`ExportTraceServiceRequest`, what the OpenTelemetry
 * exporters post to `/v1/traces`) into the spans the collector keeps. Ids are hex, times are
 * nanoseconds since the epoch as strings or numbers, attribute values are `AnyValue` objects; a
 * span with a malformed id or time is counted as rejected and skipped, the rest are kept.
 */
import type { OpsSpan } from '@bazaar/contracts';

/** A span as the collector keeps it: times in epoch milliseconds (fractional). */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  service: string;
  instance: string;
  name: string;
  kind: OpsSpan['kind'];
  startMs: number;
  durationMs: number;
  status: OpsSpan['status'];
  attributes: Record<string, string | number | boolean>;
}

/** The spans of one export request, and how many were refused. */
export interface DecodedTraces {
  spans: CollectedSpan[];
  rejected: number;
}

/** A body that is not an export request at all. */
export class OtlpFormatError extends Error {
  override name = 'OtlpFormatError';
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO_SPAN_ID = '0000000000000000';
const KINDS: OpsSpan['kind'][] = ['internal', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUSES: OpsSpan['status'][] = ['unset', 'ok', 'error'];
const MAX_NAME = 256;
const MAX_VALUE = 1_024;
const MAX_ATTRIBUTES = 64;

/** Decodes an OTLP JSON export request; throws `OtlpFormatError` when `body` is not one. */
export function decodeOtlpTraces(body: unknown): DecodedTraces {
  const resourceSpans = field(body, 'resourceSpans');
  if (resourceSpans === undefined) return { spans: [], rejected: 0 };
  if (!Array.isArray(resourceSpans)) throw new OtlpFormatError('resourceSpans is not an array');
  const spans: CollectedSpan[] = [];
  let rejected = 0;
  for (const resource of resourceSpans) {
    const resourceAttributes = readAttributes(field(field(resource, 'resource'), 'attributes'));
    const service = String(resourceAttributes['service.name'] ?? 'unknown_service');
    const instance = String(resourceAttributes['service.instance.id'] ?? '');
    const scopes = field(resource, 'scopeSpans') ?? field(resource, 'instrumentationLibrarySpans');
    if (!Array.isArray(scopes)) continue;
    for (const scope of scopes) {
      const list = field(scope, 'spans');
      if (!Array.isArray(list)) continue;
      for (const raw of list) {
        const span = readSpan(raw, service, instance);
        if (span) spans.push(span);
        else rejected++;
      }
    }
  }
  return { spans, rejected };
}

function readSpan(raw: unknown, service: string, instance: string): CollectedSpan | undefined {
  const traceId = lowerHex(field(raw, 'traceId'));
  const spanId = lowerHex(field(raw, 'spanId'));
  if (!traceId || !TRACE_ID.test(traceId) || !spanId || !SPAN_ID.test(spanId)) return undefined;
  const parent = lowerHex(field(raw, 'parentSpanId'));
  const start = micros(field(raw, 'startTimeUnixNano'));
  const end = micros(field(raw, 'endTimeUnixNano'));
  if (start === undefined || end === undefined) return undefined;
  const kind = field(raw, 'kind');
  const status = field(field(raw, 'status'), 'code');
  const name = field(raw, 'name');
  return {
    traceId,
    spanId,
    parentSpanId: parent && SPAN_ID.test(parent) && parent !== ZERO_SPAN_ID ? parent : null,
    service,
    instance,
    name: typeof name === 'string' && name ? name.slice(0, MAX_NAME) : '(unnamed)',
    kind: KINDS[enumValue(kind, KIND_NAMES)] ?? 'internal',
    startMs: start / 1_000,
    durationMs: end > start ? (end - start) / 1_000 : 0,
    status: STATUSES[enumValue(status, STATUS_NAMES)] ?? 'unset',
    attributes: readAttributes(field(raw, 'attributes')),
  };
}

// Protobuf JSON mapping allows enum names as well as numbers.
const KIND_NAMES = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];
const STATUS_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

function enumValue(value: unknown, names: string[]): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string') return names.indexOf(value);
  return 0;
}

/** Scalar attribute values, strings cut to 1 KiB; arrays and maps are shown as JSON text. */
function readAttributes(list: unknown): Record<string, string | number | boolean> {
  const attributes: Record<string, string | number | boolean> = {};
  if (!Array.isArray(list)) return attributes;
  let count = 0;
  for (const entry of list) {
    if (count >= MAX_ATTRIBUTES) break;
    const key = field(entry, 'key');
    if (typeof key !== 'string' || !key || key === '__proto__') continue;
    const value = readValue(field(entry, 'value'));
    if (value === undefined) continue;
    attributes[key] = value;
    count++;
  }
  return attributes;
}

function readValue(value: unknown): string | number | boolean | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.stringValue === 'string') return v.stringValue.slice(0, MAX_VALUE);
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  if (v.intValue !== undefined) {
    const n = Number(v.intValue);
    return Number.isFinite(n) ? n : undefined;
  }
  if (v.doubleValue !== undefined) {
    const n = Number(v.doubleValue);
    return Number.isFinite(n) ? n : undefined;
  }
  if (v.arrayValue !== undefined || v.kvlistValue !== undefined) {
    return JSON.stringify(v.arrayValue ?? v.kvlistValue).slice(0, MAX_VALUE);
  }
  return undefined;
}

/**
 * Nanoseconds since the epoch as whole microseconds: those still fit a double exactly (nanoseconds
 * do not), and the console shows no finer than that. A number is taken as it came, rounded.
 */
function micros(value: unknown): number | undefined {
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) {
    return value.length > 3 ? Number(value.slice(0, -3)) : 0;
  }
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.trunc(value / 1_000);
  return undefined;
}

function lowerHex(value: unknown): string | undefined {
  return typeof value === 'string' ? value.toLowerCase() : undefined;
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}
