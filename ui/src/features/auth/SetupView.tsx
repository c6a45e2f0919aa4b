import { useState, type SubmitEvent } from 'react';
import { describeError } from '@/components/describeError';
import { TextField } from '@/components/Field';
import { Notice } from '@/components/Notice';
import { useI18n } from '@/i18n';
import { ApiError, useApi } from '@/lib/api';
import { AuthLayout } from './AuthLayout';

type FieldName = 'token' | 'username' | 'display_name' | 'password' | 'confirm';

/**
 * The setup token of the address the server printed (`/setup?token=…`), taken out of the address
 * bar at once so it stays in neither the history nor a shared screenshot.
 */
function takeTokenFromAddress(): string {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token') ?? '';
  if (token) {
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
  }
  return token;
}

/** First start of a new server: the setup token (from the server's log) creates the first admin. */
export function SetupView() {
  const { t } = useI18n();
  const api = useApi();
  const [values, setValues] = useState<Record<FieldName, string>>(() => ({
    token: takeTokenFromAddress(),
    username: '',
    display_name: '',
    password: '',
    confirm: '',
  }));
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const set = (name: FieldName) => (event: { target: { value: string } }) =>
    setValues((previous) => ({ ...previous, [name]: event.target.value }));

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const found: Partial<Record<FieldName, string>> = {};
    if (!values.token.trim()) found.token = t('validation.required');
    if (!values.username.trim()) found.username = t('validation.required');
    if (values.password.length < 8 || values.password.length > 128) found.password = t('validation.passwordLength');
    if (values.confirm !== values.password) found.confirm = t('auth.setup.mismatch');
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      await api.completeSetup({
        token: values.token.trim(),
        username: values.username.trim(),
        password: values.password,
        display_name: values.display_name.trim() || null,
      });
    } catch (caught) {
      const field = caught instanceof ApiError ? caught.field : null;
      if (caught instanceof ApiError && field && field in values) {
        setErrors({ [field]: caught.message });
      } else if (caught instanceof ApiError && caught.status === 403) {
        setErrors({ token: t('auth.setup.badToken') });
      } else {
        setFormError(describeError(caught, t));
      }
      setBusy(false);
    }
  };

  return (
    <AuthLayout title={t('auth.setup.title')} intro={t('auth.setup.intro')}>
      {formError ? <Notice tone="error">{formError}</Notice> : null}
      <form onSubmit={(event) => void submit(event)} noValidate aria-label={t('auth.setup.title')}>
        <TextField
          label={t('auth.setup.token')}
          hint={t('auth.setup.tokenHint')}
          error={errors.token}
          autoComplete="off"
          spellCheck={false}
          required
          value={values.token}
          onChange={set('token')}
        />
        <TextField
          label={t('auth.username')}
          error={errors.username}
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={values.username}
          onChange={set('username')}
        />
        <TextField
          label={t('auth.setup.displayName')}
          error={errors.display_name}
          autoComplete="name"
          value={values.display_name}
          onChange={set('display_name')}
        />
        <TextField
          label={t('auth.password')}
          hint={t('auth.passwordHint')}
          error={errors.password}
          type="password"
          autoComplete="new-password"
          required
          value={values.password}
          onChange={set('password')}
        />
        <TextField
          label={t('auth.setup.confirm')}
          error={errors.confirm}
          type="password"
          autoComplete="new-password"
          required
          value={values.confirm}
          onChange={set('confirm')}
        />
        <button type="submit" className="button primary wide" disabled={busy}>
          {busy ? t('auth.setup.busy') : t('auth.setup.submit')}
        </button>
      </form>
    </AuthLayout>
  );
}
