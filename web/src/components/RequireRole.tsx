/** Shows its children to users with one of `roles`; sends others to log in, or tells them no. */
import type { Role } from '@bazaar/contracts';
import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { useAuth } from '../lib/auth.tsx';
import { Loading, PageTitle } from './ui.tsx';

export function RequireRole({ roles, children }: { roles: Role[]; children: ReactNode }) {
  const { user, ready } = useAuth();
  const location = useLocation();
  if (!ready) return <Loading />;
  if (!user)
    return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  if (!roles.includes(user.role))
    return (
      <section>
        <PageTitle>Not available</PageTitle>
        <p>
          This page is for {roles.join(' or ')} accounts. You are signed in as a {user.role}.
        </p>
      </section>
    );
  return <>{children}</>;
}
