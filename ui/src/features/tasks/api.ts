import type { ApiClient, EnqueueRequest, SseEvent, TaskState, TaskView } from '@/lib/api';

export const SELFTEST_KIND = 'diagnostics.selftest';
export const PAGE_SIZE = 50;

/** Input of the self-test task (`diagnostics.selftest`): `steps` 1–1000, `step_ms` per step. */
// A type alias, not an interface: it must fit JsonValue's index signature.
export type SelfTestPayload = { steps: number; step_ms: number };

export function listTasks(
  api: ApiClient,
  params: { state?: TaskState | null; before?: number | null; limit?: number },
  signal?: AbortSignal,
): Promise<TaskView[]> {
  return api.get<TaskView[]>('/api/tasks', {
    query: { state: params.state, before: params.before, limit: params.limit ?? PAGE_SIZE },
    signal,
  });
}

export function startSelfTest(api: ApiClient, payload: SelfTestPayload): Promise<TaskView> {
  const request: EnqueueRequest = {
    kind: SELFTEST_KIND,
    payload,
    max_attempts: null,
    timeout_secs: null,
    // A retried request (or a double click) must not start two self-tests.
    idempotency_key: `selftest-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  };
  return api.post<TaskView>('/api/tasks', request);
}

export function cancelTask(api: ApiClient, id: number): Promise<TaskView> {
  return api.post<TaskView>(`/api/tasks/${id}/cancel`);
}

export type TaskStreamEvent =
  | { type: 'ready' }
  | { type: 'task'; task: TaskView }
  | { type: 'resync' }
  | { type: 'ignored'; event: string };

/** Interprets one event of `GET /api/tasks/events`. */
export function readTaskEvent(event: SseEvent): TaskStreamEvent {
  switch (event.event) {
    case 'ready':
      return { type: 'ready' };
    case 'resync':
      return { type: 'resync' };
    case 'task': {
      const task = JSON.parse(event.data) as TaskView;
      return { type: 'task', task };
    }
    default:
      return { type: 'ignored', event: event.event };
  }
}
