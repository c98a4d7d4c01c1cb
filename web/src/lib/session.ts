/**
 * The signed-in user's session: the access token in memory, the refresh token in localStorage (so
 * a reload keeps the shopper signed in), and the user. Access tokens are refreshed a minute before
 * they expire and whenever the API refuses one, one refresh at a time, so the shopper never notices.
 */
import type { TokenPair, User } from '@bazaar/contracts';

const REFRESH_KEY = 'bazaar.refreshToken';

type Listener = () => void;

class Session {
  #access: { token: string; expiresAt: number } | undefined;
  #refreshToken: string | null = readStored();
  #user: User | null = null;
  #refreshing: Promise<string | undefined> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #listeners = new Set<Listener>();
  #version = 0;

  get signedIn(): boolean {
    return this.#refreshToken !== null;
  }

  get user(): User | null {
    return this.#user;
  }

  /** Changes whenever the session does (for `useSyncExternalStore`). */
  get version(): number {
    return this.#version;
  }

  subscribe = (listener: Listener): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** Keeps a fresh pair from login or refresh, and the user it belongs to. */
  start(pair: TokenPair, user: User | null = this.#user): void {
    this.#access = { token: pair.accessToken, expiresAt: Date.now() + pair.expiresIn * 1000 };
    this.#refreshToken = pair.refreshToken;
    writeStored(pair.refreshToken);
    this.#user = user;
    this.#schedule(pair.expiresIn);
    this.#changed();
  }

  setUser(user: User | null): void {
    this.#user = user;
    this.#changed();
  }

  /** Forgets everything (logout, or a refresh token the API no longer accepts). */
  end(): void {
    this.#access = undefined;
    this.#refreshToken = null;
    this.#user = null;
    writeStored(null);
    clearTimeout(this.#timer);
    this.#changed();
  }

  get refreshToken(): string | null {
    return this.#refreshToken;
  }

  /** A valid access token, refreshed first when it is (nearly) expired; undefined when signed out. */
  async accessToken(options: { forceRefresh?: boolean } = {}): Promise<string | undefined> {
    if (!this.#refreshToken) return undefined;
    const fresh = this.#access && this.#access.expiresAt - Date.now() > 10_000;
    if (fresh && !options.forceRefresh) return this.#access!.token;
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<string | undefined> {
    const refreshToken = this.#refreshToken;
    if (!refreshToken) return undefined;
    let res: Response;
    try {
      res = await fetch('/api/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ refreshToken }),
      });
    } catch {
      return this.#access?.token; // offline: keep what we have; the call will tell the user
    }
    if (res.status === 401 || res.status === 400) {
      // Spent, revoked or expired: the shopper must log in again.
      if (this.#refreshToken === refreshToken) this.end();
      return undefined;
    }
    if (!res.ok) return this.#access?.token;
    const pair = (await res.json()) as TokenPair;
    this.start(pair);
    return pair.accessToken;
  }

  #schedule(expiresIn: number): void {
    clearTimeout(this.#timer);
    const inMs = Math.max(5_000, (expiresIn - 60) * 1000);
    this.#timer = setTimeout(() => void this.accessToken({ forceRefresh: true }), inMs);
  }

  #changed(): void {
    this.#version++;
    for (const l of this.#listeners) l();
  }
}

function readStored(): string | null {
  try {
    return localStorage.getItem(REFRESH_KEY);
  } catch {
    return null;
  }
}

function writeStored(token: string | null): void {
  try {
    if (token) localStorage.setItem(REFRESH_KEY, token);
    else localStorage.removeItem(REFRESH_KEY);
  } catch {
    // Private browsing without storage: the session lasts as long as the page.
  }
}

/** The one session of this page. */
export const session = new Session();
