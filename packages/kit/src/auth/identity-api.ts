import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Revocations } from '@bazaar/contracts';
import type { Logger } from 'pino';
import { request } from 'undici';
import { Deadline } from '../client/deadline.ts';
import { NO_INSTANCE_REGISTERED, ServiceUnavailableError, UpstreamError } from '../client/errors.ts';
import type { ServiceClient } from '../client/service-client.ts';
import type { Clock } from '../time.ts';
import { readRevocations } from './revocation-list.ts';

/** What identity answers to a service-token exchange. */
export interface ExchangedToken {
  token: string;
  /** Seconds the token lives. */
  expiresIn: number;
}

/** The identity routes the kit itself calls. */
export interface IdentityApi {
  /** `GET /.well-known/jwks.json`. */
  jwks(): Promise<unknown>;
  /** `GET /internal/revocations` (service credential). */
  revocations(): Promise<Revocations>;
  /** `POST /internal/service-tokens` `{audience}` (service credential). */
  exchange(audience: string): Promise<ExchangedToken>;
}

/** What `createIdentityApi` needs. */
export interface IdentityApiOptions {
  /** The kit's client for `identity` (balanced, retried), when this instance watches the registry. */
  client?: () => ServiceClient | undefined;
  /** `BAZAAR_IDENTITY_URL`: used when the registry knows no identity instance (or there is no client). */
  url?: string | undefined;
  /** `BAZAAR_SERVICE_CREDENTIAL`: authenticates the internal routes. */
  credential?: string | undefined;
  clock: Clock;
  /** Bound of one call, all attempts included. */
  timeoutMs?: number;
}

/** How long after its start an instance expects identity to be missing from the registry. */
export const IDENTITY_START_GRACE_MS = 30_000;

/**
 * How loudly to log a failed call to identity: `debug` when it only says that no identity instance
 * is registered yet and this process started less than `graceMs` ago (every service starts beside
 * identity, and the call is made again as soon as identity registers), else `warn`.
 */
export function identityFailureLevel(
  error: unknown,
  uptimeMs = performance.now(),
  graceMs = IDENTITY_START_GRACE_MS,
): 'debug' | 'warn' {
  const notYet =
    error instanceof ServiceUnavailableError &&
    error.target === 'identity' &&
    error.reason === NO_INSTANCE_REGISTERED;
  return notYet && uptimeMs < graceMs ? 'debug' : 'warn';
}

/** The log of a call to identity that keeps failing: its first failure, then its recovery. */
export interface FailureLog {
  failed(error: unknown, fields?: Record<string, unknown>): void;
  succeeded(fields?: Record<string, unknown>): void;
}

/**
 * Logs the first failure of a run of failures, and the success that ends the run, at one level:
 * `debug` when the first failure was only identity not registered yet at start (see
 * `identityFailureLevel`), else `warn` for the failure and `info` for the recovery.
 */
export function failureLog(log: Logger, failedMessage: string, recoveredMessage: string): FailureLog {
  let level: 'debug' | 'warn' | undefined;
  return {
    failed(error, fields = {}) {
      if (level) return;
      level = identityFailureLevel(error);
      log[level]({ ...fields, err: (error as Error)?.message }, failedMessage);
    },
    succeeded(fields = {}) {
      if (!level) return;
      log[level === 'warn' ? 'info' : 'debug'](fields, recoveredMessage);
      level = undefined;
    },
  };
}

// Taken when the module loads, outside any request: these calls serve every request alike, so
// they must not carry one request's user token, request id or deadline to identity.
const outsideRequests = AsyncLocalStorage.snapshot();

/**
 * Calls identity through the kit's client (found in the registry like any service), falling back
 * to `BAZAAR_IDENTITY_URL` when set and the registry knows no instance of identity.
 */
export function createIdentityApi(options: IdentityApiOptions): IdentityApi {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const url = options.url?.replace(/\/$/, '');
  const credentialHeaders = (): Record<string, string> => {
    if (!options.credential) throw new Error('BAZAAR_SERVICE_CREDENTIAL is not set');
    return { authorization: `Bearer ${options.credential}` };
  };

  const call = <T>(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<T> =>
    outsideRequests(async () => {
      const client = options.client?.();
      if (client && (client.endpoints().length > 0 || !url)) {
        return client.json<T>({
          method,
          path,
          headers,
          body,
          deadline: Deadline.after(timeoutMs, options.clock),
          // Minting a token or reading a list twice does no harm: let the client retry them.
          idempotencyKey: method === 'POST' ? randomUUID() : undefined,
        });
      }
      if (!url) throw new ServiceUnavailableError('identity', NO_INSTANCE_REGISTERED);
      const res = await request(`${url}${path}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      if (res.statusCode < 200 || res.statusCode >= 300) {
        const problem = (await res.body.json().catch(() => undefined)) as never;
        throw new UpstreamError('identity', res.statusCode, problem);
      }
      return (await res.body.json()) as T;
    });

  return {
    jwks: () => call<unknown>('GET', '/.well-known/jwks.json', {}),
    revocations: async () =>
      readRevocations(await call<unknown>('GET', '/internal/revocations', credentialHeaders())),
    exchange: async (audience) => {
      const answer = await call<Partial<ExchangedToken>>(
        'POST',
        '/internal/service-tokens',
        credentialHeaders(),
        { audience },
      );
      if (typeof answer?.token !== 'string' || !(Number(answer.expiresIn) > 0)) {
        throw new Error('identity answered the exchange without a token');
      }
      return { token: answer.token, expiresIn: Number(answer.expiresIn) };
    },
  };
}
