import type { ReactNode } from 'react';
import { Notice } from '@/components/Notice';
import { useI18n } from '@/i18n';

/** An error notice with a "Retry" button after its text. */
export function RetryNotice({ children, onRetry }: { children: ReactNode; onRetry: () => void }) {
  const { t } = useI18n();
  return (
    <Notice tone="error">
      {children}{' '}
      <button type="button" className="button small" onClick={onRetry}>
        {t('error.retry')}
      </button>
    </Notice>
  );
}
