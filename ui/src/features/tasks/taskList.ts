import type { TaskState, TaskView } from '@/lib/api';

export const ENDED: ReadonlySet<TaskState> = new Set(['succeeded', 'failed', 'cancelled']);

export function isEnded(state: TaskState): boolean {
  return ENDED.has(state);
}

function time(value: string): number {
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? 0 : parsed;
}

/**
 * Whether `incoming` is at least as new as `current`. Events and list reads race (a list read may
 * answer after a newer event), so the newer `updated_at` wins; on a tie an ended state wins, then
 * more progress, then a cancel request. The same version again is not newer (no re-render).
 */
export function isNewer(incoming: TaskView, current: TaskView): boolean {
  const a = time(incoming.updated_at);
  const b = time(current.updated_at);
  if (a !== b) return a > b;
  if (isEnded(incoming.state) !== isEnded(current.state)) return isEnded(incoming.state);
  if (incoming.progress !== current.progress) return incoming.progress > current.progress;
  return incoming.cancel_requested && !current.cancel_requested;
}

/** Tasks by id, newest id first. */
export type TaskMap = ReadonlyMap<number, TaskView>;

export function mergeTasks(map: TaskMap, incoming: readonly TaskView[]): TaskMap {
  let next: Map<number, TaskView> | null = null;
  for (const task of incoming) {
    const current = (next ?? map).get(task.id);
    if (current && !isNewer(task, current)) continue;
    next ??= new Map(map);
    next.set(task.id, task);
  }
  return next ?? map;
}

export function sortedTasks(map: TaskMap, state: TaskState | null): TaskView[] {
  const list = [...map.values()].filter((task) => state === null || task.state === state);
  return list.sort((a, b) => b.id - a.id);
}

/** The task just ended: it was known and not ended before, and is ended now. */
export function justEnded(previous: TaskView | undefined, next: TaskView): boolean {
  return previous !== undefined && !isEnded(previous.state) && isEnded(next.state);
}
