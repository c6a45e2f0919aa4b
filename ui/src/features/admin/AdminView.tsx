import { NotAllowed } from '@/components/NotAllowed';
import { PageHeader } from '@/components/PageHeader';
import { useI18n } from '@/i18n';
import { Link, isWithin, usePath } from '@/lib/router';
import { roleAtLeast, useUser } from '@/lib/session';
import { AuditLog } from './AuditLog';
import { UsersView } from './UsersView';

/** Administration: only for admins; anyone else gets the "not allowed" view (the API refuses them too). */
export function AdminView() {
  const { t } = useI18n();
  const user = useUser();
  const path = usePath();
  if (!roleAtLeast(user.role, 'admin')) return <NotAllowed needed="admin" />;
  return (
    <div className="admin-view">
      <PageHeader title={t('admin.title')} />
      <nav className="tabs" aria-label={t('admin.sections')}>
        <Link to="/admin/users" activeMatch className="tab">
          {t('admin.users')}
        </Link>
        <Link to="/admin/audit" activeMatch className="tab">
          {t('admin.audit')}
        </Link>
      </nav>
      {isWithin(path, '/admin/audit') ? <AuditLog /> : <UsersView />}
    </div>
  );
}
