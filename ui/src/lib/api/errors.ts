import type { ApiErrorBody } from './generated/ApiErrorBody';

/** Codes the client itself gives to failures that never reached the server's error shape. */
export const CLIENT_CODES = {
  /** fetch() failed: server down, connection refused, DNS, CORS. */
  network: 'network_error',
  /** The server answered with something that is not the `{code, message, details}` JSON. */
  badResponse: 'bad_response',
  /** The request was aborted by the caller. */
  aborted: 'aborted',
} as const;

/**
 * Every failure of an API call: the server's `{code, message, details}` plus the HTTP status
 * (0 when the request never got an answer).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  /** Seconds to wait, from `Retry-After` or `details.retry_after_secs` (429). */
  readonly retryAfterSecs: number | null;

  constructor(
    status: number,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
    retryAfterSecs: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfterSecs = retryAfterSecs;
  }

  /** The input field the server blames (`details.field`), if any. */
  get field(): string | null {
    const field = this.details['field'];
    return typeof field === 'string' ? field : null;
  }

  get isUnauthenticated(): boolean {
    return this.status === 401;
  }

  get isNetwork(): boolean {
    return this.code === CLIENT_CODES.network;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  return isRecord(value) && typeof value['code'] === 'string' && typeof value['message'] === 'string';
}

function parseRetryAfter(header: string | null, details: Record<string, unknown>): number | null {
  const fromDetails = details['retry_after_secs'];
  if (typeof fromDetails === 'number' && Number.isFinite(fromDetails)) return fromDetails;
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** Turns a non-2xx response into an ApiError, whatever its body. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const retryAfter = response.headers.get('retry-after');
  if (isErrorBody(body)) {
    const details = isRecord(body.details) ? body.details : {};
    return new ApiError(response.status, body.code, body.message, details, parseRetryAfter(retryAfter, details));
  }
  const snippet = text.trim().slice(0, 200);
  return new ApiError(
    response.status,
    CLIENT_CODES.badResponse,
    `the server answered ${response.status} ${response.statusText}${snippet ? `: ${snippet}` : ''}`.trim(),
    {},
    parseRetryAfter(retryAfter, {}),
  );
}

/** Turns a fetch() rejection into an ApiError. */
export function errorFromFetchFailure(error: unknown, url: string): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof DOMException && error.name === 'AbortError') {
    return new ApiError(0, CLIENT_CODES.aborted, 'the request was cancelled');
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new ApiError(0, CLIENT_CODES.network, `cannot reach the server at ${url}: ${reason}`);
}
