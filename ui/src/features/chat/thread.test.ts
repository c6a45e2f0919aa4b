import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MessageView, StreamEvent, ToolCall } from '@/lib/api';
import { EMPTY_THREAD, openInteractive, parseStreamEvent, threadReducer, type ThreadState } from './thread';
import { FrameBatcher } from './useThread';

function message(overrides: Partial<MessageView> & Pick<MessageView, 'id' | 'seq' | 'role'>): MessageView {
  return {
    conversation_id: 'c1',
    text: '',
    status: 'complete',
    error: null,
    attachments: [],
    detail: {
      reasoning: '',
      steps: [],
      tools: [],
      quotes: [],
      nodes: [],
      interactive: null,
      variables: {},
      duration_secs: null,
      finish_reason: null,
    },
    interactive_reply: false,
    created_at: '2026-11-25T09:00:00Z',
    first_token_ms: null,
    total_ms: null,
    ...overrides,
  };
}

const q1 = message({ id: 'q1', seq: 1, role: 'user', text: 'first question' });
const a1 = message({ id: 'a1', seq: 2, role: 'assistant', text: 'first answer' });
const q2 = message({ id: 'q2', seq: 3, role: 'user', text: 'second question' });
const a2Streaming = message({ id: 'a2', seq: 4, role: 'assistant', status: 'streaming' });

function loaded(messages: MessageView[]): ThreadState {
  return threadReducer(EMPTY_THREAD, { type: 'loaded', messages });
}

function apply(state: ThreadState, ...events: StreamEvent[]): ThreadState {
  return threadReducer(state, { type: 'events', events });
}

function running(state: ThreadState): MessageView {
  const found = state.messages.find((m) => m.id === state.running);
  if (!found) throw new Error('no running answer');
  return found;
}

describe('applying stream events to a thread', () => {
  it('appends the question and the new answer on `started`, and drops the pending question', () => {
    let state = threadReducer(loaded([q1, a1]), { type: 'pending', question: { text: 'second question', attachments: [] } });
    expect(state.pending?.text).toBe('second question');
    state = apply(state, { type: 'started', user_message: q2, message: a2Streaming });
    expect(state.messages.map((m) => m.id)).toEqual(['q1', 'a1', 'q2', 'a2']);
    expect(state.running).toBe('a2');
    expect(state.pending).toBeNull();
  });

  it('adds answer and reasoning deltas to the running answer only; empty heartbeats change nothing', () => {
    let state = apply(loaded([q1, a1]), { type: 'started', user_message: q2, message: a2Streaming });
    const before = state;
    expect(apply(state, { type: 'answer', text: '' })).toBe(before);
    state = apply(state, { type: 'reasoning', text: '先看' }, { type: 'reasoning', text: '需求' });
    state = apply(state, { type: 'answer', text: '你好，' }, { type: 'answer', text: '设计师' });
    expect(running(state).text).toBe('你好，设计师');
    expect(running(state).detail.reasoning).toBe('先看需求');
    expect(state.messages[1]?.text).toBe('first answer');
  });

  it('keeps the other messages as the same objects, so only the running answer renders again', () => {
    const start = apply(loaded([q1, a1]), { type: 'started', user_message: q2, message: a2Streaming });
    const next = apply(start, { type: 'answer', text: 'x' });
    expect(next.messages[0]).toBe(start.messages[0]);
    expect(next.messages[1]).toBe(start.messages[1]);
    expect(next.messages[2]).toBe(start.messages[2]);
    expect(next.messages[3]).not.toBe(start.messages[3]);
  });

  it('lists workflow steps, merges tool calls by id, replaces quotes and sets the form', () => {
    const tool: ToolCall = { id: 't1', tool_name: '查询规范', avatar: null, function_name: 'search', params: '', response: null };
    let state = apply(loaded([q1]), { type: 'started', user_message: null, message: { ...a2Streaming, seq: 2 } });
    state = apply(
      state,
      { type: 'step', step: { name: '知识库搜索', status: 'running' } },
      { type: 'step', step: { name: 'AI 对话', status: 'running' } },
      { type: 'tool', tool },
      { type: 'tool', tool: { ...tool, params: '{"q":"层高"}' } },
      { type: 'tool', tool: { ...tool, params: '{"q":"层高"}', response: '3.2 米' } },
      { type: 'tool', tool: { ...tool, id: 't2', tool_name: '画图' } },
      { type: 'quotes', quotes: [{ id: 'q1', question: '标准层高', answer: '3.2 米', source_name: '设计规范.pdf', score: 0.88 }] },
      { type: 'quotes', quotes: [{ id: 'q1', question: '标准层高', answer: '3.2 米', source_name: '设计规范.pdf', score: 0.88 }, { id: 'q2', question: '', answer: '', source_name: null, score: null }] },
      { type: 'interactive', interactive: { kind: 'user_select', description: '选择风格', options: [{ key: 'a', value: '极简' }] } },
    );
    const answer = running(state);
    expect(answer.detail.steps.map((s) => s.name)).toEqual(['知识库搜索', 'AI 对话']);
    expect(answer.detail.tools).toHaveLength(2);
    expect(answer.detail.tools[0]).toEqual({ ...tool, params: '{"q":"层高"}', response: '3.2 米' });
    expect(answer.detail.quotes.map((q) => q.id)).toEqual(['q1', 'q2']);
    expect(answer.detail.interactive?.kind).toBe('user_select');
  });

  it('takes the final message on `finished` and stops running', () => {
    let state = apply(loaded([q1, a1]), { type: 'started', user_message: q2, message: a2Streaming });
    state = apply(state, { type: 'answer', text: '字0 ' });
    const stopped = { ...a2Streaming, status: 'stopped' as const, text: '字0 ', total_ms: 1200 };
    state = apply(state, { type: 'finished', message: stopped });
    expect(state.running).toBeNull();
    expect(state.messages.at(-1)).toEqual(stopped);
  });

  it('regenerate: the answer restarts in place and the messages after it go', () => {
    const a2 = message({ id: 'a2', seq: 4, role: 'assistant', text: 'second answer' });
    let state = loaded([q1, a1, q2, a2]);
    // Regenerating the first answer: same id, empty text, streaming.
    state = apply(state, { type: 'started', user_message: null, message: { ...a1, text: '', status: 'streaming' } });
    expect(state.messages.map((m) => m.id)).toEqual(['q1', 'a1']);
    expect(running(state).text).toBe('');
    state = apply(state, { type: 'answer', text: 'again' });
    expect(running(state).text).toBe('again');
  });

  it('edit: the question is rewritten, the old answer goes and the new one takes its place', () => {
    const a2 = message({ id: 'a2', seq: 4, role: 'assistant', text: 'old' });
    const edited = { ...q2, text: 'second question, edited' };
    const fresh = message({ id: 'a3', seq: 4, role: 'assistant', status: 'streaming' });
    const state = apply(loaded([q1, a1, q2, a2]), { type: 'started', user_message: edited, message: fresh });
    expect(state.messages.map((m) => m.id)).toEqual(['q1', 'a1', 'q2', 'a3']);
    expect(state.messages[2]?.text).toBe('second question, edited');
    expect(state.running).toBe('a3');
  });

  it('a snapshot `started` (reattached or lagging) replaces the answer as it stands', () => {
    let state = apply(loaded([q1, a1, q2]), { type: 'started', user_message: null, message: { ...a2Streaming, text: '字0 ' } });
    state = apply(state, { type: 'answer', text: '字1 ' });
    state = apply(state, { type: 'started', user_message: null, message: { ...a2Streaming, text: '字0 字1 字2 ' } });
    expect(running(state).text).toBe('字0 字1 字2 ');
    expect(state.messages).toHaveLength(4);
  });

  it('a placeholder answer (seq 0) never cuts the thread', () => {
    const state = apply(loaded([q1, a1]), { type: 'started', user_message: null, message: { ...a2Streaming, id: 'x', seq: 0 } });
    expect(state.messages.map((m) => m.id)).toEqual(['x', 'q1', 'a1']);
  });

  it('a load that finds a streaming answer follows it; a broken stream detaches', () => {
    const state = loaded([q1, a1, q2, a2Streaming]);
    expect(state.running).toBe('a2');
    expect(threadReducer(state, { type: 'detached' }).running).toBeNull();
  });

  it('offers the workflow form only on the last, finished answer', () => {
    const form = { kind: 'user_select' as const, description: '', options: [{ key: 'a', value: '极简' }] };
    const withForm = message({ id: 'a2', seq: 4, role: 'assistant', detail: { ...a1.detail, interactive: form } });
    expect(openInteractive(loaded([q1, a1, q2, withForm]))?.id).toBe('a2');
    expect(openInteractive(loaded([q1, a1, q2, { ...withForm, status: 'streaming' }]))).toBeNull();
    expect(openInteractive(loaded([q1, withForm, q2]))).toBeNull();
  });
});

