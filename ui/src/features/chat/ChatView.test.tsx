import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentView, ConversationDetail, ConversationView, MessageView, UserView } from '@/lib/api';
import { apiError, json, sseResponse } from '@/test/fakeServer';
import { renderWithApp } from '@/test/render';
import { ChatView } from './ChatView';

const designer: UserView = {
  id: 1,
  username: 'dora',
  display_name: 'Dora',
  role: 'designer',
  disabled: false,
  has_password: true,
  created_at: '2026-11-25T09:00:00Z',
};

const agent: AgentView = {
  id: 7,
  version: 1,
  spec: {
    name: 'Design helper',
    kind: 'chat',
    provider: 'fastgpt',
    base_url: 'http://127.0.0.1:3000',
    parameters: { context_budget: 8000, detail: true, read_idle_secs: 60 },
    enabled: true,
  },
  key: { state: 'stored' },
  source_file: null,
  created_at: '2026-11-25T09:00:00Z',
  updated_at: '2026-11-25T09:00:00Z',
};

const conversation: ConversationView = {
  id: 'c1',
  agent_id: 7,
  agent_name: 'Design helper',
  title: '',
  pinned: false,
  message_count: 0,
  preview: '',
  source: 'app',
  created_at: '2026-11-25T09:00:00Z',
  updated_at: '2026-11-25T09:00:00Z',
};

function message(overrides: Partial<MessageView> & Pick<MessageView, 'id' | 'seq' | 'role'>): MessageView {
  return {
    conversation_id: 'c1',
    text: '',
    status: 'complete',
    error: null,
    attachments: [],
    detail: { reasoning: '', steps: [], tools: [], quotes: [], nodes: [], interactive: null, variables: {}, duration_secs: null, finish_reason: null },
    interactive_reply: false,
    created_at: '2026-11-25T09:00:00Z',
    first_token_ms: null,
    total_ms: null,
    ...overrides,
  };
}

const question = message({ id: 'q1', seq: 1, role: 'user', text: '层高多少？' });
const streaming = message({ id: 'a1', seq: 2, role: 'assistant', status: 'streaming' });

function detail(messages: MessageView[]): ConversationDetail {
  return { conversation, messages };
}

beforeEach(() => window.history.pushState(null, '', '/chat/c1'));
afterEach(() => window.history.pushState(null, '', '/'));

