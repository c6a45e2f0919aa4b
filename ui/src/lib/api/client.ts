import { ApiError, CLIENT_CODES, errorFromFetchFailure, errorFromResponse } from './errors';
import type { DesktopSignIn } from './generated/DesktopSignIn';
import type { Login } from './generated/Login';
import type { Me } from './generated/Me';
import type { PasswordChange } from './generated/PasswordChange';
import type { Refresh } from './generated/Refresh';
import type { Setup } from './generated/Setup';
import type { SignedIn } from './generated/SignedIn';
import type { UserView } from './generated/UserView';
import { SseParser, type SseEvent } from './sse';

/** The tokens of a signed-in user, kept in memory and in sessionStorage (never localStorage). */
export interface Session {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires, ms since the epoch (client clock). */
  expiresAt: number;
  user: UserView;
}

export type SessionChange = 'signed-in' | 'refreshed' | 'signed-out' | 'expired' | 'updated';
export type SessionListener = (session: Session | null, change: SessionChange) => void;

/** The part of the Storage interface the client uses (sessionStorage in the app, a map in tests). */
export type TokenStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface ApiClientOptions {
  /** Origin of the server, e.g. "http://127.0.0.1:54321"; "" for the page's own origin. */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Makes the XMLHttpRequest of uploads with progress (fetch cannot report upload progress). */
  xhr?: () => XMLHttpRequest;
  storage?: TokenStorage | null;
  now?: () => number;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is (a file, a text file), with `contentType`; instead of `body`. */
  rawBody?: Blob | string;
  contentType?: string;
  query?: Query;
  /** Send the bearer token (default true). Sign-in, refresh, setup and health do not. */
  auth?: boolean;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Non-2xx statuses whose body is the answer, not an error (e.g. 503 from /api/health). */
  okStatuses?: readonly number[];
  /** The browser cache's part (default `no-store`: API answers are not kept). */
  cache?: RequestCache;
}

export interface StreamOptions {
  onEvent: (event: SseEvent) => void;
  signal?: AbortSignal;
  query?: Query;
  /** GET by default; a POST whose answer is an event stream (e.g. sending a chat message) sends `body` as JSON. */
  method?: Method;
  body?: unknown;
}

/** Bytes received so far and the total from Content-Length (null when the server did not say). */
export type Progress = (loaded: number, total: number | null) => void;

export interface BytesOptions {
  query?: Query;
  signal?: AbortSignal;
  onProgress?: Progress;
  /**
   * Each chunk as it arrives, after it was copied into the result: the callee may keep it (e.g.
   * transfer it to a worker) without copying it again.
   */
  onChunk?: (chunk: Uint8Array) => void;
}

export interface UploadOptions {
  query?: Query;
  contentType?: string;
  signal?: AbortSignal;
  onProgress?: Progress;
}

/** A file the server sent as an attachment. */
export interface Download {
  blob: Blob;
  /** From Content-Disposition (`filename*` first), else the caller's fallback. */
  name: string;
}

/** The file name of a Content-Disposition header: RFC 8187's `filename*` first, then `filename`. */
export function fileNameOf(disposition: string | null): string | null {
  if (!disposition) return null;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (extended?.[1]) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      // Malformed escapes: fall back to the plain name.
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/i.exec(disposition);
  const name = plain?.[1] ?? plain?.[2]?.trim();
  return name ? name : null;
}

const STORAGE_KEY = 'zk-agent.session.v1';

/** The JSON of a 2xx answer; undefined for an empty body (204). */
async function readJson<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(response.status, CLIENT_CODES.badResponse, 'the server answered with invalid JSON');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The one API client: JSON over HTTP and Server-Sent Events over fetch, with the bearer token.
 *
 * Silent refresh: a request answered 401 `unauthenticated` refreshes the tokens once and is sent
 * again. Refreshes are single-flight — every request that needs one waits for the same call — because
 * the refresh token rotates and a second use of the old one would revoke the whole session. The
 * tokens are also refreshed shortly before they expire.
 */
