import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError, type ApiClient, type Role, type Session, type SetupStatus, type UserView } from '@/lib/api';

const RANK: Record<Role, number> = { viewer: 0, designer: 1, admin: 2 };

/** True when `role` is `needed` or above (admin > designer > viewer). */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export type SessionState =
  | { status: 'loading' }
  | { status: 'setup' }
  | { status: 'signed-out'; expired: boolean }
  | { status: 'signed-in'; user: UserView }
  | { status: 'error'; error: ApiError };

interface SessionContextValue {
  state: SessionState;
  /** The signed-in user, or null. */
  user: UserView | null;
  /** Desktop window: signed in by the shell, never by a form. */
  desktop: boolean;
  signOut: () => Promise<void>;
  /** Runs the start-up checks again (after an error). */
  retry: () => void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

interface SessionProviderProps {
  client: ApiClient;
  /** Desktop window: the per-launch secret that signs in without a form. */
  launchSecret?: string | null;
  children: ReactNode;
}

function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, 'unexpected', String(error));
}

/**
 * Who is signed in. At start: the desktop signs in with its launch secret; the browser re-checks a
 * session kept in sessionStorage, else asks whether the server needs its first-start setup.
 * Afterwards it follows the client: a refresh that fails (session over) shows the sign-in view.
 */
export function SessionProvider({ client, launchSecret = null, children }: SessionProviderProps) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  // The desktop window signs in with passwords like a browser when its data directory already has
  // accounts (set up by `zk-agent serve`): then there is no password-less local owner.
  const [passwordAccounts, setPasswordAccounts] = useState(false);
  const desktop = launchSecret !== null && !passwordAccounts;
  // One desktop sign-in per start (or retry), shared by effect re-runs (React's StrictMode runs them twice).
  const desktopSignIn = useRef<Promise<Session> | null>(null);

  useEffect(
    () =>
      client.subscribe((session, change) => {
        if (session) setState({ status: 'signed-in', user: session.user });
        else setState({ status: 'signed-out', expired: change === 'expired' });
      }),
    [client],
  );

  useEffect(() => {
    let cancelled = false;
    const settle = (next: SessionState) => {
      if (!cancelled) setState(next);
    };
    void (async () => {
      try {
        if (launchSecret !== null && !passwordAccounts) {
          desktopSignIn.current ??= client.desktopSignIn(launchSecret);
          try {
            const session = await desktopSignIn.current;
            settle({ status: 'signed-in', user: session.user });
            return;
          } catch (error) {
            if (!(error instanceof ApiError) || error.status !== 409) throw error;
            setPasswordAccounts(true);
          }
        }
        if (client.getSession()) {
          try {
            const session = await client.verifySession();
            settle({ status: 'signed-in', user: session.user });
            return;
          } catch (error) {
            if (!(error instanceof ApiError) || error.status !== 401) throw error;
            client.clearSession('expired');
          }
        }
        const setup = await client.get<SetupStatus>('/api/setup', { auth: false });
        settle(setup.required ? { status: 'setup' } : { status: 'signed-out', expired: false });
      } catch (error) {
        settle({ status: 'error', error: asApiError(error) });
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [client, launchSecret, passwordAccounts, attempt]);

  const signOut = useCallback(() => client.signOut(), [client]);
  const retry = useCallback(() => {
    desktopSignIn.current = null;
    setState({ status: 'loading' });
    setAttempt((n) => n + 1);
  }, []);

  const value = useMemo<SessionContextValue>(
    () => ({ state, user: state.status === 'signed-in' ? state.user : null, desktop, signOut, retry }),
    [state, desktop, signOut, retry],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const context = useContext(SessionContext);
  if (!context) throw new Error('useSession() is used outside <SessionProvider>');
  return context;
}

/** The signed-in user; only for views shown after sign-in. */
export function useUser(): UserView {
  const { user } = useSession();
  if (!user) throw new Error('useUser() is used while nobody is signed in');
  return user;
}
