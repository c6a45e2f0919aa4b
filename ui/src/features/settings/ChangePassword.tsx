import { useState, type SubmitEvent } from 'react';
import { describeError } from '@/components/describeError';
import { TextField } from '@/components/Field';
import { Notice } from '@/components/Notice';
import { useI18n } from '@/i18n';
import { ApiError, useApi } from '@/lib/api';

type FieldName = 'current' | 'next' | 'confirm';

export function ChangePassword() {
  const { t } = useI18n();
  const api = useApi();
  const [values, setValues] = useState<Record<FieldName, string>>({ current: '', next: '', confirm: '' });
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [result, setResult] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const found: Partial<Record<FieldName, string>> = {};
    if (!values.current) found.current = t('validation.required');
    if (values.next.length < 8 || values.next.length > 128) found.next = t('validation.passwordLength');
    if (values.confirm !== values.next) found.confirm = t('auth.setup.mismatch');
    setErrors(found);
    setResult(null);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      await api.changePassword(values.current, values.next);
      setValues({ current: '', next: '', confirm: '' });
      setResult({ tone: 'success', text: t('settings.password.done') });
    } catch (caught) {
      if (caught instanceof ApiError && caught.field === 'new_password') setErrors({ next: caught.message });
      else if (caught instanceof ApiError && caught.field === 'current_password') {
        setErrors({ current: t('settings.password.wrong') });
      } else setResult({ tone: 'error', text: describeError(caught, t) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(event) => void submit(event)} noValidate aria-labelledby="password-title" className="subsection">
      <h3 id="password-title">{t('settings.password')}</h3>
      {result ? <Notice tone={result.tone}>{result.text}</Notice> : null}
      <div className="form-grid">
        <TextField
          label={t('settings.password.current')}
          type="password"
          autoComplete="current-password"
          error={errors.current}
          value={values.current}
          onChange={(event) => setValues({ ...values, current: event.target.value })}
        />
        <TextField
          label={t('settings.password.new')}
          type="password"
          autoComplete="new-password"
          hint={t('auth.passwordHint')}
          error={errors.next}
          value={values.next}
          onChange={(event) => setValues({ ...values, next: event.target.value })}
        />
        <TextField
          label={t('settings.password.confirm')}
          type="password"
          autoComplete="new-password"
          error={errors.confirm}
          value={values.confirm}
          onChange={(event) => setValues({ ...values, confirm: event.target.value })}
        />
      </div>
      <button type="submit" className="button" disabled={busy}>
        {busy ? t('settings.password.busy') : t('settings.password.submit')}
      </button>
    </form>
  );
}
