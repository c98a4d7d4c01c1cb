import type { Role } from '@bazaar/contracts';
import { currentContext } from '../context.ts';
import { AppError } from '../errors.ts';
import type { AuthUser, ServiceCaller } from './principal.ts';

/** What the guards read of a request (a Fastify request has both). */
export interface Principals {
  readonly user?: AuthUser | undefined;
  readonly caller?: ServiceCaller | undefined;
}

/** The end user of the request being handled (from the request context), if any. */
export function currentUser(): AuthUser | undefined {
  return currentContext()?.user;
}

/** The signed-in user; a 401 problem when the request is anonymous. */
export function requireUser(request: Principals): AuthUser {
  if (!request.user) {
    throw new AppError('UNAUTHORIZED', 'Sign in: this route needs an access token.', {
      headers: { 'www-authenticate': 'Bearer' },
    });
  }
  return request.user;
}

/** The signed-in user when their role is one of `roles`; 401 when anonymous, 403 otherwise. */
export function requireRole(request: Principals, ...roles: Role[]): AuthUser {
  const user = requireUser(request);
  if (!roles.includes(user.role)) {
    throw new AppError('FORBIDDEN', `This route is for ${roles.join(' or ')} accounts.`);
  }
  return user;
}

/**
 * The calling service, for internal routes: only a service token addressed to this service counts
 * (a user token never does). 401 without one; 403 when `services` is given and the caller is not
 * among them.
 */
export function requireService(request: Principals, ...services: string[]): ServiceCaller {
  if (!request.caller) {
    throw new AppError('UNAUTHORIZED', 'This route is for services: send a service token.', {
      headers: { 'www-authenticate': 'Bearer' },
    });
  }
  if (services.length > 0 && !services.includes(request.caller.service)) {
    throw new AppError('FORBIDDEN', 'This route is not open to the calling service.');
  }
  return request.caller;
}

/** Whether the request's user owns the object (`ownerId`) or is an admin. */
export function isOwnerOrAdmin(request: Principals, ownerId: string): boolean {
  const user = request.user;
  return user !== undefined && (user.role === 'admin' || user.id === ownerId);
}

/**
 * Lets the owner of an object and admins through; anybody else gets the 404 problem `notFoundCode`,
 * as if the object did not exist, so ids of other people's objects reveal nothing.
 */
export function assertOwnerOrAdmin(
  request: Principals,
  ownerId: string,
  notFoundCode = 'NOT_FOUND',
  detail = 'No such object.',
): AuthUser {
  if (!isOwnerOrAdmin(request, ownerId)) throw new AppError(notFoundCode, detail, { status: 404 });
  return request.user!;
}
