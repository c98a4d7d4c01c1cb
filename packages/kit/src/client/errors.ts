import type { Problem } from '@bazaar/contracts';
import { AppError } from '../errors.ts';

/** The reason of a `ServiceUnavailableError` when the registry lists no instance of the target. */
export const NO_INSTANCE_REGISTERED = 'no instance registered';

/** No instance of the target could take the call (none registered, all ejected, circuits open, or down). */
export class ServiceUnavailableError extends AppError {
  override name = 'ServiceUnavailableError';
  constructor(target: string, reason: string, retryAfterSeconds = 1) {
    super(
      'SERVICE_UNAVAILABLE',
      `A service this request needs is unavailable (${reason}); try again shortly.`,
      {
        headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
      },
    );
    this.target = target;
    this.reason = reason;
  }
  readonly target: string;
  readonly reason: string;
}

/** The call's deadline passed before an answer came. */
export class DeadlineExceededError extends AppError {
  override name = 'DeadlineExceededError';
  constructor(target: string) {
    super('DEADLINE_EXCEEDED', 'The request took longer than its deadline allows.');
    this.target = target;
  }
  readonly target: string;
}

/** The target answered with an error status; `problem` is its problem+json body when it sent one. */
export class UpstreamError extends AppError {
  override name = 'UpstreamError';
  readonly upstreamStatus: number;
  readonly problem: Problem | undefined;
  constructor(target: string, status: number, problem: Problem | undefined) {
    // A dependency's 4xx keeps its meaning; its 5xx becomes our 502 so internal details stay inside.
    const passOn = status < 500 && problem !== undefined;
    super(
      passOn ? problem.code : 'BAD_GATEWAY',
      passOn ? problem.detail : `A dependency failed (${status}).`,
      {
        status: passOn ? status : 502,
        errors: passOn ? problem.errors : undefined,
      },
    );
    this.upstreamStatus = status;
    this.problem = problem;
    this.target = target;
  }
  readonly target: string;
}
