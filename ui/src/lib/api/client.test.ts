import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiError, deferred, fakeFetch, json, memoryStorage, signedIn, type Call } from '@/test/fakeServer';
import { ApiClient, fileNameOf, type SessionChange } from './client';
import { ApiError } from './errors';
import type { SseEvent } from './sse';

const BASE = 'http://127.0.0.1:9999';

/**
 * A server with rotating refresh tokens: only the newest refresh token works (an old one revokes
 * the session), and only the access token in `valid` is accepted. `expireAccess()` makes the
 * current access token stale, as time would.
 */
function rotatingServer(options: { holdRefresh?: Promise<undefined> } = {}) {
  let generation = 1;
  let valid: string | null = 'access-1';
  let refreshes = 0;
  const server = fakeFetch({
    'POST /api/auth/login': () => json(200, signedIn(generation)),
    'POST /api/auth/refresh': async (call: Call) => {
      refreshes += 1;
      await options.holdRefresh;
      const { refresh_token } = call.body as { refresh_token: string };
      if (refresh_token !== `refresh-${generation}`) {
        return apiError(401, 'unauthenticated', 'this refresh token was already used; the session is revoked');
      }
      generation += 1;
      valid = `access-${generation}`;
      return json(200, signedIn(generation));
    },
    'GET /api/thing': (call) =>
      call.authorization === `Bearer ${valid ?? ''}`
        ? json(200, { ok: true })
        : apiError(401, 'unauthenticated', 'the access token has expired'),
  });
  return {
    ...server,
    refreshes: () => refreshes,
    expireAccess: () => {
      valid = null;
    },
  };
}

