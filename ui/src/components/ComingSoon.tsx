import { useI18n } from '@/i18n';
import { PageHeader } from './PageHeader';

/** The page of a feature that is not built yet: what it will do, not a broken view. */
export function ComingSoon({ title, summary, points }: { title: string; summary: string; points: string[] }) {
  const { t } = useI18n();
  return (
    <div className="coming-soon">
      <PageHeader title={title} intro={summary} />
      <section className="panel" aria-labelledby="coming-soon-heading">
        <p className="badge badge-info" id="coming-soon-heading">
          {t('comingSoon.badge')}
        </p>
        <p>{t('comingSoon.intro')}</p>
        <ul className="feature-list">
          {points.map((point) => (
            <li key={point}>{point}</li>
          ))}
        </ul>
        <p className="muted">{t('comingSoon.meanwhile')}</p>
      </section>
    </div>
  );
}
