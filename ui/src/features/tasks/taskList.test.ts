import { describe, expect, it } from 'vitest';
import type { TaskView } from '@/lib/api';
import { readTaskEvent } from './api';
import { isNewer, justEnded, mergeTasks, sortedTasks } from './taskList';
import { backoffMs } from './useTaskFeed';

function task(overrides: Partial<TaskView> = {}): TaskView {
  return {
    id: 1,
    kind: 'diagnostics.selftest',
    state: 'running',
    progress: 10,
    message: null,
    attempts: 1,
    max_attempts: 3,
    timeout_ms: 60_000,
    cancel_requested: false,
    payload: { steps: 10, step_ms: 200 },
    result: null,
    error: null,
    created_by: 1,
    created_at: '2026-11-25T09:00:00Z',
    started_at: '2026-11-25T09:00:01Z',
    finished_at: null,
    updated_at: '2026-11-25T09:00:02Z',
    ...overrides,
  };
}

describe('merging task updates', () => {
  it('keeps the newer version when a slow list read answers after a newer event', () => {
    const fromEvent = task({ progress: 80, updated_at: '2026-11-25T09:00:05Z' });
    const fromList = task({ progress: 20, updated_at: '2026-11-25T09:00:03Z' });
    const map = mergeTasks(mergeTasks(new Map(), [fromEvent]), [fromList]);
    expect(map.get(1)?.progress).toBe(80);
  });

  it('prefers the ended state, then more progress, on equal timestamps', () => {
    const running = task({ progress: 100 });
    const done = task({ state: 'succeeded', progress: 100 });
    expect(isNewer(done, running)).toBe(true);
    expect(isNewer(running, done)).toBe(false);
    expect(isNewer(task({ progress: 30 }), task({ progress: 20 }))).toBe(true);
    expect(isNewer(task({ cancel_requested: true }), task())).toBe(true);
    expect(isNewer(task(), task())).toBe(false);
  });

  it('returns the same map when nothing changed (no re-render)', () => {
    const map = mergeTasks(new Map(), [task()]);
    expect(mergeTasks(map, [task()])).toBe(map);
  });

  it('sorts newest first and filters by state', () => {
    const map = mergeTasks(new Map(), [task({ id: 1 }), task({ id: 3, state: 'failed' }), task({ id: 2 })]);
    expect(sortedTasks(map, null).map((t) => t.id)).toEqual([3, 2, 1]);
    expect(sortedTasks(map, 'running').map((t) => t.id)).toEqual([2, 1]);
  });

  it('notices a task that ends, but not one first seen already ended', () => {
    expect(justEnded(task(), task({ state: 'succeeded' }))).toBe(true);
    expect(justEnded(undefined, task({ state: 'succeeded' }))).toBe(false);
    expect(justEnded(task({ state: 'failed' }), task({ state: 'failed' }))).toBe(false);
  });
});

describe('task stream events', () => {
  it('reads ready, task and resync events', () => {
    expect(readTaskEvent({ event: 'ready', data: '{}', id: '' })).toEqual({ type: 'ready' });
    expect(readTaskEvent({ event: 'resync', data: '12', id: '' })).toEqual({ type: 'resync' });
    const event = readTaskEvent({ event: 'task', data: JSON.stringify(task({ id: 9 })), id: '' });
    expect(event.type === 'task' && event.task.id).toBe(9);
    expect(readTaskEvent({ event: 'other', data: '', id: '' })).toEqual({ type: 'ignored', event: 'other' });
  });

  it('backs off 1 s, 2 s, 4 s … up to 30 s between reconnects', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 10].map((n) => backoffMs(n, mid))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
    expect(backoffMs(1, () => 0)).toBe(800);
    expect(backoffMs(1, () => 1)).toBe(1200);
  });
});
