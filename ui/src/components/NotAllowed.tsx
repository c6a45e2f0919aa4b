import { useI18n } from '@/i18n';
import type { Role } from '@/lib/api';
import { Link } from '@/lib/router';
import { useUser } from '@/lib/session';
import { PageHeader } from './PageHeader';

/** Shown instead of a view the user's role does not allow (the server refuses its API calls too). */
export function NotAllowed({ needed }: { needed: Role }) {
  const { t } = useI18n();
  const user = useUser();
  return (
    <div data-testid="not-allowed">
      <PageHeader title={t('notAllowed.title')} />
      <section className="panel">
        <p>
          {t('notAllowed.body', {
            role: t(`role.${needed}`),
            user: user.display_name || user.username,
            current: t(`role.${user.role}`),
          })}
        </p>
        <Link to="/tasks" className="button">
          {t('notAllowed.back')}
        </Link>
      </section>
    </div>
  );
}
