import type { ReactNode } from 'react';
import { LanguageSelect } from '@/components/PreferenceSwitches';
import { useI18n } from '@/i18n';
import { useApi } from '@/lib/api';

/** The centred card around sign-in and setup, with the language switch and the server's address. */
export function AuthLayout({ title, intro, children }: { title: string; intro: string; children: ReactNode }) {
  const { t } = useI18n();
  const api = useApi();
  return (
    <main id="main" className="auth-page">
      <div className="auth-card panel">
        <div className="auth-brand">
          <span className="brand-mark" aria-hidden="true">
            ZK
          </span>
          <div>
            <p className="brand-name">{t('app.name')}</p>
            <p className="muted">{t('app.tagline')}</p>
          </div>
        </div>
        <h1 tabIndex={-1} data-page-title>
          {title}
        </h1>
        <p className="muted">{intro}</p>
        {children}
        <div className="auth-footer">
          <LanguageSelect id="auth-language" />
          <p className="muted small">{t('auth.server', { url: api.baseUrl || window.location.origin })}</p>
        </div>
      </div>
    </main>
  );
}
