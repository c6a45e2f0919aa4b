import { useCallback, useEffect, useEffectEvent, useMemo, useState } from 'react';

export type AsyncState<T> =
  | { status: 'loading'; data: T | null; error: null }
  | { status: 'ready'; data: T; error: null }
  | { status: 'error'; data: T | null; error: unknown };

interface Settled<T> {
  /** The request this answer belongs to. */
  request: object;
  data: T | null;
  error: unknown;
  failed: boolean;
}

/**
 * Runs `load` on mount and when `deps` change; `reload()` runs it again. A superseded run's result
 * is dropped, so a slow answer never overwrites a newer one. The last data stays shown while loading.
 */
export function useAsync<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
): AsyncState<T> & { reload: () => void } {
  const [generation, setGeneration] = useState(0);
  // A new identity for each load; the answer is "loading" until one settles for it.
  // `deps` are the caller's: they decide when to load again.
  // eslint-disable-next-line react-hooks/exhaustive-deps, react-hooks/use-memo
  const request = useMemo(() => ({}), [...deps, generation]);
  const [settled, setSettled] = useState<Settled<T> | null>(null);
  const run = useEffectEvent((signal: AbortSignal) => load(signal));

  useEffect(() => {
    const controller = new AbortController();
    run(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setSettled({ request, data, error: null, failed: false });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) {
          setSettled((previous) => ({ request, data: previous?.data ?? null, error, failed: true }));
        }
      },
    );
    return () => controller.abort();
  }, [request]);

  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  const data = settled?.data ?? null;
  if (settled?.request !== request) return { status: 'loading', data, error: null, reload };
  if (settled.failed) return { status: 'error', data, error: settled.error, reload };
  return { status: 'ready', data: settled.data as T, error: null, reload };
}
