import { AppError, type CredentialCheck } from '@bazaar/kit';
import type { FastifyRequest } from 'fastify';

/** The service whose credential the caller presents; 401 without a good one. */
export function authenticate(request: FastifyRequest, credentials: CredentialCheck): string {
  const header = request.headers.authorization;
  if (!header?.startsWith('Bearer ')) {
    throw new AppError(
      'CREDENTIAL_REQUIRED',
      'Send the service credential as "Authorization: Bearer <credential>".',
      {
        headers: { 'www-authenticate': 'Bearer realm="bazaar-registry"' },
      },
    );
  }
  const service = credentials.serviceOf(header.slice(7).trim());
  if (!service) {
    throw new AppError('CREDENTIAL_INVALID', 'This credential is not known to the registry.', {
      headers: { 'www-authenticate': 'Bearer realm="bazaar-registry", error="invalid_token"' },
    });
  }
  return service;
}
