import { useCallback, useEffect, useEffectEvent, useReducer, useRef, useState } from 'react';
import { ApiError, type ApiClient, type ConversationView, type StreamEvent } from '@/lib/api';
import { getConversation, stopAnswer, streamAnswer, type AnswerRequest } from './api';
import { EMPTY_THREAD, threadReducer, type PendingQuestion, type ThreadState } from './thread';

/**
 * Collects stream events and hands them over once per animation frame, so a fast stream re-renders
 * the running answer at most once a frame, not once per chunk. A timer stands in for the frame
 * where frames do not come (a hidden tab).
 */
export class FrameBatcher<T> {
  private queue: T[] = [];
  private frame: number | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly flushTo: (items: T[]) => void,
    private readonly fallbackMs = 200,
  ) {}

  push(item: T): void {
    this.queue.push(item);
    if (this.frame !== null || this.timer !== null) return;
    if (typeof requestAnimationFrame === 'function') this.frame = requestAnimationFrame(() => this.flush());
    this.timer = setTimeout(() => this.flush(), this.fallbackMs);
  }

  flush(): void {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    if (this.timer !== null) clearTimeout(this.timer);
    this.frame = null;
    this.timer = null;
    if (this.queue.length === 0) return;
    const items = this.queue;
    this.queue = [];
    this.flushTo(items);
  }

  /** Drops what is queued (the view went away). */
  cancel(): void {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    if (this.timer !== null) clearTimeout(this.timer);
    this.frame = null;
    this.timer = null;
    this.queue = [];
  }
}

export interface Thread {
  state: ThreadState;
  conversation: ConversationView | null;
  /** Takes the conversation as the server now has it (after a rename or pin). */
  setConversation: (conversation: ConversationView) => void;
  loading: boolean;
  /** Why the conversation could not be read. */
  loadError: unknown;
  /** Why the last send / regenerate / edit was refused. */
  actionError: unknown;
  /** A request is on its way or an answer is streaming in this view. */
  busy: boolean;
  run: (request: AnswerRequest, pending?: PendingQuestion) => Promise<boolean>;
  stop: () => Promise<void>;
  reload: () => void;
  clearActionError: () => void;
}

/**
 * One conversation: its messages, and the answers streaming into it. A running answer found on
 * opening (sent from elsewhere, or before a reload) is followed through `/events`. Leaving the view
 * closes the stream; the answer goes on on the server and is stored. The view is keyed by the
 * conversation: another conversation is another instance of this hook.
 */
export function useThread(
  api: ApiClient,
  conversationId: string,
  onChanged: (event: 'finished' | 'title', conversationId: string) => void,
): Thread {
  const [state, dispatch] = useReducer(threadReducer, EMPTY_THREAD);
  const [conversation, setConversation] = useState<ConversationView | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [requesting, setRequesting] = useState(false);
  const [generation, setGeneration] = useState(0);
  // The view's lifetime (one load): aborting it closes every stream of this view.
  const controller = useRef<AbortController | null>(null);
  const batcher = useRef<FrameBatcher<StreamEvent> | null>(null);
  const notify = useEffectEvent((event: 'finished' | 'title') => onChanged(event, conversationId));

  /**
   * Follows one answer stream to its end. Returns whether it ended with `finished`. The stream is
   * closed on `finished` rather than waiting for the server to end the response.
   */
  const follow = useCallback(
    async (request: AnswerRequest, signal: AbortSignal): Promise<boolean> => {
      // An object: TypeScript does not see the callback below change a plain local.
      const outcome = { finished: false };
      const events = batcher.current;
      const own = new AbortController();
      const stopOwn = () => own.abort();
      signal.addEventListener('abort', stopOwn);
      try {
        await streamAnswer(
          api,
          conversationId,
          request,
          (event) => {
            events?.push(event);
            // `started` and `finished` change the thread's shape: show them at once; deltas wait for the frame.
            if (event.type === 'started' || event.type === 'finished') events?.flush();
            if (event.type === 'finished') {
              outcome.finished = true;
              own.abort();
            }
          },
          own.signal,
        );
      } catch (error) {
        if (!outcome.finished) throw error;
      } finally {
        signal.removeEventListener('abort', stopOwn);
      }
      events?.flush();
      return outcome.finished;
    },
    [api, conversationId],
  );

  /** After a broken stream: the answer may still run on the server; follow it again, else re-read. */
  const recover = useCallback(
    async (signal: AbortSignal) => {
      const aborted = () => signal.aborted;
      try {
        if (await follow({ kind: 'attach' }, signal)) return;
      } catch {
        // Fall through to reading the stored conversation.
      }
      if (aborted()) return;
      dispatch({ type: 'detached' });
      const detail = await getConversation(api, conversationId, signal);
      if (aborted()) return;
      dispatch({ type: 'loaded', messages: detail.messages });
      setConversation(detail.conversation);
    },
    [api, conversationId, follow],
  );

  // Load the conversation (and again on reload); follow an answer that is already running.
  useEffect(() => {
    const abort = new AbortController();
    controller.current = abort;
    const events = new FrameBatcher<StreamEvent>((list) => {
      dispatch({ type: 'events', events: list });
      for (const event of list) {
        if (event.type === 'title') setConversation((c) => (c ? { ...c, title: event.title } : c));
        if (event.type === 'finished' || event.type === 'title') notify(event.type);
      }
    });
    batcher.current = events;
    getConversation(api, conversationId, abort.signal).then(
      (detail) => {
        if (abort.signal.aborted) return;
        dispatch({ type: 'loaded', messages: detail.messages });
        setConversation(detail.conversation);
        setLoadError(null);
        setLoading(false);
        if (detail.messages.some((m) => m.status === 'streaming')) {
          void recover(abort.signal).catch(() => undefined);
        }
      },
      (error: unknown) => {
        if (abort.signal.aborted) return;
        setLoadError(error);
        setLoading(false);
      },
    );
    return () => {
      abort.abort();
      events.cancel();
    };
  }, [api, conversationId, generation, recover]);

  const run = useCallback(
    async (request: AnswerRequest, pending?: PendingQuestion): Promise<boolean> => {
      const signal = controller.current?.signal;
      if (!signal || signal.aborted) return false;
      const aborted = () => signal.aborted;
      setActionError(null);
      setRequesting(true);
      if (pending) dispatch({ type: 'pending', question: pending });
      try {
        const finished = await follow(request, signal);
        if (!finished && !aborted()) await recover(signal);
        return true;
      } catch (error) {
        if (aborted()) return false;
        dispatch({ type: 'pending', question: null });
        // Refused before any answer started (409 busy, 400 invalid…): say so, change nothing.
        if (error instanceof ApiError && error.status > 0) {
          setActionError(error);
          return false;
        }
        // The connection broke mid-answer: the server goes on; follow it again.
        await recover(signal).catch((caught: unknown) => setActionError(caught));
        return true;
      } finally {
        if (!aborted()) setRequesting(false);
      }
    },
    [follow, recover],
  );

  const stop = useCallback(async () => {
    try {
      await stopAnswer(api, conversationId);
    } catch (error) {
      setActionError(error);
    }
  }, [api, conversationId]);

  const reload = useCallback(() => {
    setLoading(true);
    setLoadError(null);
    setGeneration((n) => n + 1);
  }, []);
  const clearActionError = useCallback(() => setActionError(null), []);

  return {
    state,
    conversation,
    setConversation,
    loading,
    loadError,
    actionError,
    busy: requesting || state.running !== null,
    run,
    stop,
    reload,
    clearActionError,
  };
}
