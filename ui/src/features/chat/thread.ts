import type { Attachment, MessageView, StreamEvent } from '@/lib/api';

/** A question shown at once, before the server's `started` event confirms it. */
export interface PendingQuestion {
  text: string;
  attachments: Attachment[];
}

/** One conversation's messages as this client shows them. */
export interface ThreadState {
  /** In conversation order (`seq`). */
  messages: readonly MessageView[];
  /** The answer streaming into this client, if any. */
  running: string | null;
  pending: PendingQuestion | null;
}

export const EMPTY_THREAD: ThreadState = { messages: [], running: null, pending: null };

export type ThreadAction =
  | { type: 'loaded'; messages: readonly MessageView[] }
  | { type: 'pending'; question: PendingQuestion | null }
  | { type: 'events'; events: readonly StreamEvent[] }
  /** The stream ended without `finished` (the connection broke): nothing streams here any more. */
  | { type: 'detached' };

export function threadReducer(state: ThreadState, action: ThreadAction): ThreadState {
  switch (action.type) {
    case 'loaded': {
      const streaming = action.messages.find((m) => m.status === 'streaming');
      return { ...state, messages: action.messages, running: streaming?.id ?? null };
    }
    case 'pending':
      return { ...state, pending: action.question };
    case 'events':
      return action.events.reduce(applyEvent, state);
    case 'detached':
      return state.running === null ? state : { ...state, running: null };
  }
}

/** Puts `message` in place of the one with its id, or inserts it in `seq` order. */
function upsert(messages: readonly MessageView[], message: MessageView): MessageView[] {
  const index = messages.findIndex((m) => m.id === message.id);
  if (index !== -1) {
    const next = [...messages];
    next[index] = message;
    return next;
  }
  const at = messages.findIndex((m) => m.seq > message.seq);
  return at === -1 ? [...messages, message] : [...messages.slice(0, at), message, ...messages.slice(at)];
}

/** Changes the running answer with `change`; a new object for it only, the others stay as they are. */
function updateRunning(state: ThreadState, change: (message: MessageView) => MessageView): ThreadState {
  if (state.running === null) return state;
  const index = state.messages.findIndex((m) => m.id === state.running);
  const current = state.messages[index];
  if (!current) return state;
  const messages = [...state.messages];
  messages[index] = change(current);
  return { ...state, messages };
}

/**
 * Applies one event of an answer's stream. `started` brings the question and the answer as they
 * stand (also the snapshot of a reattached or lagging stream): messages after the answer are gone
 * (regenerate and edit rewrite the conversation from there). Deltas change only the running answer.
 */
export function applyEvent(state: ThreadState, event: StreamEvent): ThreadState {
  switch (event.type) {
    case 'started': {
      const answer = event.message;
      let messages: MessageView[] = [...state.messages];
      if (event.user_message) messages = upsert(messages, event.user_message);
      // seq 0 is a placeholder that was never stored: nothing to cut by it.
      if (answer.seq > 0) messages = messages.filter((m) => m.seq < answer.seq || m.id === answer.id);
      messages = upsert(messages, answer);
      return {
        ...state,
        messages,
        running: answer.status === 'streaming' ? answer.id : null,
        pending: null,
      };
    }
    case 'answer':
      if (event.text === '') return state;
      return updateRunning(state, (m) => ({ ...m, text: m.text + event.text }));
    case 'reasoning':
      if (event.text === '') return state;
      return updateRunning(state, (m) => ({ ...m, detail: { ...m.detail, reasoning: m.detail.reasoning + event.text } }));
    case 'step':
      return updateRunning(state, (m) => ({ ...m, detail: { ...m.detail, steps: [...m.detail.steps, event.step] } }));
    case 'tool':
      return updateRunning(state, (m) => {
        const tools = [...m.detail.tools];
        const index = tools.findIndex((t) => t.id === event.tool.id);
        if (index === -1) tools.push(event.tool);
        else tools[index] = event.tool;
        return { ...m, detail: { ...m.detail, tools } };
      });
    case 'quotes':
      // The event carries every quote so far.
      return updateRunning(state, (m) => ({ ...m, detail: { ...m.detail, quotes: event.quotes } }));
    case 'interactive':
      return updateRunning(state, (m) => ({ ...m, detail: { ...m.detail, interactive: event.interactive } }));
    case 'title':
      // The conversation's, not the thread's: the view takes it from the event.
      return state;
    case 'finished': {
      const messages = upsert(state.messages, event.message);
      return { ...state, messages, running: state.running === event.message.id ? null : state.running };
    }
  }
}

/** Reads one event of the chat stream (SSE event name = JSON `type`); unknown events give null. */
export function parseStreamEvent(name: string, data: string): StreamEvent | null {
  const known = ['started', 'answer', 'reasoning', 'step', 'tool', 'quotes', 'interactive', 'title', 'finished'];
  if (!known.includes(name)) return null;
  try {
    const event = JSON.parse(data) as StreamEvent;
    return event.type === name ? event : null;
  } catch {
    return null;
  }
}

/** The answer whose interactive form is waiting for the user: the last message, finished, with a form. */
export function openInteractive(state: ThreadState): MessageView | null {
  const last = state.messages.at(-1);
  if (!last || last.role !== 'assistant' || last.status === 'streaming' || !last.detail.interactive) return null;
  return last;
}
