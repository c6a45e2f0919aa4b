import { useState, type SubmitEvent } from 'react';
import { describeError } from '@/components/describeError';
import { TextField } from '@/components/Field';
import { Notice } from '@/components/Notice';
import { useI18n } from '@/i18n';
import { ApiError, useApi } from '@/lib/api';
import { AuthLayout } from './AuthLayout';

export function SignInView({ expired = false }: { expired?: boolean }) {
  const { t } = useI18n();
  const api = useApi();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (!username.trim() || !password) {
      setError(t('auth.signIn.required'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      // Success changes the session; the app then shows the view that was asked for.
      await api.signIn(username.trim(), password);
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401 ? t('auth.signIn.wrong') : describeError(caught, t),
      );
      setBusy(false);
    }
  };

  return (
    <AuthLayout title={t('auth.signIn.title')} intro={t('auth.signIn.intro')}>
      {expired && !error ? <Notice>{t('auth.signIn.expired')}</Notice> : null}
      {error ? <Notice tone="error">{error}</Notice> : null}
      <form onSubmit={(event) => void submit(event)} noValidate aria-label={t('auth.signIn.title')}>
        <TextField
          label={t('auth.username')}
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={username}
          onChange={(event) => setUsername(event.target.value)}
        />
        <TextField
          label={t('auth.password')}
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <button type="submit" className="button primary wide" disabled={busy}>
          {busy ? t('auth.signIn.busy') : t('auth.signIn.submit')}
        </button>
      </form>
    </AuthLayout>
  );
}
