import { useState, type SubmitEvent } from 'react';
import { describeError } from '@/components/describeError';
import { SelectField, TextField } from '@/components/Field';
import { Notice } from '@/components/Notice';
import { useI18n } from '@/i18n';
import { ApiError, useApi, type Role, type UserView } from '@/lib/api';
import { createUser } from './api';

type FieldName = 'username' | 'display_name' | 'password' | 'role';
const ROLES: readonly Role[] = ['viewer', 'designer', 'admin'];
const EMPTY = { username: '', display_name: '', password: '', role: 'designer' as Role };

/** New account form. The server's checks (name rules, password policy) come back as field errors. */
export function CreateUserForm({ onCreated }: { onCreated: (user: UserView) => void }) {
  const { t } = useI18n();
  const api = useApi();
  const [values, setValues] = useState(EMPTY);
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const found: Partial<Record<FieldName, string>> = {};
    if (!values.username.trim()) found.username = t('validation.required');
    if (values.password.length < 8 || values.password.length > 128) found.password = t('validation.passwordLength');
    setErrors(found);
    setFormError(null);
    setCreated(null);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      const user = await createUser(api, {
        username: values.username.trim(),
        display_name: values.display_name.trim() || null,
        password: values.password,
        role: values.role,
      });
      setValues(EMPTY);
      setCreated(t('admin.users.createdOk', { name: user.username }));
      onCreated(user);
    } catch (caught) {
      if (caught instanceof ApiError && caught.field && caught.field in EMPTY) {
        setErrors({ [caught.field]: caught.message });
      } else if (caught instanceof ApiError && caught.status === 409) {
        setErrors({ username: t('admin.users.conflict') });
      } else {
        setFormError(describeError(caught, t));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="panel"
      onSubmit={(event) => void submit(event)}
      noValidate
      aria-labelledby="create-user-title"
      data-testid="create-user-form"
    >
      <h2 id="create-user-title" className="panel-title">
        {t('admin.users.create')}
      </h2>
      {formError ? <Notice tone="error">{formError}</Notice> : null}
      {created ? <Notice tone="success">{created}</Notice> : null}
      <div className="form-grid">
        <TextField
          label={t('admin.users.username')}
          name="new-username"
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          required
          error={errors.username}
          value={values.username}
          onChange={(event) => setValues({ ...values, username: event.target.value })}
        />
        <TextField
          label={t('admin.users.displayName')}
          name="new-display-name"
          autoComplete="off"
          error={errors.display_name}
          value={values.display_name}
          onChange={(event) => setValues({ ...values, display_name: event.target.value })}
        />
        <TextField
          label={t('admin.users.password')}
          name="new-password"
          type="password"
          autoComplete="new-password"
          required
          hint={t('auth.passwordHint')}
          error={errors.password}
          value={values.password}
          onChange={(event) => setValues({ ...values, password: event.target.value })}
        />
        <SelectField
          label={t('admin.users.role')}
          name="new-role"
          hint={t('admin.users.roleHelp')}
          error={errors.role}
          value={values.role}
          onChange={(event) => setValues({ ...values, role: event.target.value as Role })}
        >
          {ROLES.map((role) => (
            <option key={role} value={role}>
              {t(`role.${role}`)}
            </option>
          ))}
        </SelectField>
      </div>
      <button type="submit" className="button primary" disabled={busy}>
        {busy ? t('admin.users.creating') : t('admin.users.createSubmit')}
      </button>
    </form>
  );
}
