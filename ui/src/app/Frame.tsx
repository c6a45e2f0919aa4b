import { Suspense, useEffect, useRef } from 'react';
import { ErrorBoundary } from '@/components/ErrorBoundary';
import { PageHeader } from '@/components/PageHeader';
import { Loading } from '@/components/Spinner';
import { useI18n } from '@/i18n';
import { Link, navigate, usePath } from '@/lib/router';
import { roleAtLeast, useSession, useUser } from '@/lib/session';
import { Icon } from './icons';
import { HOME, ROUTES, matchRoute, redirectFor } from './routes';

/** The signed-in app: skip link, navigation, the current view inside its own error boundary. */
export function Frame() {
  const { t } = useI18n();
  const user = useUser();
  const { signOut, desktop } = useSession();
  const path = usePath();
  const redirect = redirectFor(path);
  const route = redirect ? null : matchRoute(path);
  const mainRef = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  useEffect(() => {
    if (redirect) navigate(redirect, { replace: true });
  }, [redirect]);

  // After in-app navigation, move focus to the new view's heading so screen readers announce it.
  useEffect(() => {
    if (redirect) return;
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    const heading = mainRef.current?.querySelector<HTMLElement>('[data-page-title]');
    (heading ?? mainRef.current)?.focus();
  }, [path, redirect]);

  const visible = ROUTES.filter((entry) => roleAtLeast(user.role, entry.role));
  const area = route ? t(route.label) : t('app.name');

  return (
    <div className="frame">
      <a href="#main" className="skip-link">
        {t('app.skipToContent')}
      </a>
      <aside className="sidebar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            ZK
          </span>
          <span className="brand-name">{t('app.name')}</span>
        </div>
        <nav aria-label={t('nav.label')}>
          <ul className="nav-list">
            {visible.map((entry) => (
              <li key={entry.path}>
                <Link to={entry.path} activeMatch className="nav-link" data-nav={entry.path.slice(1)}>
                  <Icon name={entry.icon} />
                  <span>{t(entry.label)}</span>
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="sidebar-user">
          <p className="small">
            {t('nav.signedInAs', { name: user.display_name || user.username })}
            <br />
            <span className="muted">{t(`role.${user.role}`)}</span>
          </p>
          {desktop ? null : (
            <button type="button" className="button small" onClick={() => void signOut()}>
              {t('nav.signOut')}
            </button>
          )}
        </div>
      </aside>
      <main id="main" ref={mainRef} tabIndex={-1} className="content">
        <ErrorBoundary area={area} resetKeys={[path]}>
          <Suspense fallback={<Loading label={t('app.loading')} />}>
            {redirect ? null : route ? route.render() : <NotFound path={path} />}
          </Suspense>
        </ErrorBoundary>
      </main>
    </div>
  );
}

function NotFound({ path }: { path: string }) {
  const { t } = useI18n();
  return (
    <div>
      <PageHeader title={t('app.notFound.title')} intro={t('app.notFound.body', { path })} />
      <Link to={HOME} className="button">
        {t('app.notFound.home')}
      </Link>
    </div>
  );
}
