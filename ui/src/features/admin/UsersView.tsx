import { useCallback, useState } from 'react';
import { describeError } from '@/components/describeError';
import { Notice } from '@/components/Notice';
import { Loading } from '@/components/Spinner';
import { useI18n } from '@/i18n';
import { useApi, type UserView } from '@/lib/api';
import { useAsync } from '@/lib/hooks/useAsync';
import { useUser } from '@/lib/session';
import { listUsers } from './api';
import { CreateUserForm } from './CreateUserForm';
import { UserRow } from './UserRow';

export function UsersView() {
  const { t } = useI18n();
  const api = useApi();
  const me = useUser();
  const users = useAsync((signal) => listUsers(api, signal), [api]);
  const [changed, setChanged] = useState<Map<number, UserView>>(() => new Map());
  const [message, setMessage] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);

  const remember = useCallback((user: UserView) => {
    setChanged((previous) => new Map(previous).set(user.id, user));
  }, []);

  const list = [...(users.data ?? [])];
  for (const user of changed.values()) {
    const index = list.findIndex((u) => u.id === user.id);
    if (index === -1) list.push(user);
    else list[index] = user;
  }
  list.sort((a, b) => a.username.localeCompare(b.username));

  return (
    <div className="users-view">
      <p className="page-intro">{t('admin.users.intro')}</p>
      {message ? <Notice tone={message.tone}>{message.text}</Notice> : null}
      <section className="panel" aria-labelledby="users-title">
        <h2 id="users-title" className="panel-title">
          {t('admin.users.list')}
        </h2>
        {users.status === 'error' ? <Notice tone="error">{describeError(users.error, t)}</Notice> : null}
        {users.status === 'loading' && !users.data ? <Loading label={t('app.loading')} /> : null}
        {users.data && list.length === 0 ? <p className="empty">{t('admin.users.empty')}</p> : null}
        {list.length > 0 ? (
          <div className="table-scroll">
            <table className="table" data-testid="users-table">
              <thead>
                <tr>
                  <th scope="col">{t('admin.users.username')}</th>
                  <th scope="col">{t('admin.users.displayName')}</th>
                  <th scope="col">{t('admin.users.role')}</th>
                  <th scope="col">{t('admin.users.status')}</th>
                  <th scope="col">{t('admin.users.created')}</th>
                  <th scope="col">{t('admin.users.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((user) => (
                  <UserRow
                    key={user.id}
                    user={user}
                    isSelf={user.id === me.id}
                    onUpdated={(updated, text) => {
                      remember(updated);
                      setMessage({ tone: 'success', text });
                    }}
                    onError={(text) => setMessage({ tone: 'error', text })}
                  />
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      <CreateUserForm onCreated={remember} />
    </div>
  );
}
