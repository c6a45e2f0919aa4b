import type { Translate } from '@/i18n';
import { ApiError } from '@/lib/api';

/** A sentence for the user about a failed call, in their language where the case is a known one. */
export function describeError(error: unknown, t: Translate): string {
  if (error instanceof ApiError) {
    if (error.isNetwork) return t('error.network');
    if (error.status === 429) return t('error.rateLimited', { seconds: error.retryAfterSecs ?? 60 });
    if (error.status === 403) return t('error.forbidden');
    return t('error.server', { message: error.message });
  }
  return error instanceof Error ? error.message : String(error);
}
