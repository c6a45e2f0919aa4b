import { ComingSoon } from '@/components/ComingSoon';
import { useI18n } from '@/i18n';

/** Not built yet: says what the cad feature will do (PRODUCT.md §4). */
export function CadView() {
  const { t } = useI18n();
  return (
    <ComingSoon
      title={t('cad.title')}
      summary={t('cad.summary')}
      points={[t('cad.point1'), t('cad.point2'), t('cad.point3'), t('cad.point4')]}
    />
  );
}
