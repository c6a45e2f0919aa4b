import { render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeFetch, json, signedIn } from '@/test/fakeServer';
import { App } from './App';

const API_BASE = 'http://127.0.0.1:54321';

afterEach(() => {
  delete (window as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__;
  vi.unstubAllGlobals();
});

describe('desktop mode', () => {
  it('asks the shell for the server and signs in with the launch secret, with no sign-in form', async () => {
    const invoke = vi.fn((command: string) =>
      command === 'desktop_launch'
        ? Promise.resolve({ api_base: API_BASE, launch_secret: 'launch-secret-1' })
        : Promise.reject(new Error(`unexpected command ${command}`)),
    );
    Object.assign(window, { __TAURI_INTERNALS__: { invoke } });
    const server = fakeFetch({
      'POST /api/auth/desktop': () => json(200, signedIn(1)),
      'GET /api/tasks': () => json(200, []),
      'GET /api/tasks/events': () => new Response(new ReadableStream(), { headers: { 'Content-Type': 'text/event-stream' } }),
    });
    vi.stubGlobal('fetch', vi.fn(server.fetch));
    window.history.replaceState(null, '', '/tasks');

    render(<App />);

    expect(await screen.findByRole('heading', { level: 1, name: 'Tasks' })).toBeTruthy();
    expect(invoke).toHaveBeenCalledWith('desktop_launch', {}, undefined);
    const desktop = server.calls.find((call) => call.path === '/api/auth/desktop');
    expect(desktop?.body).toEqual({ launch_secret: 'launch-secret-1' });
    // Every call goes to the in-process server's address, not the page's origin.
    const calls = vi.mocked(globalThis.fetch).mock.calls.map(([input]) =>
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
    );
    expect(calls.every((url) => url.startsWith(`${API_BASE}/api/`))).toBe(true);
    expect(screen.queryByLabelText('Password')).toBeNull();
    // The desktop owner does not sign out of their own machine.
    expect(screen.queryByRole('button', { name: 'Sign out' })).toBeNull();
  });

  it('offers the password sign-in when the data directory already has accounts', async () => {
    const invoke = vi.fn(() => Promise.resolve({ api_base: API_BASE, launch_secret: 'launch-secret-1' }));
    Object.assign(window, { __TAURI_INTERNALS__: { invoke } });
    const server = fakeFetch({
      'POST /api/auth/desktop': () =>
        json(409, { code: 'conflict', message: 'this database already has accounts; sign in with one of them', details: {} }),
      'GET /api/setup': () => json(200, { required: false }),
    });
    vi.stubGlobal('fetch', vi.fn(server.fetch));
    render(<App />);
    expect(await screen.findByLabelText('Password')).toBeTruthy();
  });

  it('shows why it cannot start and offers to try again when the shell fails', async () => {
    Object.assign(window, { __TAURI_INTERNALS__: { invoke: () => Promise.reject(new Error('the core did not start')) } });
    render(<App />);
    expect((await screen.findByRole('alert')).textContent).toContain('the core did not start');
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
  });
});