describe('reading stream events', () => {
  it('reads known events whose name matches their type, and ignores the rest', () => {
    expect(parseStreamEvent('answer', '{"type":"answer","text":"hi"}')).toEqual({ type: 'answer', text: 'hi' });
    expect(parseStreamEvent('answer', '{"type":"reasoning","text":"hi"}')).toBeNull();
    expect(parseStreamEvent('somethingNewer', '{"type":"somethingNewer"}')).toBeNull();
    expect(parseStreamEvent('answer', 'not json')).toBeNull();
  });
});

describe('batching deltas per frame', () => {
  afterEach(() => vi.useRealTimers());

  it('hands over everything pushed before a frame in one call', () => {
    const frames: FrameRequestCallback[] = [];
    vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => frames.push(callback));
    vi.stubGlobal('cancelAnimationFrame', () => undefined);
    const flushed: number[][] = [];
    const batcher = new FrameBatcher<number>((items) => flushed.push(items));
    for (let i = 0; i < 50; i++) batcher.push(i);
    expect(frames).toHaveLength(1);
    expect(flushed).toEqual([]);
    frames[0]?.(0);
    expect(flushed).toHaveLength(1);
    expect(flushed[0]).toHaveLength(50);
    vi.unstubAllGlobals();
  });

  it('flushes on a timer where frames do not come (a hidden tab), and drops what is cancelled', () => {
    vi.useFakeTimers();
    vi.stubGlobal('requestAnimationFrame', () => 1);
    vi.stubGlobal('cancelAnimationFrame', () => undefined);
    const flushed: string[][] = [];
    const batcher = new FrameBatcher<string>((items) => flushed.push(items), 200);
    batcher.push('a');
    batcher.push('b');
    vi.advanceTimersByTime(200);
    expect(flushed).toEqual([['a', 'b']]);
    batcher.push('c');
    batcher.cancel();
    vi.advanceTimersByTime(500);
    expect(flushed).toEqual([['a', 'b']]);
    vi.unstubAllGlobals();
  });
});
