import type { MessageKey, Translate } from '@/i18n';
import type { TaskState } from '@/lib/api';

export const STATES: readonly TaskState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export function stateLabel(state: TaskState, t: Translate): string {
  return t(`tasks.state.${state}`);
}

const KIND_KEYS: Record<string, MessageKey> = {
  'diagnostics.selftest': 'tasks.kind.diagnostics.selftest',
  'chat.import_fastgpt': 'tasks.kind.chat.import_fastgpt',
};

/** A task kind in words; kinds the UI does not know yet show as they are. */
export function kindLabel(kind: string, t: Translate): string {
  const key = KIND_KEYS[kind];
  return key ? t(key) : kind;
}