describe('Chat', () => {
  it('sends with Enter and shows the streamed answer with its tool call, quotes and reasoning', async () => {
    const finished = message({
      ...streaming,
      status: 'complete',
      text: '标准层高 **3.2 米**',
      detail: {
        ...streaming.detail,
        reasoning: '先看需求',
        tools: [{ id: 't1', tool_name: '查询规范', avatar: null, function_name: 'search', params: '{"q":"层高"}', response: '3.2 米' }],
        quotes: [{ id: 'q', question: '标准层高', answer: '3.2 米', source_name: '设计规范.pdf', score: 0.88 }],
      },
    });
    const { server } = await renderWithApp(<ChatView />, {
      user: designer,
      routes: {
        'GET /api/agents': () => json(200, [agent]),
        'GET /api/conversations': () => json(200, { items: [conversation], next: null }),
        'GET /api/conversations/c1': () => json(200, detail([])),
        'POST /api/conversations/c1/messages': () =>
          sseResponse([
            { type: 'started', user_message: question, message: streaming },
            { type: 'step', step: { name: 'AI 对话', status: 'running' } },
            { type: 'reasoning', text: '先看需求' },
            { type: 'answer', text: '标准层高 ' },
            { type: 'answer', text: '**3.2 米**' },
            { type: 'title', title: '层高问题' },
            { type: 'finished', message: finished },
          ]),
      },
    });
    const box = await screen.findByLabelText('Message');
    await userEvent.type(box, '层高多少？{Enter}');
    const thread = await screen.findByTestId('thread');
    await within(thread).findByText('3.2 米', { selector: 'strong' });
    expect(within(thread).getByText('层高多少？')).toBeTruthy();
    expect(within(thread).getByTestId('tool-card').textContent).toContain('查询规范');
    expect(within(thread).getByTestId('quotes').textContent).toContain('设计规范.pdf');
    expect(within(thread).getByTestId('reasoning').textContent).toContain('先看需求');
    expect(await screen.findByRole('heading', { level: 1, name: '层高问题' })).toBeTruthy();
    expect((box as HTMLTextAreaElement).value).toBe('');
    expect(server.calls.find((c) => c.method === 'POST')?.body).toEqual({ text: '层高多少？', attachments: [] });
  });

  it('Shift+Enter starts a new line instead of sending', async () => {
    const { server } = await renderWithApp(<ChatView />, {
      user: designer,
      routes: {
        'GET /api/agents': () => json(200, [agent]),
        'GET /api/conversations': () => json(200, { items: [conversation], next: null }),
        'GET /api/conversations/c1': () => json(200, detail([])),
      },
    });
    const box = await screen.findByLabelText('Message');
    await userEvent.type(box, 'line one{Shift>}{Enter}{/Shift}line two');
    expect((box as HTMLTextAreaElement).value).toBe('line one\nline two');
    expect(server.calls.some((c) => c.method === 'POST')).toBe(false);
  });

  it('gives the text back and says why when the server refuses the message', async () => {
    await renderWithApp(<ChatView />, {
      user: designer,
      routes: {
        'GET /api/agents': () => json(200, [agent]),
        'GET /api/conversations': () => json(200, { items: [conversation], next: null }),
        'GET /api/conversations/c1': () => json(200, detail([])),
        'POST /api/conversations/c1/messages': () =>
          apiError(409, 'conflict', 'an answer is still streaming in this conversation; stop it first'),
      },
    });
    const box = await screen.findByLabelText('Message');
    await userEvent.type(box, 'again{Enter}');
    expect((await screen.findByRole('alert')).textContent).toContain('an answer is still streaming');
    expect((box as HTMLTextAreaElement).value).toBe('again');
  });

  it('shows an interrupted answer with its error and a retry that regenerates it in place', async () => {
    const interrupted = message({
      id: 'a1',
      seq: 2,
      role: 'assistant',
      status: 'interrupted',
      text: '你好，',
      error: { code: 'upstream_cut', message: 'the model’s stream broke off', retryable: true },
    });
    const { server } = await renderWithApp(<ChatView />, {
      user: designer,
      routes: {
        'GET /api/agents': () => json(200, [agent]),
        'GET /api/conversations': () => json(200, { items: [conversation], next: null }),
        'GET /api/conversations/c1': () => json(200, detail([question, interrupted])),
        'POST /api/conversations/c1/messages/a1/regenerate': () =>
          sseResponse([
            { type: 'started', user_message: null, message: streaming },
            { type: 'answer', text: '你好，设计师' },
            { type: 'finished', message: { ...streaming, status: 'complete', text: '你好，设计师' } },
          ]),
      },
    });
    const thread = await screen.findByTestId('thread');
    const answer = await within(thread).findByText('the model’s stream broke off');
    expect(answer).toBeTruthy();
    expect(within(thread).getByTestId('message-status').textContent).toBe('Interrupted');
    await userEvent.click(within(thread).getByRole('button', { name: 'Retry' }));
    await within(thread).findByText('你好，设计师');
    expect(thread.querySelectorAll('li[data-role="assistant"]')).toHaveLength(1);
    expect(server.calls.some((c) => c.path === '/api/conversations/c1/messages/a1/regenerate')).toBe(true);
  });

  it('answers the workflow’s choice with the option’s value, marked as an interactive reply', async () => {
    const asking = message({
      id: 'a1',
      seq: 2,
      role: 'assistant',
      text: '请选择',
      detail: { ...streaming.detail, interactive: { kind: 'user_select', description: '选择风格', options: [{ key: 'a', value: '极简' }, { key: 'b', value: '复古' }] } },
    });
    const { server } = await renderWithApp(<ChatView />, {
      user: designer,
      routes: {
        'GET /api/agents': () => json(200, [agent]),
        'GET /api/conversations': () => json(200, { items: [conversation], next: null }),
        'GET /api/conversations/c1': () => json(200, detail([question, asking])),
        'POST /api/conversations/c1/messages': () => sseResponse([]),
      },
    });
    const form = await screen.findByTestId('interactive');
    expect(within(form).getByRole('heading').textContent).toBe('选择风格');
    await userEvent.click(within(form).getByRole('button', { name: '复古' }));
    expect(server.calls.find((c) => c.method === 'POST')?.body).toEqual({ text: '复古', interactive_reply: true });
  });

  it('is read-only for a viewer', async () => {
    await renderWithApp(<ChatView />, {
      user: { ...designer, role: 'viewer' },
      routes: {
        'GET /api/agents': () => json(200, [agent]),
        'GET /api/conversations': () => json(200, { items: [conversation], next: null }),
        'GET /api/conversations/c1': () => json(200, detail([question, message({ id: 'a1', seq: 2, role: 'assistant', text: 'ok' })])),
      },
    });
    await screen.findByTestId('thread');
    expect(screen.queryByLabelText('Message')).toBeNull();
    expect(screen.queryByRole('button', { name: 'New conversation' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Regenerate' })).toBeNull();
    expect(screen.getAllByText('Viewers can read conversations; chatting needs the designer role.').length).toBeGreaterThan(0);
  });
});
