/**
 * The one way the web app talks to Bazaar: JSON over the gateway's public API. Errors arrive as
 * problem+json and become `ApiError`s; `errorSentence` turns them into something a shopper reads.
 * The access token is attached and refreshed here (see `session.ts`), so pages never see tokens.
 */
import { session } from './session.ts';

/** One field a request got wrong, as the API named it. */
export interface FieldError {
  path: string;
  message: string;
}

/** An answer of the API that was not a success, or a request that never got one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly fields: FieldError[];
  readonly retryAfter: number | undefined;

  constructor(status: number, code: string, detail: string, fields: FieldError[] = [], retryAfter?: number) {
    super(detail || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.fields = fields;
    this.retryAfter = retryAfter;
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send the signed-in user's token (default: when there is one). */
  auth?: boolean;
}

/** Calls the API and answers the parsed JSON body (undefined for 204). */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const withAuth = options.auth ?? true;
  let res = await send(path, options, withAuth ? await session.accessToken() : undefined);
  if (res.status === 401 && withAuth && session.signedIn) {
    // The token may have just expired or its key rotated: refresh once and try again.
    const token = await session.accessToken({ forceRefresh: true });
    if (token) res = await send(path, options, token);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const body: unknown = text ? safeJson(text) : undefined;
  if (!res.ok) throw toApiError(res, body);
  return body as T;
}

async function send(path: string, options: RequestOptions, token: string | undefined): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'The shop could not be reached.');
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toApiError(res: Response, body: unknown): ApiError {
  const problem = (body ?? {}) as { code?: string; detail?: string; title?: string; errors?: FieldError[] };
  const retry = Number(res.headers.get('retry-after'));
  return new ApiError(
    res.status,
    problem.code ?? `HTTP_${res.status}`,
    problem.detail ?? problem.title ?? res.statusText,
    Array.isArray(problem.errors) ? problem.errors : [],
    Number.isFinite(retry) && retry > 0 ? retry : undefined,
  );
}

/** What a shopper is told for each error code; anything else gets the API's own detail. */
const SENTENCES: Record<string, string> = {
  NETWORK: 'We could not reach the shop. Check your connection and try again.',
  INVALID_CREDENTIALS: 'That email and password do not match an account.',
  EMAIL_TAKEN: 'An account with this email already exists. Try logging in instead.',
  UNAUTHORIZED: 'Please log in to continue.',
  FORBIDDEN: 'Your account is not allowed to do that.',
  RATE_LIMITED: 'Too many attempts. Please wait a moment and try again.',
  CART_EMPTY: 'Your cart is empty, so there is nothing to order.',
  CART_FULL: 'Your cart is full (100 different products). Remove something first.',
  PRICE_CHANGED: 'Some prices changed since you looked. Please review your cart and try again.',
  CHECKOUT_IN_PROGRESS: 'Another order of yours is still being processed. Please wait until it finishes.',
  IDEMPOTENCY_KEY_IN_USE: 'Your order is still being placed. Please wait a moment.',
  ALREADY_CANCELLED: 'This order is already cancelled.',
  PRODUCT_NOT_FOUND: 'This product is not available any more.',
  ORDER_NOT_FOUND: 'We could not find this order.',
  BELOW_RESERVED: 'Stock cannot go below what is reserved for open orders.',
  SERVICE_UNAVAILABLE: 'Part of the shop is briefly unavailable. Please try again in a moment.',
  DEADLINE_EXCEEDED: 'The shop took too long to answer. Please try again.',
  BAD_GATEWAY: 'Part of the shop is briefly unavailable. Please try again in a moment.',
  INTERNAL: 'Something went wrong on our side. Please try again.',
};

/** A sentence for any error a page caught. */
export function errorSentence(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'VALIDATION_FAILED' && err.fields.length > 0)
      return `Please check: ${err.fields.map((f) => `${fieldName(f.path)} ${f.message}`).join('; ')}.`;
    return SENTENCES[err.code] ?? (err.detail || 'Something went wrong. Please try again.');
  }
  return 'Something went wrong. Please try again.';
}

function fieldName(path: string): string {
  const last = path.split('/').filter(Boolean).pop() ?? 'a field';
  return last.replace(/([A-Z])/g, ' $1').toLowerCase();
}

/** The form field errors of `err`, keyed by the field's last path segment. */
export function fieldErrors(err: unknown): Record<string, string> {
  if (!(err instanceof ApiError)) return {};
  const out: Record<string, string> = {};
  for (const f of err.fields) out[f.path.split('/').filter(Boolean).pop() ?? ''] = f.message;
  return out;
}

/** A new idempotency key, for a write the user may repeat (a checkout). */
export function newKey(): string {
  return crypto.randomUUID();
}
