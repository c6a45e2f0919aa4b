import { ComingSoon } from '@/components/ComingSoon';
import { useI18n } from '@/i18n';

/** Not built yet: says what the posters feature will do (PRODUCT.md §4). */
export function PostersView() {
  const { t } = useI18n();
  return (
    <ComingSoon
      title={t('posters.title')}
      summary={t('posters.summary')}
      points={[t('posters.point1'), t('posters.point2'), t('posters.point3')]}
    />
  );
}
