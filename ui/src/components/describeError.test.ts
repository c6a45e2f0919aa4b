import { describe, expect, it } from 'vitest';

import { describeError } from './describeError';

const t = (key: string, params?: Record<string, unknown>) => `${key}${params ? JSON.stringify(params) : ''}`;

describe('describeError', () => {
  it('shows the message of a desktop command rejection, not [object Object]', () => {
    expect(describeError({ code: 'startup_failed', message: 'the database is damaged' }, t)).toBe('the database is damaged');
  });

  it('falls back to the error message or the value as text', () => {
    expect(describeError(new Error('boom'), t)).toBe('boom');
    expect(describeError('plain', t)).toBe('plain');
  });
});
