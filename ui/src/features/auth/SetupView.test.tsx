import { screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { renderWithApp } from '@/test/render';
import { SetupView } from './SetupView';

describe('Setup', () => {
  afterEach(() => {
    window.history.replaceState(null, '', '/');
  });

  it('takes the token from the printed address and out of the address bar', async () => {
    window.history.replaceState(null, '', '/setup?token=zks_printed&lang=x#top');
    await renderWithApp(<SetupView />, { user: null, locale: 'zh-CN' });
    expect(screen.getByLabelText<HTMLInputElement>('初始化令牌').value).toBe('zks_printed');
    expect(window.location.search).toBe('?lang=x');
    expect(window.location.pathname + window.location.hash).toBe('/setup#top');
  });

  it('leaves the field empty without a token in the address', async () => {
    window.history.replaceState(null, '', '/');
    await renderWithApp(<SetupView />, { user: null });
    expect(screen.getByLabelText<HTMLInputElement>('Setup token').value).toBe('');
  });
});
