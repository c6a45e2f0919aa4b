import type { Translate } from '@/i18n';
import type { AgentHealth, KeyState } from '@/lib/api';

/** Where the agent's key comes from, in words. */
export function keyStateLabel(key: KeyState, t: Translate): string {
  switch (key.state) {
    case 'stored':
      return t('agents.key.stored');
    case 'environment':
      return t('agents.key.environment', { var: key.var });
    case 'missing_environment':
      return t('agents.key.missingEnvironment', { var: key.var });
    case 'missing':
      return t('agents.key.missing');
    case 'unavailable':
      return t('agents.key.unavailable', { reason: key.reason });
  }
}

export function keyStateTone(key: KeyState): 'state-succeeded' | 'state-failed' | 'state-queued' {
  if (key.state === 'stored' || key.state === 'environment') return 'state-succeeded';
  if (key.state === 'missing') return 'state-queued';
  return 'state-failed';
}

const HEALTH_KEYS = {
  reachable: 'agents.health.reachable',
  unauthorized: 'agents.health.unauthorized',
  unreachable: 'agents.health.unreachable',
  no_key: 'agents.health.no_key',
  not_configured: 'agents.health.not_configured',
} as const;

/** "Reachable, key accepted, 12 ms" and the like. */
export function healthSummary(result: AgentHealth, t: Translate): string {
  const { health } = result;
  const key = HEALTH_KEYS[health.status as keyof typeof HEALTH_KEYS] as (typeof HEALTH_KEYS)[keyof typeof HEALTH_KEYS] | undefined;
  const parts = [key ? t(key) : t('agents.health.other', { status: health.status })];
  if (health.key_valid === true) parts.push(t('agents.health.keyValid'));
  if (health.key_valid === false) parts.push(t('agents.health.keyInvalid'));
  if (health.latency_ms !== null) parts.push(t('agents.health.latency', { ms: health.latency_ms }));
  return parts.join(' · ');
}

export function healthOk(result: AgentHealth): boolean {
  return result.health.status === 'reachable' && result.health.key_valid !== false;
}
