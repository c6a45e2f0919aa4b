import { ComingSoon } from '@/components/ComingSoon';
import { useI18n } from '@/i18n';

/** Not built yet: says what the agents feature will do (PRODUCT.md §4). */
export function AgentsView() {
  const { t } = useI18n();
  return (
    <ComingSoon
      title={t('agents.title')}
      summary={t('agents.summary')}
      points={[t('agents.point1'), t('agents.point2'), t('agents.point3')]}
    />
  );
}
