import { AppError } from '@bazaar/kit';

/** Identity's own error codes, beside the shared catalog in `@bazaar/contracts`. */
export const IdentityErrors = {
  EMAIL_TAKEN: { status: 409, title: 'Email already registered' },
  INVALID_CREDENTIALS: { status: 401, title: 'Invalid email or password' },
  INVALID_REFRESH_TOKEN: { status: 401, title: 'Refresh token not accepted' },
  CURRENT_PASSWORD_INCORRECT: { status: 403, title: 'Current password is not correct' },
  USER_NOT_FOUND: { status: 404, title: 'User not found' },
  OWN_ACCOUNT: { status: 409, title: 'Admins cannot demote or disable themselves' },
  UNKNOWN_AUDIENCE: { status: 400, title: 'No such service' },
} as const satisfies Record<string, { status: number; title: string }>;

/** One of identity's codes. */
export type IdentityErrorCode = keyof typeof IdentityErrors;

/** An error with one of identity's codes; the kit renders it as problem+json. */
export function identityError(
  code: IdentityErrorCode,
  detail: string,
  options: { headers?: Record<string, string>; errors?: { path: string; message: string }[] } = {},
): AppError {
  return new AppError(code, detail, { ...IdentityErrors[code], ...options });
}

/** A 400 naming the fields that failed, in the kit's validation shape. */
export function invalidFields(errors: { path: string; message: string }[]): AppError {
  return new AppError('VALIDATION_FAILED', 'The request has invalid fields.', { errors });
}
