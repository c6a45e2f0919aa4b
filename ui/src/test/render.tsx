import { render, screen } from '@testing-library/react';
import type { ReactNode } from 'react';
import { I18nProvider, type Locale } from '@/i18n';
import { ApiClient, ApiProvider, type UserView } from '@/lib/api';
import { SessionProvider, useSession } from '@/lib/session';
import { ThemeProvider } from '@/lib/theme';
import { fakeFetch, json, memoryStorage, type Handler } from './fakeServer';

export const BASE = 'http://127.0.0.1:9999';

/**
 * Renders `ui` inside the app's providers, signed in as `user` (or signed out), against a fake
 * server whose routes the test gives.
 */
export async function renderWithApp(
  ui: ReactNode,
  { user, routes = {}, locale = 'en' }: { user: UserView | null; routes?: Record<string, Handler>; locale?: Locale },
) {
  const storage = memoryStorage();
  if (user) {
    storage.setItem(
      'zk-agent.session.v1',
      JSON.stringify({ baseUrl: BASE, accessToken: 'a', refreshToken: 'r', expiresAt: Date.now() + 600_000, user }),
    );
  }
  const server = fakeFetch({
    'GET /api/auth/me': () =>
      user ? json(200, { id: user.id, username: user.username, role: user.role, session_id: 's1' }) : json(401, {}),
    'GET /api/setup': () => json(200, { required: false }),
    ...routes,
  });
  const client = new ApiClient({ baseUrl: BASE, fetch: server.fetch, storage });
  const result = render(
    <I18nProvider initial={locale}>
      <ThemeProvider>
        <ApiProvider client={client}>
          <SessionProvider client={client}>
            {user ? <Gate>{ui}</Gate> : ui}
          </SessionProvider>
        </ApiProvider>
      </ThemeProvider>
    </I18nProvider>,
  );
  if (user) await screen.findByTestId('signed-in');
  return { ...result, server, client };
}

function Gate({ children }: { children: ReactNode }) {
  const { state } = useSession();
  if (state.status !== 'signed-in') return <p>{state.status}</p>;
  return <div data-testid="signed-in">{children}</div>;
}
