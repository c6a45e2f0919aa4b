import { useState } from 'react';
import { describeError } from '@/components/describeError';
import { useI18n } from '@/i18n';
import { ApiError, useApi, type Role, type UserPatch, type UserView } from '@/lib/api';
import { updateUser } from './api';

const ROLES: readonly Role[] = ['viewer', 'designer', 'admin'];

interface Props {
  user: UserView;
  isSelf: boolean;
  onUpdated: (user: UserView, message: string) => void;
  onError: (message: string) => void;
}

export function UserRow({ user, isSelf, onUpdated, onError }: Props) {
  const { t, formatDateTime } = useI18n();
  const api = useApi();
  const [role, setRole] = useState<Role>(user.role);
  const [busy, setBusy] = useState(false);
  const name = user.display_name || user.username;
  const selectId = `role-${user.id}`;

  const apply = async (patch: Partial<UserPatch>) => {
    setBusy(true);
    try {
      const updated = await updateUser(api, user.id, patch);
      setRole(updated.role);
      onUpdated(updated, t('admin.users.updated', { name: updated.username }));
    } catch (caught) {
      setRole(user.role);
      onError(
        caught instanceof ApiError && caught.status === 409 ? t('admin.users.lastAdmin') : describeError(caught, t),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <tr data-username={user.username} className={user.disabled ? 'row-disabled' : undefined}>
      <th scope="row">
        {user.username} {isSelf ? <span className="muted">{t('admin.users.you')}</span> : null}
      </th>
      <td>{user.display_name}</td>
      <td>
        <div className="inline-form">
          <label htmlFor={selectId} className="sr-only">
            {t('admin.users.roleOf', { name })}
          </label>
          <select id={selectId} value={role} disabled={busy} onChange={(event) => setRole(event.target.value as Role)}>
            {ROLES.map((option) => (
              <option key={option} value={option}>
                {t(`role.${option}`)}
              </option>
            ))}
          </select>
          {role !== user.role ? (
            <button
              type="button"
              className="button small primary"
              disabled={busy}
              onClick={() => void apply({ role })}
              aria-label={t('admin.users.applyRoleOf', { name })}
            >
              {t('admin.users.applyRole')}
            </button>
          ) : null}
        </div>
      </td>
      <td>
        <span className={`badge ${user.disabled ? 'state-failed' : 'state-succeeded'}`}>
          {user.disabled ? t('admin.users.disabled') : t('admin.users.active')}
        </span>
        {!user.has_password ? <span className="muted small"> · {t('admin.users.noPassword')}</span> : null}
      </td>
      <td>{formatDateTime(user.created_at)}</td>
      <td>
        <button
          type="button"
          className="button small"
          disabled={busy}
          onClick={() => void apply({ disabled: !user.disabled })}
          aria-label={user.disabled ? t('admin.users.enableUser', { name }) : t('admin.users.disableUser', { name })}
        >
          {user.disabled ? t('admin.users.enable') : t('admin.users.disable')}
        </button>
      </td>
    </tr>
  );
}
