import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { LanguageSelect } from '@/components/PreferenceSwitches';
import { apiError, json, signedIn } from '@/test/fakeServer';
import { renderWithApp } from '@/test/render';
import { SignInView } from './SignInView';

describe('Sign-in', () => {
  it('says the credentials are wrong on 401 and switches language live', async () => {
    await renderWithApp(<SignInView />, {
      user: null,
      routes: { 'POST /api/auth/login': () => apiError(401, 'unauthenticated', 'wrong user name or password') },
    });
    await userEvent.type(screen.getByLabelText('User name'), 'ada');
    await userEvent.type(screen.getByLabelText('Password'), 'not-it');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Wrong user name or password.');

    await userEvent.selectOptions(screen.getByLabelText('Language'), 'zh-CN');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('登录');
    expect(screen.getByLabelText('用户名')).toBeTruthy();
    expect(document.documentElement.lang).toBe('zh-CN');
    expect(localStorage.getItem('zk-agent.locale')).toBe('zh-CN');
  });

  it('tells how long to wait when sign-in is throttled (429)', async () => {
    await renderWithApp(<SignInView />, {
      user: null,
      locale: 'zh-CN',
      routes: {
        'POST /api/auth/login': () =>
          apiError(429, 'rate_limited', 'too many failed sign-ins', { retry_after_secs: 30 }, { 'Retry-After': '30' }),
      },
    });
    await userEvent.type(screen.getByLabelText('用户名'), 'ada');
    await userEvent.type(screen.getByLabelText('密码'), 'x');
    await userEvent.click(screen.getByRole('button', { name: '登录' }));
    expect((await screen.findByRole('alert')).textContent).toBe('尝试次数过多，请 30 秒后再试。');
  });

  it('keeps the tokens for the session once signed in', async () => {
    const { client } = await renderWithApp(
      <>
        <SignInView />
        <LanguageSelect id="other" />
      </>,
      { user: null, routes: { 'POST /api/auth/login': () => json(200, signedIn(1)) } },
    );
    await userEvent.type(screen.getByLabelText('User name'), 'ada');
    await userEvent.type(screen.getByLabelText('Password'), 'right-one');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await vi.waitFor(() => expect(client.getSession()?.accessToken).toBe('access-1'));
  });
});
