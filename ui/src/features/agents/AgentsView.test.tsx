import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentView, UserView } from '@/lib/api';
import { apiError, json } from '@/test/fakeServer';
import { renderWithApp } from '@/test/render';
import { AgentsView, agentPage } from './AgentsView';

const admin: UserView = {
  id: 1,
  username: 'admin',
  display_name: 'Admin',
  role: 'admin',
  disabled: false,
  has_password: true,
  created_at: '2026-11-25T09:00:00Z',
};
const viewer: UserView = { ...admin, id: 2, username: 'vera', display_name: 'Vera', role: 'viewer' };

const agent: AgentView = {
  id: 7,
  version: 2,
  spec: {
    name: 'Design helper',
    kind: 'chat',
    provider: 'fastgpt',
    base_url: 'http://127.0.0.1:3000',
    parameters: { context_budget: 8000, detail: true, read_idle_secs: 60 },
    enabled: true,
  },
  key: { state: 'stored' },
  source_file: 'team.toml',
  created_at: '2026-11-25T09:00:00Z',
  updated_at: '2026-11-25T09:00:00Z',
};

function at(path: string) {
  window.history.pushState(null, '', path);
}
afterEach(() => at('/'));

describe('Agents', () => {
  it('reads the sub-pages from the path', () => {
    expect(agentPage('/agents')).toEqual({ page: 'list' });
    expect(agentPage('/agents/new')).toEqual({ page: 'new' });
    expect(agentPage('/agents/7')).toEqual({ page: 'edit', id: 7 });
    expect(agentPage('/agents/7/history/')).toEqual({ page: 'history', id: 7 });
    expect(agentPage('/agents/x')).toEqual({ page: 'unknown' });
  });

  it('shows a viewer the list, read-only', async () => {
    at('/agents');
    const { server } = await renderWithApp(<AgentsView />, {
      user: viewer,
      routes: { 'GET /api/agents': () => json(200, [agent]) },
    });
    const table = await screen.findByTestId('agents-table');
    const row = within(table).getByRole('row', { name: /Design helper/ });
    expect(row.textContent).toContain('Stored');
    expect(row.textContent).toContain('team.toml');
    expect(screen.queryByRole('link', { name: 'New agent' })).toBeNull();
    expect(within(table).queryByRole('button')).toBeNull();
    // The folder status is for admins only (the server refuses it to others).
    expect(server.calls.some((c) => c.path === '/api/agents/folder')).toBe(false);
  });

  it('shows an admin a locked key file and opens it with the passphrase', async () => {
    at('/agents');
    let locked = true;
    const { server } = await renderWithApp(<AgentsView />, {
      user: admin,
      routes: {
        'GET /api/agents': () => json(200, [agent]),
        'GET /api/agents/folder': () => json(200, null),
        'GET /api/keystore': () =>
          json(200, { backend: 'encrypted_file', available: true, locked, reason: locked ? 'the key file is locked' : null }),
        'POST /api/keystore/unlock': () => {
          locked = false;
          return json(200, { backend: 'encrypted_file', available: true, locked: false, reason: null });
        },
      },
    });
    const panel = await screen.findByTestId('agents-keystore');
    expect(panel.textContent).toContain('Encrypted file');
    expect(panel.textContent).toContain('the key file is locked');
    await userEvent.type(within(panel).getByLabelText('Passphrase of the key file'), 'open sesame');
    await userEvent.click(within(panel).getByRole('button', { name: 'Unlock' }));
    const unlock = server.calls.find((c) => c.path === '/api/keystore/unlock');
    expect(unlock?.body).toEqual({ passphrase: 'open sesame' });
    await screen.findByText('API keys entered here are kept safely and never shown again.');
    expect(within(panel).queryByRole('button', { name: 'Unlock' })).toBeNull();
  });

  it('refuses a viewer the editor', async () => {
    at('/agents/new');
    await renderWithApp(<AgentsView />, { user: viewer });
    expect(screen.getByTestId('not-allowed')).toBeTruthy();
    expect(screen.queryByTestId('agent-form')).toBeNull();
  });

  it('puts the server’s problems next to the fields they name and the rest above the form', async () => {
    at('/agents/new');
    const { server } = await renderWithApp(<AgentsView />, {
      user: admin,
      routes: {
        'POST /api/agents': () =>
          apiError(400, 'invalid_input', 'base_url: not a URL; parameters.read_idle_secs: too short', {
            problems: [
              { field: 'base_url', message: '"nope" is not a URL' },
              { field: 'parameters.read_idle_secs', message: 'read_idle_secs is between 5 and 3600' },
              { field: 'mystery', message: 'a new rule' },
            ],
          }),
      },
    });
    const form = await screen.findByTestId('agent-form');
    await userEvent.type(within(form).getByLabelText('Name'), 'Helper');
    await userEvent.type(within(form).getByLabelText('Base URL'), 'nope');
    await userEvent.type(within(form).getByLabelText('API key'), 'fastgpt-secret');
    const idle = within(form).getByLabelText('Stall timeout (s)');
    await userEvent.clear(idle);
    await userEvent.type(idle, '1');
    await userEvent.click(within(form).getByRole('button', { name: 'Create agent' }));

    await screen.findByText('"nope" is not a URL');
    const url = within(form).getByLabelText('Base URL');
    expect(url.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(url.getAttribute('aria-describedby')?.split(' ').pop() ?? '')?.textContent).toBe(
      '"nope" is not a URL',
    );
    expect(idle.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByTestId('other-problems').textContent).toContain('mystery: a new rule');
    // The first field with a problem has the focus.
    expect(document.activeElement).toBe(url);
    const sent = server.calls.find((c) => c.method === 'POST')?.body as { spec: { parameters: { read_idle_secs: number } }; api_key: string };
    expect(sent.spec.parameters.read_idle_secs).toBe(1);
    expect(sent.api_key).toBe('fastgpt-secret');
  });

  it('never shows a stored key, names the version an edit started from, and says so when it is stale', async () => {
    at('/agents/7');
    const { server } = await renderWithApp(<AgentsView />, {
      user: admin,
      routes: {
        'GET /api/agents/7': () => json(200, agent),
        'PUT /api/agents/7': () => apiError(409, 'conflict', 'the agent changed since version 2'),
      },
    });
    const form = await screen.findByTestId('agent-form');
    expect(within(form).getByLabelText<HTMLInputElement>('API key').value).toBe('');
    expect(within(form).getByText(/Now: Stored\./)).toBeTruthy();
    await userEvent.type(within(form).getByLabelText('Description'), 'x');
    await userEvent.click(within(form).getByRole('button', { name: 'Save' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Someone changed this agent');
    const body = server.calls.find((c) => c.method === 'PUT')?.body as { expected_version: number; api_key?: string };
    expect(body.expected_version).toBe(2);
    expect(body.api_key).toBeUndefined();
  });
});
