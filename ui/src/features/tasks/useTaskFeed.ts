import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type ApiClient, type TaskState, type TaskView } from '@/lib/api';
import { PAGE_SIZE, listTasks, readTaskEvent } from './api';
import { justEnded, mergeTasks, type TaskMap } from './taskList';

export type Connection = 'connecting' | 'live' | 'reconnecting';

/** Reconnect delay after the n-th failure in a row: 1 s, 2 s, 4 s … up to 30 s, with jitter. */
export function backoffMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.8 + random() * 0.4));
}

interface Feed {
  tasks: TaskMap;
  connection: Connection;
  /** Error of the last list read, if it failed. */
  error: unknown;
  loading: boolean;
  /** More, older tasks may exist on the server. */
  hasMore: boolean;
  loadMore: () => void;
  reload: () => void;
  /** Puts a task the view got from a call (enqueue, cancel) in the list before its event arrives. */
  upsert: (task: TaskView) => void;
}

/**
 * The task list, kept current by `GET /api/tasks/events`. The list is read again each time the
 * stream says `ready` (so a reconnect misses nothing) and on `resync` (the server dropped events);
 * a broken stream is reopened with backoff. `onEnded` hears each task seen to finish.
 */
export function useTaskFeed(api: ApiClient, state: TaskState | null, onEnded: (task: TaskView) => void): Feed {
  const [tasks, setTasks] = useState<TaskMap>(() => new Map());
  const [connection, setConnection] = useState<Connection>('connecting');
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [hasMore, setHasMore] = useState(false);
  const tasksRef = useRef<TaskMap>(tasks);
  const onEndedRef = useRef(onEnded);
  const listGeneration = useRef(0);

  useEffect(() => {
    onEndedRef.current = onEnded;
  }, [onEnded]);

  const apply = useCallback((incoming: readonly TaskView[], notify: boolean) => {
    const before = tasksRef.current;
    const after = mergeTasks(before, incoming);
    if (after === before) return;
    tasksRef.current = after;
    setTasks(after);
    if (notify) {
      for (const task of incoming) if (justEnded(before.get(task.id), task)) onEndedRef.current(task);
    }
  }, []);

  /** Reads the newest page (again). Answers of superseded reads are dropped. */
  const readList = useCallback(async () => {
    const generation = ++listGeneration.current;
    setLoading(true);
    try {
      const page = await listTasks(api, { state });
      if (generation !== listGeneration.current) return;
      apply(page, true);
      setHasMore(page.length >= PAGE_SIZE);
      setError(null);
    } catch (caught) {
      if (generation === listGeneration.current) setError(caught);
    } finally {
      if (generation === listGeneration.current) setLoading(false);
    }
  }, [api, state, apply]);

  const readListRef = useRef(readList);
  const live = useRef(false);

  // Changing the filter starts from the server's answer for it (on start, `ready` triggers the read).
  useEffect(() => {
    readListRef.current = readList;
    tasksRef.current = new Map();
    setTasks(tasksRef.current);
    setHasMore(false);
    if (live.current) void readList();
  }, [readList]);

  useEffect(() => {
    const controller = new AbortController();
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;

    const connect = () => {
      setConnection(failures === 0 ? 'connecting' : 'reconnecting');
      api
        .stream('/api/tasks/events', {
          signal: controller.signal,
          onEvent: (raw) => {
            const event = readTaskEvent(raw);
            if (event.type === 'ready') {
              failures = 0;
              live.current = true;
              setConnection('live');
              void readListRef.current();
            } else if (event.type === 'resync') {
              void readListRef.current();
            } else if (event.type === 'task') {
              apply([event.task], true);
            }
          },
        })
        .then(
          () => retry(),
          (caught: unknown) => {
            if (controller.signal.aborted) return;
            // Session over: the app goes to sign-in and unmounts this view.
            if (caught instanceof ApiError && caught.status === 401) return;
            retry();
          },
        );
    };

    const retry = () => {
      live.current = false;
      if (controller.signal.aborted) return;
      failures += 1;
      setConnection('reconnecting');
      // Without the stream the list would go stale: read it now, and at each attempt (polling).
      void readListRef.current();
      timer = setTimeout(connect, backoffMs(failures));
    };

    connect();
    return () => {
      live.current = false;
      controller.abort();
      if (timer !== null) clearTimeout(timer);
    };
  }, [api, apply]);

  const loadMore = useCallback(() => {
    const ids = [...tasksRef.current.keys()];
    if (ids.length === 0) return;
    const before = Math.min(...ids);
    setLoading(true);
    listTasks(api, { state, before }).then(
      (page) => {
        apply(page, false);
        setHasMore(page.length >= PAGE_SIZE);
        setLoading(false);
      },
      (caught: unknown) => {
        setError(caught);
        setLoading(false);
      },
    );
  }, [api, state, apply]);

  const reload = useCallback(() => void readList(), [readList]);
  const upsert = useCallback((task: TaskView) => apply([task], false), [apply]);

  return { tasks, connection, error, loading, hasMore, loadMore, reload, upsert };
}
