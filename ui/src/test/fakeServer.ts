import type { SignedIn, StreamEvent, UserView } from '@/lib/api';

/** A recorded request to the fake server. */
export interface Call {
  method: string;
  path: string;
  authorization: string | null;
  body: unknown;
  /** The request's `cache` mode. */
  cache: RequestCache | undefined;
}

export type Handler = (call: Call) => Response | Promise<Response>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

export function apiError(status: number, code: string, message: string, details: object = {}, headers = {}): Response {
  return json(status, { code, message, details }, headers);
}

export const USER: UserView = {
  id: 1,
  username: 'ada',
  display_name: 'Ada',
  role: 'admin',
  disabled: false,
  has_password: true,
  created_at: '2026-11-25T09:00:00Z',
};

export function signedIn(n: number, expiresIn = 900): SignedIn {
  return { access_token: `access-${n}`, refresh_token: `refresh-${n}`, expires_in: expiresIn, user: USER };
}

/**
 * A fetch() stand-in: `routes` maps "METHOD /path" to a handler; every call is recorded.
 * Unknown routes answer 404 in the API's error shape.
 */
export function fakeFetch(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const headers = new Headers(init?.headers);
    const call: Call = {
      method: init?.method ?? 'GET',
      path: url.pathname,
      authorization: headers.get('Authorization'),
      body: readBody(init?.body, headers.get('Content-Type')),
      cache: init?.cache,
    };
    calls.push(call);
    const handler = routes[`${call.method} ${call.path}`];
    if (!handler) return apiError(404, 'not_found', `no route ${call.method} ${call.path}`);
    return handler(call);
  };
  return { fetch, calls };
}

/** JSON bodies parsed; raw text bodies (a file to import) as they are; anything else as null. */
function readBody(body: BodyInit | null | undefined, contentType: string | null): unknown {
  if (typeof body !== 'string') return body instanceof Blob ? body : null;
  return contentType?.startsWith('application/json') ? (JSON.parse(body) as unknown) : body;
}

/** An event-stream response carrying `events` (SSE event name = the JSON `type`, as the chat API sends). */
export function sseResponse(events: readonly StreamEvent[]): Response {
  const text = events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join('');
  return new Response(text, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}

/** In-memory Storage (sessionStorage stand-in). */
export function memoryStorage(): Storage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (key) => data.get(key) ?? null,
    key: (index) => [...data.keys()][index] ?? null,
    removeItem: (key) => data.delete(key),
    setItem: (key, value) => data.set(key, value),
  };
}

/** A deferred promise, to hold a response until the test lets it go. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
