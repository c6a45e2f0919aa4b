import { ComingSoon } from '@/components/ComingSoon';
import { useI18n } from '@/i18n';

/** Not built yet: says what the chat feature will do (PRODUCT.md §4). */
export function ChatView() {
  const { t } = useI18n();
  return (
    <ComingSoon
      title={t('chat.title')}
      summary={t('chat.summary')}
      points={[t('chat.point1'), t('chat.point2'), t('chat.point3'), t('chat.point4')]}
    />
  );
}
