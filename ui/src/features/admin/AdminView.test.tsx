import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { UserView } from '@/lib/api';
import { apiError, json } from '@/test/fakeServer';
import { renderWithApp } from '@/test/render';
import { AdminView } from './AdminView';

const admin: UserView = {
  id: 1,
  username: 'admin',
  display_name: 'Admin',
  role: 'admin',
  disabled: false,
  has_password: true,
  created_at: '2026-11-25T09:00:00Z',
};
const vera: UserView = { ...admin, id: 2, username: 'vera', display_name: 'Vera', role: 'viewer' };

describe('Admin → Users', () => {
  it('refuses a viewer with the not-allowed view and never asks for the user list', async () => {
    const { server } = await renderWithApp(<AdminView />, { user: vera });
    expect(screen.getByTestId('not-allowed').textContent).toContain('needs the Admin role');
    expect(server.calls.some((call) => call.path === '/api/users')).toBe(false);
  });

  it('lists users and shows the server’s field error under the field it names', async () => {
    const { server } = await renderWithApp(<AdminView />, {
      user: admin,
      routes: {
        'GET /api/users': () => json(200, [admin, vera]),
        'POST /api/users': () =>
          apiError(400, 'invalid_input', 'this password is too common; choose another', { field: 'password' }),
      },
    });
    const table = await screen.findByTestId('users-table');
    expect(within(table).getByText('vera')).toBeTruthy();

    const form = screen.getByTestId('create-user-form');
    await userEvent.type(within(form).getByLabelText('User name'), 'newbie');
    await userEvent.type(within(form).getByLabelText('Initial password'), 'password1');
    await userEvent.click(within(form).getByRole('button', { name: 'Create user' }));

    const password = within(form).getByLabelText('Initial password');
    await screen.findByText('this password is too common; choose another');
    expect(password.getAttribute('aria-invalid')).toBe('true');
    const described = password.getAttribute('aria-describedby') ?? '';
    expect(document.getElementById(described.split(' ').pop() ?? '')?.textContent).toBe(
      'this password is too common; choose another',
    );
    expect(server.calls.find((call) => call.method === 'POST')?.body).toEqual({
      username: 'newbie',
      display_name: null,
      password: 'password1',
      role: 'designer',
    });
  });

  it('checks the password length before asking the server', async () => {
    const { server } = await renderWithApp(<AdminView />, {
      user: admin,
      routes: { 'GET /api/users': () => json(200, [admin]) },
    });
    const form = await screen.findByTestId('create-user-form');
    await userEvent.type(within(form).getByLabelText('User name'), 'x');
    await userEvent.type(within(form).getByLabelText('Initial password'), 'short');
    await userEvent.click(within(form).getByRole('button', { name: 'Create user' }));
    expect(await screen.findByText('A password has 8 to 128 characters.')).toBeTruthy();
    expect(server.calls.some((call) => call.method === 'POST')).toBe(false);
  });
});
