import { describe, expect, it } from 'vitest';

import { ApiError } from '@/lib/api';

import { describeError } from './describeError';

const t = (key: string, params?: Record<string, unknown>) => `${key}${params ? JSON.stringify(params) : ''}`;

describe('describeError', () => {
  it('shows the message of a desktop command rejection, not [object Object]', () => {
    expect(describeError({ code: 'startup_failed', message: 'the database is damaged' }, t)).toBe('the database is damaged');
  });

  it('asks to wait when the server is too busy to check a sign-in (503 busy)', () => {
    const busy = new ApiError(503, 'busy', 'the server is busy checking other sign-ins', {}, 2);
    expect(describeError(busy, t)).toBe('error.busy{"seconds":2}');
    const limited = new ApiError(429, 'rate_limited', 'too many failed attempts', {}, 30);
    expect(describeError(limited, t)).toBe('error.rateLimited{"seconds":30}');
  });

  it('falls back to the error message or the value as text', () => {
    expect(describeError(new Error('boom'), t)).toBe('boom');
    expect(describeError('plain', t)).toBe('plain');
  });
});
