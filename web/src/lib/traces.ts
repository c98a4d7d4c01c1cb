/**
 * The trace search of the ops console as pure functions: the form's fields read from the page's
 * address and checked into a query of `GET /api/ops/traces`, and that query written back as the
 * address, so a search can be bookmarked, shared and gone back to.
 */
import type { OpsTraceQuery } from '@bazaar/contracts';

/** The search form's fields, as typed. */
export interface TraceSearch {
  traceId: string;
  service: string;
  route: string;
  /** '' means any status. */
  status: '' | 'ok' | 'error';
  minDurationMs: string;
  sort: 'recent' | 'slowest';
}

/** The fields of a search that was never narrowed: every recent trace, newest first. */
export const ANY_TRACE: TraceSearch = {
  traceId: '',
  service: '',
  route: '',
  status: '',
  minDurationMs: '',
  sort: 'recent',
};

/** What is wrong with a search's fields, by field. */
export type TraceSearchProblems = Partial<Record<'traceId' | 'minDurationMs' | 'route' | 'service', string>>;

/** The form's fields as a page address's search parameters hold them (unknown values ignored). */
export function searchFromParams(params: URLSearchParams): TraceSearch {
  const status = params.get('status');
  return {
    traceId: params.get('traceId') ?? '',
    service: params.get('service') ?? '',
    route: params.get('route') ?? '',
    status: status === 'ok' || status === 'error' ? status : '',
    minDurationMs: params.get('minDurationMs') ?? '',
    sort: params.get('sort') === 'slowest' ? 'slowest' : 'recent',
  };
}

/** The query the fields ask for, or what is wrong with them. */
export function readTraceSearch(
  search: TraceSearch,
): { ok: true; query: OpsTraceQuery } | { ok: false; problems: TraceSearchProblems } {
  const problems: TraceSearchProblems = {};
  const query: OpsTraceQuery = {};
  const traceId = search.traceId.trim().toLowerCase();
  if (traceId) {
    if (/^[0-9a-f]{1,32}$/.test(traceId)) query.traceId = traceId;
    else problems.traceId = 'a trace id is up to 32 hexadecimal digits (0–9, a–f)';
  }
  const service = search.service.trim();
  if (service.length > 64) problems.service = 'a service name is at most 64 characters';
  else if (service) query.service = service;
  const route = search.route.trim();
  if (route.length > 256) problems.route = 'a route is at most 256 characters';
  else if (route) query.route = route;
  if (search.status) query.status = search.status;
  const minimum = search.minDurationMs.trim();
  if (minimum) {
    const ms = Number(minimum);
    if (/^\d+(\.\d+)?$/.test(minimum) && Number.isFinite(ms)) query.minDurationMs = ms;
    else problems.minDurationMs = 'enter a number of milliseconds, 0 or more';
  }
  if (search.sort === 'slowest') query.sort = 'slowest';
  return Object.keys(problems).length > 0 ? { ok: false, problems } : { ok: true, query };
}

/** The query as search parameters, fields in a fixed order (also the API's query string). */
export function traceQueryParams(query: OpsTraceQuery): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of ['traceId', 'service', 'route', 'status', 'minDurationMs', 'sort', 'limit'] as const) {
    const value = query[key];
    if (value !== undefined) params.set(key, String(value));
  }
  return params;
}
