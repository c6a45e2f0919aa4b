import { useState } from 'react';
import { PageHeader } from '@/components/PageHeader';
import { LanguageSelect, ThemeRadios } from '@/components/PreferenceSwitches';
import { useI18n } from '@/i18n';
import { useSession, useUser } from '@/lib/session';
import { ChangePassword } from './ChangePassword';
import { ServerConnection } from './ServerConnection';

export function SettingsView() {
  const { t } = useI18n();
  const user = useUser();
  const { signOut, desktop } = useSession();
  const [serverVersion, setServerVersion] = useState<string | null>(null);

  return (
    <div className="settings-view">
      <PageHeader title={t('settings.title')} />

      <section className="panel" aria-labelledby="appearance-title">
        <h2 id="appearance-title" className="panel-title">
          {t('settings.appearance')}
        </h2>
        <LanguageSelect id="settings-language" />
        <ThemeRadios />
      </section>

      <ServerConnection onVersion={setServerVersion} />

      <section className="panel" aria-labelledby="account-title">
        <h2 id="account-title" className="panel-title">
          {t('settings.account')}
        </h2>
        <p>
          {t('settings.account.user', {
            name: user.display_name || user.username,
            username: user.username,
            role: t(`role.${user.role}`),
          })}
        </p>
        {user.has_password ? <ChangePassword /> : null}
        {desktop ? null : (
          <button type="button" className="button danger" onClick={() => void signOut()}>
            {t('settings.signOut')}
          </button>
        )}
      </section>

      <section className="panel" aria-labelledby="about-title">
        <h2 id="about-title" className="panel-title">
          {t('settings.about')}
        </h2>
        <p>{t('settings.about.text')}</p>
        <dl className="facts">
          <dt>{t('settings.about.ui')}</dt>
          <dd data-testid="ui-version">{__UI_VERSION__}</dd>
          <dt>{t('settings.about.server')}</dt>
          <dd data-testid="server-version">{serverVersion ?? '—'}</dd>
        </dl>
      </section>
    </div>
  );
}
