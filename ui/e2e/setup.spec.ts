import { expect, test } from '@playwright/test';
import { startServer, type RunningServer } from './server';

// A server of its own: a fresh database with no account, as on a first start.
let server: RunningServer;
test.beforeAll(async () => {
  server = await startServer({ users: false });
});
test.afterAll(async () => {
  await server.stop();
});

test('first start: the setup view creates the first admin with the token the server printed', async ({ page }) => {
  await page.goto(server.baseUrl);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Set up ZK-Agent');
  const token = /"token":"([^"]+)"/.exec(server.log())?.[1];
  expect(token, 'zk-agent serve prints a setup token when there is no account').toBeTruthy();

  await page.getByLabel('Setup token').fill('not-the-token');
  await page.getByLabel('User name').fill('owner');
  await page.getByLabel('Password', { exact: true }).fill('Owner-e2e-Passw0rd');
  await page.getByLabel('Repeat the password').fill('Owner-e2e-Passw0rd');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.getByText('The setup token is wrong or was already used.', { exact: false })).toBeVisible();
  await expect(page.getByLabel('Setup token')).toHaveAttribute('aria-invalid', 'true');

  await page.getByLabel('Setup token').fill(token ?? '');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' })).toBeVisible();
  await expect(page.getByText('Signed in as owner')).toBeVisible();
});