export class ApiClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly makeXhr: () => XMLHttpRequest;
  private readonly storage: TokenStorage | null;
  private readonly now: () => number;
  private session: Session | null = null;
  private refreshing: Promise<Session> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** Proactive refresh is on (between start() and stop()). */
  private running = false;
  private readonly listeners = new Set<SessionListener>();

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    // fetch must be called unbound-safe: window.fetch throws "Illegal invocation" when detached.
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.makeXhr = options.xhr ?? (() => new XMLHttpRequest());
    this.storage = options.storage ?? null;
    this.now = options.now ?? (() => Date.now());
    this.session = this.load();
  }

  // ---- session -------------------------------------------------------------------------------

  getSession(): Session | null {
    return this.session;
  }

  subscribe(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Turns on the refresh shortly before the access token expires. */
  start(): void {
    this.running = true;
    this.cancelRefreshTimer();
    if (this.session) this.scheduleRefresh(this.session);
  }

  /** Turns it off (the app unmounts, or a test ends). */
  stop(): void {
    this.running = false;
    this.cancelRefreshTimer();
  }

  private setSession(session: Session | null, change: SessionChange): void {
    this.session = session;
    this.cancelRefreshTimer();
    if (session) {
      this.save(session);
      if (this.running) this.scheduleRefresh(session);
    } else {
      this.storage?.removeItem(STORAGE_KEY);
    }
    for (const listener of [...this.listeners]) listener(session, change);
  }

  private adopt(signedIn: SignedIn, change: SessionChange): Session {
    const session: Session = {
      accessToken: signedIn.access_token,
      refreshToken: signedIn.refresh_token,
      expiresAt: this.now() + signedIn.expires_in * 1000,
      user: signedIn.user,
    };
    this.setSession(session, change);
    return session;
  }

  /** Forgets the tokens locally (no request). */
  clearSession(change: 'signed-out' | 'expired' = 'signed-out'): void {
    if (this.session) this.setSession(null, change);
  }

  private load(): Session | null {
    try {
      const raw = this.storage?.getItem(STORAGE_KEY);
      if (!raw) return null;
      const stored: unknown = JSON.parse(raw);
      // A session belongs to one server (the desktop app's port changes at every launch).
      if (!isRecord(stored) || stored['baseUrl'] !== this.baseUrl) return null;
      const { accessToken, refreshToken, expiresAt, user } = stored;
      if (
        typeof accessToken !== 'string' ||
        typeof refreshToken !== 'string' ||
        typeof expiresAt !== 'number' ||
        !isRecord(user)
      ) {
        return null;
      }
      // Written by save() from a UserView; verifySession() checks it with the server at start.
      return { accessToken, refreshToken, expiresAt, user: user as unknown as UserView };
    } catch {
      return null;
    }
  }

  private save(session: Session): void {
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify({ ...session, baseUrl: this.baseUrl }));
    } catch {
      // Storage full or disabled (private mode): the session still lives in memory.
    }
  }

  private scheduleRefresh(session: Session): void {
    const lifetime = Math.max(0, session.expiresAt - this.now());
    // Refresh a minute early, or at 80 % of a short lifetime.
    const lead = Math.min(60_000, lifetime * 0.2);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.refresh().catch((error: unknown) => {
        // A network failure leaves the session in place: retry in a while; a 401 already signed out.
        if (error instanceof ApiError && error.isNetwork && this.session && this.running) {
          this.refreshTimer = setTimeout(() => void this.refresh().catch(() => undefined), 15_000);
        }
      });
    }, Math.max(0, lifetime - lead));
  }

  private cancelRefreshTimer(): void {
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  /**
   * Exchanges the refresh token for new tokens. Concurrent callers share one request.
   * On 400/401 the session is over: it is cleared (listeners hear "expired") and the error thrown.
   */
  refresh(): Promise<Session> {
    if (this.refreshing) return this.refreshing;
    const current = this.session;
    if (!current) return Promise.reject(new ApiError(401, 'unauthenticated', 'not signed in'));
    this.refreshing = (async () => {
      try {
        const signedIn = await this.request<SignedIn>('POST', '/api/auth/refresh', {
          auth: false,
          body: { refresh_token: current.refreshToken } satisfies Refresh,
        });
        // Signed out (or in as someone else) while the refresh was under way: drop its result.
        if (this.session?.refreshToken !== current.refreshToken) {
          throw new ApiError(401, 'unauthenticated', 'the session changed during the refresh');
        }
        return this.adopt(signedIn, 'refreshed');
      } catch (error) {
        if (error instanceof ApiError && (error.status === 401 || error.status === 400)) {
          if (this.session?.refreshToken === current.refreshToken) this.clearSession('expired');
        }
        throw error;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  // ---- requests ------------------------------------------------------------------------------

  url(path: string, query?: Query): string {
    let url = `${this.baseUrl}${path}`;
    if (query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
      }
      const text = params.toString();
      if (text) url += `?${text}`;
    }
    return url;
  }

  /** Sends a request; resolves with the 2xx response, else rejects with an ApiError. */
  private async send(method: Method, path: string, options: RequestOptions, accept: string): Promise<Response> {
    const auth = options.auth ?? true;
    const url = this.url(path, options.query);
    const attempt = async (token: string | null): Promise<Response> => {
      const headers: Record<string, string> = { Accept: accept, ...options.headers };
      let body: BodyInit | undefined;
      if (options.rawBody !== undefined) {
        body = options.rawBody;
        headers['Content-Type'] = options.contentType ?? 'application/octet-stream';
      } else if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['Content-Type'] = 'application/json';
      }
      if (token) headers['Authorization'] = `Bearer ${token}`;
      try {
        return await this.fetchImpl(url, {
          method,
          headers,
          body,
          signal: options.signal,
          cache: options.cache ?? 'no-store',
        });
      } catch (error) {
        throw errorFromFetchFailure(error, this.baseUrl || 'this page’s origin');
      }
    };

    const ok = (response: Response) => response.ok || (options.okStatuses?.includes(response.status) ?? false);
    const response = auth ? await this.authorised(attempt) : await attempt(null);
    if (!ok(response)) throw await errorFromResponse(response);
    return response;
  }

  /**
   * Runs `attempt` with the access token; on 401 `unauthenticated` refreshes the tokens (once for
   * all concurrent callers) and runs it again. A second 401 ends the session.
   */
  private async authorised(attempt: (token: string) => Promise<Response>): Promise<Response> {
    const session = this.session;
    if (!session) throw new ApiError(401, 'unauthenticated', 'not signed in');
    let response = await attempt(session.accessToken);
    if (response.status === 401) {
      const error = await errorFromResponse(response);
      if (error.code !== 'unauthenticated') throw error;
      // Another request may have refreshed while this one was in flight: then just use the new token.
      const fresh =
        this.session && this.session.accessToken !== session.accessToken ? this.session : await this.refresh();
      response = await attempt(fresh.accessToken);
      if (response.status === 401) {
        const again = await errorFromResponse(response);
        this.clearSession('expired');
        throw again;
      }
    }
    return response;
  }

  async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    return readJson<T>(await this.send(method, path, options, 'application/json'));
  }

  get<T>(path: string, options?: Omit<RequestOptions, 'body'>): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  post<T>(path: string, body?: unknown, options?: Omit<RequestOptions, 'body'>): Promise<T> {
    return this.request<T>('POST', path, { ...options, body });
  }

  patch<T>(path: string, body: unknown, options?: Omit<RequestOptions, 'body'>): Promise<T> {
    return this.request<T>('PATCH', path, { ...options, body });
  }

  put<T>(path: string, body: unknown, options?: Omit<RequestOptions, 'body'>): Promise<T> {
    return this.request<T>('PUT', path, { ...options, body });
  }

  /**
   * Reads a Server-Sent Events stream (with the bearer header, which EventSource cannot send).
   * Resolves when the server ends the stream; rejects with an ApiError when it cannot be opened or
   * breaks. Reconnecting is the caller's choice.
   */
  async stream(path: string, options: StreamOptions): Promise<void> {
    const response = await this.send(
      options.method ?? 'GET',
      path,
      { query: options.query, signal: options.signal, body: options.body },
      'text/event-stream',
    );
    // 204: nothing to follow (e.g. no answer is running).
    if (response.status === 204) return;
    if (!response.body) throw new ApiError(response.status, CLIENT_CODES.badResponse, 'the event stream has no body');
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.feed(decoder.decode(value, { stream: true }))) options.onEvent(event);
      }
      for (const event of parser.feed(decoder.decode())) options.onEvent(event);
    } catch (error) {
      throw errorFromFetchFailure(error, this.baseUrl || 'this page’s origin');
    } finally {
      reader.releaseLock();
    }
  }

  /** Sends `data` as the raw body (a file upload, a file to import); the answer is JSON. */
  upload<T>(path: string, data: Blob | string, options: { query?: Query; contentType?: string; signal?: AbortSignal } = {}): Promise<T> {
    const contentType = options.contentType ?? (typeof data === 'string' ? 'text/plain; charset=utf-8' : data.type || undefined);
    return this.request<T>('POST', path, { query: options.query, signal: options.signal, rawBody: data, contentType });
  }

  /**
   * Fetches a binary answer whole, reporting the bytes received against Content-Length as they
   * arrive (a large CAD scene). With a Content-Length the bytes land in one buffer of that size,
   * which the result is (no copy at the end).
   */
  async bytes(path: string, options: BytesOptions = {}): Promise<ArrayBuffer> {
    // Kept by the browser and revalidated each time (`no-cache`): a scene whose ETag still matches
    // comes back as 304 and is read from the cache instead of downloaded again.
    const response = await this.send('GET', path, { query: options.query, signal: options.signal, cache: 'no-cache' }, '*/*');
    const header = Number(response.headers.get('content-length'));
    const total = Number.isFinite(header) && header > 0 ? header : null;
    if (!response.body) {
      const whole = await response.arrayBuffer();
      options.onProgress?.(whole.byteLength, total ?? whole.byteLength);
      return whole;
    }
    const reader = response.body.getReader();
    let buffer = new Uint8Array(total ?? 1 << 16);
    let loaded = 0;
    options.onProgress?.(0, total);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (loaded + value.length > buffer.length) {
          // No (or a wrong) Content-Length: grow by doubling.
          const grown = new Uint8Array(Math.max(buffer.length * 2, loaded + value.length));
          grown.set(buffer.subarray(0, loaded));
          buffer = grown;
        }
        buffer.set(value, loaded);
        loaded += value.length;
        options.onChunk?.(value);
        options.onProgress?.(loaded, total);
      }
    } catch (error) {
      throw errorFromFetchFailure(error, this.baseUrl || 'this page’s origin');
    } finally {
      reader.releaseLock();
    }
    if (total !== null && loaded < total) {
      throw new ApiError(0, CLIENT_CODES.network, `the download stopped after ${loaded} of ${total} bytes; try again`);
    }
    return loaded === buffer.length ? buffer.buffer : buffer.slice(0, loaded).buffer;
  }

  /**
   * Sends `data` as the raw body with upload progress (XMLHttpRequest: fetch cannot report it); the
   * answer is JSON. Refreshes the tokens once on 401 like every other request.
   */
  async uploadWithProgress<T>(path: string, data: Blob, options: UploadOptions = {}): Promise<T> {
    const url = this.url(path, options.query);
    const attempt = (token: string) =>
      new Promise<Response>((resolve, reject) => {
        const xhr = this.makeXhr();
        xhr.open('POST', url);
        xhr.setRequestHeader('Accept', 'application/json');
        xhr.setRequestHeader('Content-Type', options.contentType ?? (data.type || 'application/octet-stream'));
        xhr.setRequestHeader('Authorization', `Bearer ${token}`);
        xhr.responseType = 'text';
        xhr.upload.onprogress = (event) => options.onProgress?.(event.loaded, event.lengthComputable ? event.total : data.size);
        xhr.onload = () => {
          const headers = new Headers();
          for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
            const at = line.indexOf(':');
            if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
          }
          const body = xhr.status === 204 || xhr.status === 205 ? null : String(xhr.response ?? '');
          resolve(new Response(body, { status: xhr.status, statusText: xhr.statusText, headers }));
        };
        xhr.onerror = () => reject(new ApiError(0, CLIENT_CODES.network, `cannot reach the server at ${this.baseUrl || 'this page’s origin'}`));
        xhr.onabort = () => reject(new ApiError(0, CLIENT_CODES.aborted, 'the request was cancelled'));
        if (options.signal) {
          if (options.signal.aborted) {
            reject(new ApiError(0, CLIENT_CODES.aborted, 'the request was cancelled'));
            return;
          }
          options.signal.addEventListener('abort', () => xhr.abort(), { once: true });
        }
        xhr.send(data);
      });
    const response = await this.authorised(attempt);
    if (!response.ok) throw await errorFromResponse(response);
    return readJson<T>(response);
  }

  /** Fetches a file the server sends as an attachment (an export), with its name. */
  async download(path: string, options: { query?: Query; signal?: AbortSignal; fallbackName?: string } = {}): Promise<Download> {
    const response = await this.send('GET', path, { query: options.query, signal: options.signal }, '*/*');
    const blob = await response.blob();
    const name = fileNameOf(response.headers.get('content-disposition')) ?? options.fallbackName ?? 'download';
    return { blob, name };
  }

  // ---- signing in and out ------------------------------------------------------------------

  async signIn(username: string, password: string): Promise<Session> {
    const body: Login = { username, password };
    const signedIn = await this.post<SignedIn>('/api/auth/login', body, { auth: false });
    return this.adopt(signedIn, 'signed-in');
  }

  /** First start of a new server: makes the first admin and signs them in. */
  async completeSetup(request: Setup): Promise<Session> {
    const signedIn = await this.post<SignedIn>('/api/setup', request, { auth: false });
    return this.adopt(signedIn, 'signed-in');
  }

  /** Desktop window: the per-launch secret from the shell stands in for a password. */
  async desktopSignIn(launchSecret: string): Promise<Session> {
    const body: DesktopSignIn = { launch_secret: launchSecret };
    const signedIn = await this.post<SignedIn>('/api/auth/desktop', body, { auth: false });
    return this.adopt(signedIn, 'signed-in');
  }

  /** Changing the password ends the other sessions; this one gets new tokens. */
  async changePassword(currentPassword: string, newPassword: string): Promise<Session> {
    const body: PasswordChange = { current_password: currentPassword, new_password: newPassword };
    const signedIn = await this.post<SignedIn>('/api/auth/password', body);
    return this.adopt(signedIn, 'refreshed');
  }

  /** Checks the stored session with the server and takes the role it reports now. */
  async verifySession(): Promise<Session> {
    const me = await this.get<Me>('/api/auth/me');
    const session = this.session;
    if (!session) throw new ApiError(401, 'unauthenticated', 'not signed in');
    if (session.user.role !== me.role || session.user.username !== me.username) {
      this.setSession({ ...session, user: { ...session.user, role: me.role, username: me.username } }, 'updated');
    }
    return this.session ?? session;
  }

  /** Ends the session on the server (best effort) and forgets it here. */
  async signOut(): Promise<void> {
    if (!this.session) return;
    try {
      await this.request('POST', '/api/auth/logout');
    } catch {
      // Already expired or the server is gone: forgetting the tokens is what matters.
    } finally {
      this.clearSession('signed-out');
    }
  }
}
