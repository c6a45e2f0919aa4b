import type { Translate } from '@/i18n';
import { ApiError } from '@/lib/api';

/** A sentence for the user about a failed call, in their language where the case is a known one. */
export function describeError(error: unknown, t: Translate): string {
  if (error instanceof ApiError) {
    if (error.isNetwork) return t('error.network');
    if (error.status === 429) return t('error.rateLimited', { seconds: error.retryAfterSecs ?? 60 });
    if (error.code === 'busy') return t('error.busy', { seconds: error.retryAfterSecs ?? 5 });
    if (error.status === 403) return t('error.forbidden');
    return t('error.server', { message: error.message });
  }
  if (error instanceof Error) return error.message;
  // The desktop shell's commands reject with `{code, message}`.
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return String(error);
}
