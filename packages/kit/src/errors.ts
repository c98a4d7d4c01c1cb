import { type ErrorCode, ErrorCodes, type FieldError, type Problem, problemType } from '@bazaar/contracts';

/** An error with a stable code from the catalog; the kit renders it as problem+json. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  constructor(
    code: ErrorCode | (string & {}),
    detail?: string,
    options: {
      status?: number;
      title?: string;
      errors?: FieldError[];
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    const known = (ErrorCodes as Record<string, { status: number; title: string }>)[code];
    super(detail ?? known?.title ?? code, { cause: options.cause });
    this.code = code;
    this.status = options.status ?? known?.status ?? 500;
    this.title = options.title ?? known?.title ?? 'Error';
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }

  /** The problem+json body. */
  toProblem(instance?: string): Problem {
    return problem(this.code, this.message, {
      status: this.status,
      title: this.title,
      errors: this.errors,
      instance,
    });
  }
}

/** Builds a problem+json body for a catalog code. */
export function problem(
  code: string,
  detail: string,
  extra: {
    status?: number;
    title?: string;
    errors?: FieldError[] | undefined;
    instance?: string | undefined;
  } = {},
): Problem {
  const known = (ErrorCodes as Record<string, { status: number; title: string }>)[code];
  const body: Problem = {
    type: problemType(code),
    title: extra.title ?? known?.title ?? 'Error',
    status: extra.status ?? known?.status ?? 500,
    detail,
    code,
  };
  if (extra.instance) body.instance = extra.instance;
  if (extra.errors && extra.errors.length > 0) body.errors = extra.errors;
  return body;
}
