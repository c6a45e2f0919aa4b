import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { describeError } from '@/components/describeError';
import { ErrorBoundary } from '@/components/ErrorBoundary';
import { Loading } from '@/components/Spinner';
import { SetupView, SignInView } from '@/features/auth';
import { I18nProvider, useI18n } from '@/i18n';
import { ApiClient, ApiProvider } from '@/lib/api';
import { desktopLaunch, isDesktop } from '@/lib/platform';
import { SessionProvider, useSession } from '@/lib/session';
import { ThemeProvider } from '@/lib/theme';
import { Frame } from './Frame';

function tokenStorage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

// One client per page in the browser (React may call state initialisers twice in development).
let browserClient: ApiClient | null = null;
function getBrowserClient(): ApiClient {
  browserClient ??= new ApiClient({ baseUrl: window.location.origin, storage: tokenStorage() });
  return browserClient;
}

type Boot =
  | { status: 'starting' }
  | { status: 'ready'; client: ApiClient; launchSecret: string | null }
  | { status: 'failed'; error: unknown };

/**
 * Finds the server: in the browser the page's own origin; in the desktop window the shell's
 * in-process server, whose address and per-launch secret come from the `desktop_launch` command.
 */
function useBoot(): [Boot, () => void] {
  const [attempt, setAttempt] = useState(0);
  const [boot, setBoot] = useState<Boot>(() =>
    isDesktop()
      ? { status: 'starting' }
      : { status: 'ready', client: getBrowserClient(), launchSecret: null },
  );
  useEffect(() => {
    if (!isDesktop()) return undefined;
    let cancelled = false;
    desktopLaunch().then(
      (launch) => {
        if (cancelled) return;
        const client = new ApiClient({ baseUrl: launch.api_base, storage: tokenStorage() });
        setBoot({ status: 'ready', client, launchSecret: launch.launch_secret });
      },
      (error: unknown) => {
        if (!cancelled) setBoot({ status: 'failed', error });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [attempt]);
  useEffect(() => {
    if (boot.status !== 'ready') return undefined;
    boot.client.start();
    return () => boot.client.stop();
  }, [boot]);
  const retry = useCallback(() => {
    setBoot({ status: 'starting' });
    setAttempt((n) => n + 1);
  }, []);
  return [boot, retry];
}

function Startup() {
  const { t } = useI18n();
  const [boot, retry] = useBoot();
  if (boot.status === 'starting') return <FullPage><Loading label={t('app.startingDesktop')} /></FullPage>;
  if (boot.status === 'failed') {
    return (
      <FullPage>
        <h1>{t('app.cannotStart')}</h1>
        <p role="alert">{describeError(boot.error, t)}</p>
        <button type="button" className="button primary" onClick={retry}>
          {t('app.tryAgain')}
        </button>
      </FullPage>
    );
  }
  return (
    <ApiProvider client={boot.client}>
      <SessionProvider client={boot.client} launchSecret={boot.launchSecret}>
        <Gate baseUrl={boot.client.baseUrl} />
      </SessionProvider>
    </ApiProvider>
  );
}

/** Which screen: start-up, setup, sign-in or the app. */
function Gate({ baseUrl }: { baseUrl: string }) {
  const { t } = useI18n();
  const { state, retry, desktop } = useSession();
  switch (state.status) {
    case 'loading':
      return <FullPage><Loading label={t('app.connecting')} /></FullPage>;
    case 'error':
      return (
        <FullPage>
          <h1>{desktop ? t('app.cannotStart') : t('app.cannotReach', { url: baseUrl })}</h1>
          <p role="alert">
            {desktop ? t('auth.desktop.failed', { message: state.error.message }) : describeError(state.error, t)}
          </p>
          <button type="button" className="button primary" onClick={retry}>
            {t('app.tryAgain')}
          </button>
        </FullPage>
      );
    case 'setup':
      return <SetupView />;
    case 'signed-out':
      if (desktop) {
        return (
          <FullPage>
            <p role="alert">{t('auth.signIn.expired')}</p>
            <button type="button" className="button primary" onClick={retry}>
              {t('app.tryAgain')}
            </button>
          </FullPage>
        );
      }
      return <SignInView expired={state.expired} />;
    case 'signed-in':
      return <Frame />;
  }
}

function FullPage({ children }: { children: ReactNode }) {
  return (
    <main id="main" className="full-page">
      <div className="panel">{children}</div>
    </main>
  );
}

function AppErrorBoundary({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  return <ErrorBoundary area={t('app.name')}>{children}</ErrorBoundary>;
}

export function App() {
  return (
    <I18nProvider>
      <ThemeProvider>
        <AppErrorBoundary>
          <Startup />
        </AppErrorBoundary>
      </ThemeProvider>
    </I18nProvider>
  );
}