async function signedInClient(server: ReturnType<typeof fakeFetch>, storage = memoryStorage()) {
  const client = new ApiClient({ baseUrl: BASE, fetch: server.fetch, storage });
  await client.signIn('ada', 'pw');
  return client;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('silent refresh', () => {
  it('shares one refresh among concurrent requests that meet an expired token (single-flight)', async () => {
    const hold = deferred<undefined>();
    const server = rotatingServer({ holdRefresh: hold.promise });
    const client = await signedInClient(server);
    server.expireAccess();

    const requests = [1, 2, 3, 4, 5].map(() => client.get<{ ok: boolean }>('/api/thing'));
    // Every request meets its 401 while the one refresh is held.
    await vi.waitFor(() => {
      expect(server.calls.filter((c) => c.path === '/api/thing')).toHaveLength(5);
    });
    hold.resolve(undefined);
    const results = await Promise.all(requests);

    expect(results.every((r) => r.ok)).toBe(true);
    // Two refreshes with the same token would have revoked the session (the second gets 401).
    expect(server.refreshes()).toBe(1);
    const retried = server.calls.filter((c) => c.path === '/api/thing' && c.authorization === 'Bearer access-2');
    expect(retried).toHaveLength(5);
    expect(client.getSession()?.refreshToken).toBe('refresh-2');
  });

  it('does not refresh again for a request whose 401 comes after another refresh finished', async () => {
    const slow = deferred<Response>();
    let first = true;
    let refreshes = 0;
    const server = fakeFetch({
      'POST /api/auth/login': () => json(200, signedIn(1)),
      'POST /api/auth/refresh': () => {
        refreshes += 1;
        return json(200, signedIn(2));
      },
      'GET /api/slow': (call) => {
        if (call.authorization === 'Bearer access-2') return json(200, { ok: true });
        if (first) {
          first = false;
          return slow.promise;
        }
        return apiError(401, 'unauthenticated', 'expired');
      },
      'GET /api/fast': (call) =>
        call.authorization === 'Bearer access-2' ? json(200, { ok: true }) : apiError(401, 'unauthenticated', 'expired'),
    });
    const client = await signedInClient(server);
    const slowRequest = client.get('/api/slow');
    await client.get('/api/fast'); // refreshes: access-2
    expect(refreshes).toBe(1);
    slow.resolve(apiError(401, 'unauthenticated', 'expired')); // sent with access-1
    await expect(slowRequest).resolves.toEqual({ ok: true });
    expect(refreshes).toBe(1);
  });

  it('signs out ("expired") when the refresh is refused, and rejects the request with 401', async () => {
    const server = fakeFetch({
      'POST /api/auth/login': () => json(200, signedIn(1)),
      'POST /api/auth/refresh': () => apiError(401, 'unauthenticated', 'the session was revoked'),
      'GET /api/thing': () => apiError(401, 'unauthenticated', 'expired'),
    });
    const storage = memoryStorage();
    const client = await signedInClient(server, storage);
    const changes: SessionChange[] = [];
    client.subscribe((_session, change) => changes.push(change));

    const failure = await client.get('/api/thing').catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(401);
    expect(client.getSession()).toBeNull();
    expect(changes).toEqual(['expired']);
    expect(storage.data.size).toBe(0);
  });

  it('does not refresh on a 401 that is not about the token (wrong password at sign-in)', async () => {
    const server = fakeFetch({
      'POST /api/auth/login': () => apiError(401, 'unauthenticated', 'wrong user name or password'),
    });
    const client = new ApiClient({ baseUrl: BASE, fetch: server.fetch });
    await expect(client.signIn('ada', 'nope')).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(server.calls.map((c) => c.path)).toEqual(['/api/auth/login']);
  });

  it('refreshes shortly before the access token expires', async () => {
    vi.useFakeTimers();
    const server = rotatingServer();
    const client = await signedInClient(server);
    client.start();
    // 900 s lifetime: refreshed 60 s early, not before.
    await vi.advanceTimersByTimeAsync(839_000);
    expect(server.refreshes()).toBe(0);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(server.refreshes()).toBe(1);
    expect(client.getSession()?.accessToken).toBe('access-2');
    client.stop();
  });
});

describe('token storage', () => {
  it('keeps tokens in the given (session) storage, never in localStorage, and restores them for the same server', async () => {
    const server = rotatingServer();
    const storage = memoryStorage();
    await signedInClient(server, storage);
    expect(storage.data.size).toBe(1);
    expect(localStorage.length).toBe(0);

    const again = new ApiClient({ baseUrl: BASE, fetch: server.fetch, storage });
    expect(again.getSession()?.accessToken).toBe('access-1');
    const elsewhere = new ApiClient({ baseUrl: 'http://127.0.0.1:1', fetch: server.fetch, storage });
    expect(elsewhere.getSession()).toBeNull();
  });

  it('ignores a corrupt stored session', () => {
    const storage = memoryStorage();
    storage.setItem('zk-agent.session.v1', '{"baseUrl":"http://127.0.0.1:9999","accessToken":5}');
    expect(new ApiClient({ baseUrl: BASE, storage }).getSession()).toBeNull();
    storage.setItem('zk-agent.session.v1', 'not json');
    expect(new ApiClient({ baseUrl: BASE, storage }).getSession()).toBeNull();
  });
});

describe('error mapping', () => {
  const client = (routes: Parameters<typeof fakeFetch>[0]) =>
    new ApiClient({ baseUrl: BASE, fetch: fakeFetch(routes).fetch });

  it('maps the {code, message, details} shape, including details.field', async () => {
    const api = client({
      'POST /api/setup': () => apiError(400, 'invalid_input', 'a user name has 1 to 64 characters', { field: 'username' }),
    });
    const error = await api.post('/api/setup', {}, { auth: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_input', field: 'username' });
    expect((error as ApiError).message).toBe('a user name has 1 to 64 characters');
  });

  it('reads Retry-After and details.retry_after_secs on 429', async () => {
    const fromDetails = await client({
      'POST /api/auth/login': () => apiError(429, 'rate_limited', 'too many attempts', { retry_after_secs: 42 }, { 'Retry-After': '42' }),
    })
      .signIn('a', 'b')
      .catch((e: unknown) => e);
    expect(fromDetails).toMatchObject({ status: 429, code: 'rate_limited', retryAfterSecs: 42 });

    const fromHeader = await client({
      'POST /api/auth/login': () => apiError(429, 'rate_limited', 'slow down', {}, { 'Retry-After': '7' }),
    })
      .signIn('a', 'b')
      .catch((e: unknown) => e);
    expect(fromHeader).toMatchObject({ retryAfterSecs: 7 });
  });

  it('maps a body that is not the error shape to bad_response with the status', async () => {
    const error = await client({
      'GET /api/health': () => new Response('<html>Bad Gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    })
      .get('/api/health', { auth: false })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: 'bad_response' });
    expect((error as ApiError).message).toContain('502');
  });

  it('maps a failed fetch to network_error with status 0', async () => {
    const api = new ApiClient({
      baseUrl: BASE,
      fetch: () => Promise.reject(new TypeError('Failed to fetch')),
    });
    const error = await api.get('/api/health', { auth: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, code: 'network_error', isNetwork: true });
  });

  it('returns the body of a status listed in okStatuses (503 health report)', async () => {
    const report = { status: 'down' };
    const api = client({ 'GET /api/health': () => json(503, report) });
    await expect(api.get('/api/health', { auth: false, okStatuses: [503] })).resolves.toEqual(report);
  });

  it('refuses a call that needs a token when nobody is signed in, without sending it', async () => {
    const server = fakeFetch({});
    const api = new ApiClient({ baseUrl: BASE, fetch: server.fetch });
    await expect(api.get('/api/users')).rejects.toMatchObject({ status: 401 });
    expect(server.calls).toHaveLength(0);
  });
});

function sseBody(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

describe('event streams', () => {
  it('sends the bearer token, refreshes on 401 and parses events across chunk boundaries', async () => {
    const server = fakeFetch({
      'POST /api/auth/login': () => json(200, signedIn(1)),
      'POST /api/auth/refresh': () => json(200, signedIn(2)),
      'GET /api/tasks/events': (call) =>
        call.authorization === 'Bearer access-2'
          ? new Response(sseBody(['event: ready\ndata: {}\n\n: keep-alive\n\nevent: ta', 'sk\ndata: {"id":1}\r', '\n\r\n']), {
              headers: { 'Content-Type': 'text/event-stream' },
            })
          : apiError(401, 'unauthenticated', 'expired'),
    });
    const client = await signedInClient(server);
    const events: SseEvent[] = [];
    await client.stream('/api/tasks/events', { onEvent: (event) => events.push(event) });
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['ready', '{}'],
      ['task', '{"id":1}'],
    ]);
    expect(server.calls.filter((c) => c.path === '/api/auth/refresh')).toHaveLength(1);
  });
});

describe('streams answered to a POST, raw uploads and downloads', () => {
  it('posts a JSON body to an event stream, and treats 204 as an empty stream', async () => {
    const server = fakeFetch({
      'POST /api/auth/login': () => json(200, signedIn(1)),
      'POST /api/conversations/c1/messages': () =>
        new Response('event: answer\ndata: {"type":"answer","text":"hi"}\n\n', { headers: { 'Content-Type': 'text/event-stream' } }),
      'GET /api/conversations/c1/events': () => new Response(null, { status: 204 }),
    });
    const client = await signedInClient(server);
    const events: SseEvent[] = [];
    await client.stream('/api/conversations/c1/messages', { method: 'POST', body: { text: 'hi' }, onEvent: (e) => events.push(e) });
    expect(events.map((e) => e.event)).toEqual(['answer']);
    expect(server.calls.at(-1)?.body).toEqual({ text: 'hi' });
    await client.stream('/api/conversations/c1/events', { onEvent: (e) => events.push(e) });
    expect(events).toHaveLength(1);
  });

  it('sends a file or a text file as the raw body with its type', async () => {
    let contentType: string | null = null;
    let body: unknown = null;
    const server = fakeFetch({ 'POST /api/auth/login': () => json(200, signedIn(1)) });
    const client = new ApiClient({
      baseUrl: BASE,
      fetch: (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        if (url.endsWith('/api/agents/import?name=team.toml')) {
          contentType = new Headers(init?.headers).get('Content-Type');
          body = init?.body;
          return Promise.resolve(json(200, { created: ['A'], updated: [], unchanged: [] }));
        }
        return server.fetch(input, init);
      },
      storage: memoryStorage(),
    });
    await client.signIn('ada', 'pw');
    const report = await client.upload<{ created: string[] }>('/api/agents/import', 'name = "A"', {
      query: { name: 'team.toml' },
    });
    expect(report.created).toEqual(['A']);
    expect(contentType).toBe('text/plain; charset=utf-8');
    expect(body).toBe('name = "A"');
  });

  it('names a download from Content-Disposition (RFC 8187 first)', async () => {
    const server = fakeFetch({
      'POST /api/auth/login': () => json(200, signedIn(1)),
      'GET /api/conversations/c1/export': () =>
        new Response('# 层高问题', {
          headers: {
            'Content-Type': 'text/markdown',
            'Content-Disposition': `attachment; filename="____.md"; filename*=UTF-8''${encodeURIComponent('层高问题.md')}`,
          },
        }),
    });
    const client = await signedInClient(server);
    const file = await client.download('/api/conversations/c1/export', { query: { format: 'markdown' } });
    expect(file.name).toBe('层高问题.md');
    expect(await file.blob.text()).toBe('# 层高问题');
    expect(fileNameOf('attachment; filename="agents.toml"')).toBe('agents.toml');
    expect(fileNameOf(null)).toBeNull();
  });
});

/** A body stream of `bytes` in one chunk. */
function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes.slice());
      controller.close();
    },
  });
}

