import { PROBLEM_CONTENT_TYPE, type Problem } from '@bazaar/contracts';
import { AppError } from '@bazaar/kit';
import type { Logger } from 'pino';

/**
 * The config center as the ops API reaches it: the registry's `/v1/config` routes, called with the
 * gateway's own credential, trying each registry URL in turn. The registry's problems come back as
 * the same problems (400 naming the field, 404, 409); a registry that cannot be reached is 503 with
 * `Retry-After`. A registry refusing the gateway's credential is the gateway's fault: 502, logged.
 */
export class ConfigCenter {
  readonly #urls: string[];
  readonly #credential: string | undefined;
  readonly #log: Logger;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: {
    urls: string[];
    credential: string | undefined;
    log: Logger;
    fetch?: typeof fetch;
    timeoutMs?: number;
  }) {
    this.#urls = options.urls.map((u) => u.trim().replace(/\/+$/, '')).filter(Boolean);
    this.#credential = options.credential;
    this.#log = options.log;
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 3_000;
  }

  /** Sends one request to the config center and answers its JSON, or throws its problem. */
  async call<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#credential) headers.authorization = `Bearer ${this.#credential}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    for (const url of this.#urls) {
      let res: Response;
      try {
        res = await this.#fetch(url + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (err) {
        this.#log.warn(
          { registry: url, err: (err as Error).message },
          'config center unreachable; trying the next',
        );
        continue;
      }
      if (res.ok) return (await res.json()) as T;
      throw await this.#problemOf(res);
    }
    throw new AppError('SERVICE_UNAVAILABLE', 'The config center cannot be reached; try again shortly.', {
      headers: { 'retry-after': '2' },
    });
  }

  async #problemOf(res: Response): Promise<AppError> {
    const text = await res.text().catch(() => '');
    let problem: Partial<Problem> | undefined;
    if ((res.headers.get('content-type') ?? '').startsWith(PROBLEM_CONTENT_TYPE.split(';')[0]!)) {
      try {
        problem = JSON.parse(text) as Partial<Problem>;
      } catch {
        problem = undefined;
      }
    }
    if (res.status === 401 || res.status === 403 || !problem?.code) {
      const refused = res.status === 401 || res.status === 403;
      this.#log.error(
        { status: res.status, code: problem?.code },
        refused
          ? 'the config center refused the gateway (check its BAZAAR_SERVICE_CREDENTIAL)'
          : 'the config center answered an error without a problem',
      );
      return new AppError('BAD_GATEWAY', 'The config center did not answer as expected.');
    }
    const retryAfter = res.headers.get('retry-after');
    return new AppError(problem.code, problem.detail, {
      status: res.status,
      title: problem.title,
      errors: problem.errors,
      headers: retryAfter ? { 'retry-after': retryAfter } : {},
    });
  }
}
