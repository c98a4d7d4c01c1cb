/**
 * `useAuth()`: who is signed in, and login, register and logout. On load, a stored refresh token
 * is turned into a session and the user is fetched, so a reload keeps the shopper signed in.
 */
import type { Role, TokenPair, User } from '@bazaar/contracts';
import { useQueryClient } from '@tanstack/react-query';
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useState,
  useSyncExternalStore,
} from 'react';
import { api } from './api.ts';
import { session } from './session.ts';

interface Auth {
  user: User | null;
  /** False until a stored session has been checked. */
  ready: boolean;
  login(email: string, password: string): Promise<User>;
  register(input: {
    email: string;
    password: string;
    name: string;
    role?: 'customer' | 'merchant';
  }): Promise<User>;
  logout(): Promise<void>;
  hasRole(...roles: Role[]): boolean;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  useSyncExternalStore(session.subscribe, () => session.version);
  const queries = useQueryClient();
  const [ready, setReady] = useState(!session.signedIn);

  useEffect(() => {
    if (!session.signedIn || session.user) return;
    api<User>('/api/auth/me')
      .then((user) => session.setUser(user))
      .catch(() => session.end())
      .finally(() => setReady(true));
  }, []);

  const login = useCallback(
    async (email: string, password: string) => {
      const pair = await api<TokenPair>('/api/auth/login', {
        method: 'POST',
        body: { email, password },
        auth: false,
      });
      session.start(pair, null);
      const user = await api<User>('/api/auth/me');
      session.setUser(user);
      queries.clear();
      return user;
    },
    [queries],
  );

  const register = useCallback<Auth['register']>(
    async (input) => {
      await api<User>('/api/auth/register', { method: 'POST', body: input, auth: false });
      return login(input.email, input.password);
    },
    [login],
  );

  const logout = useCallback(async () => {
    const refreshToken = session.refreshToken;
    if (refreshToken)
      await api('/api/auth/logout', { method: 'POST', body: { refreshToken } }).catch(() => undefined);
    session.end();
    queries.clear();
  }, [queries]);

  const user = session.user;
  const value: Auth = {
    user,
    ready,
    login,
    register,
    logout,
    hasRole: (...roles) => user !== null && roles.includes(user.role),
  };
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside AuthProvider');
  return auth;
}
