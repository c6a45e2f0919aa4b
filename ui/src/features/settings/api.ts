import type { ApiClient, Health, UpstreamHealth } from '@/lib/api';

/** `GET /api/health`; its 503 (a component is down) carries the same report. */
export function readHealth(api: ApiClient, signal?: AbortSignal): Promise<Health> {
  return api.get<Health>('/api/health', { auth: false, signal, okStatuses: [503] });
}

export function readFastGptHealth(api: ApiClient, signal?: AbortSignal): Promise<UpstreamHealth> {
  return api.get<UpstreamHealth>('/api/fastgpt/health', { auth: false, signal });
}