describe('binary downloads and uploads with progress', () => {
  it('streams a binary answer into one buffer, counting against Content-Length', async () => {
    const body = new Uint8Array(1000).map((_, i) => i % 251);
    const server = fakeFetch({
      'POST /api/auth/login': () => json(200, signedIn(1)),
      'GET /api/scene': () => {
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let at = 0; at < body.length; at += 300) controller.enqueue(body.slice(at, at + 300));
            controller.close();
          },
        });
        return new Response(stream, { headers: { 'Content-Length': String(body.length) } });
      },
    });
    const client = await signedInClient(server);
    const progress: [number, number | null][] = [];
    const chunks: number[] = [];
    const bytes = await client.bytes('/api/scene', { onProgress: (loaded, total) => progress.push([loaded, total]), onChunk: (c) => chunks.push(c.length) });
    expect(new Uint8Array(bytes)).toEqual(body);
    expect(bytes.byteLength).toBe(1000);
    expect(progress).toEqual([
      [0, 1000],
      [300, 1000],
      [600, 1000],
      [900, 1000],
      [1000, 1000],
    ]);
    expect(chunks).toEqual([300, 300, 300, 100]);
    const cacheOf = (path: string) => server.calls.find((c) => c.path === path)?.cache;
    expect(cacheOf('/api/scene'), 'a download is kept by the browser and revalidated by its ETag').toBe('no-cache');
    expect(cacheOf('/api/auth/login'), 'other API answers are never kept').toBe('no-store');
  });

  it('grows the buffer when the server gives no length, and reports a cut download', async () => {
    const big = new Uint8Array(200_000).fill(7);
    const server = fakeFetch({
      'POST /api/auth/login': () => json(200, signedIn(1)),
      'GET /api/unsized': () => new Response(streamOf(big)),
      'GET /api/cut': () => new Response(streamOf(big.subarray(0, 10)), { headers: { 'Content-Length': '50' } }),
    });
    const client = await signedInClient(server);
    expect((await client.bytes('/api/unsized')).byteLength).toBe(200_000);
    await expect(client.bytes('/api/cut')).rejects.toMatchObject({ code: 'network_error', message: expect.stringMatching(/stopped after 10 of 50 bytes/) as unknown });
  });

  it('uploads with progress through XMLHttpRequest, refreshing the tokens on 401', async () => {
    const server = fakeFetch({
      'POST /api/auth/login': () => json(200, signedIn(1)),
      'POST /api/auth/refresh': () => json(200, signedIn(2)),
    });
    const sent: { url: string; headers: Record<string, string>; body: unknown }[] = [];
    /** Answers 401 to the first token and 201 to the refreshed one, with two progress events. */
    class FakeXhr {
      status = 0;
      statusText = '';
      response: unknown = null;
      responseType = '';
      upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = { onprogress: null };
      onload: (() => void) | null = null;
      onerror: (() => void) | null = null;
      onabort: (() => void) | null = null;
      private url = '';
      private readonly headers: Record<string, string> = {};
      open(_method: string, url: string) {
        this.url = url;
      }
      setRequestHeader(name: string, value: string) {
        this.headers[name] = value;
      }
      getAllResponseHeaders() {
        return 'content-type: application/json\r\n';
      }
      abort() {
        this.onabort?.();
      }
      send(body: unknown) {
        sent.push({ url: this.url, headers: this.headers, body });
        const fresh = this.headers['Authorization'] === 'Bearer access-2';
        setTimeout(() => {
          this.upload.onprogress?.({ loaded: 5, total: 10, lengthComputable: true });
          this.upload.onprogress?.({ loaded: 10, total: 10, lengthComputable: true });
          this.status = fresh ? 201 : 401;
          this.response = JSON.stringify(fresh ? { id: 'd1' } : { code: 'unauthenticated', message: 'expired', details: {} });
          this.onload?.();
        }, 0);
      }
    }
    const client = new ApiClient({ baseUrl: BASE, fetch: server.fetch, storage: memoryStorage(), xhr: () => new FakeXhr() as unknown as XMLHttpRequest });
    await client.signIn('ada', 'pw');
    const progress: number[] = [];
    const created = await client.uploadWithProgress<{ id: string }>('/api/cad/drawings', new Blob(['0123456789']), {
      query: { name: 'plan.dxf' },
      onProgress: (loaded) => progress.push(loaded),
    });
    expect(created).toEqual({ id: 'd1' });
    expect(sent).toHaveLength(2);
    expect(sent[1]?.url).toBe(`${BASE}/api/cad/drawings?name=plan.dxf`);
    expect(sent[1]?.headers['Content-Type']).toBe('application/octet-stream');
    expect(progress).toEqual([5, 10, 5, 10]);
  });
});
