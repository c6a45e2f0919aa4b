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

// The first run as a new operator meets it: the binary alone (its built-in UI, started outside the
// repository) prints an address; opening it fills the token in, in the browser's language.
const FIRST_RUN = [
  {
    locale: 'en',
    heading: 'Set up ZK-Agent',
    token: 'Setup token',
    username: 'User name',
    password: 'Password',
    confirm: 'Repeat the password',
    create: 'Create administrator',
    admin: 'Admin',
  },
  {
    locale: 'zh-CN',
    heading: '初始化 ZK-Agent',
    token: '初始化令牌',
    username: '用户名',
    password: '密码',
    confirm: '再次输入密码',
    create: '创建管理员',
    admin: '管理',
  },
];
for (const { locale, heading, token, username, password, confirm, create, admin } of FIRST_RUN) {
  test.describe(`first run from the printed address (${locale})`, () => {
    test.use({ locale });
    let fresh: RunningServer;
    test.beforeAll(async () => {
      fresh = await startServer({ users: false, embeddedUi: true });
    });
    test.afterAll(async () => {
      await fresh.stop();
    });

    test('the setup address opens the form with its token, and the token leaves the address bar', async ({ page }) => {
      const printed = /(http:\/\/127\.0\.0\.1:\d+\/setup\?token=[A-Za-z0-9_-]+)/.exec(fresh.log())?.[1];
      expect(printed, 'zk-agent serve prints the setup address on a first start').toBeTruthy();
      expect(fresh.log()).toContain('built in');
      expect(fresh.log()).not.toMatch(/WARN.*keychain/i);

      await page.goto(printed ?? '');
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(heading);
      await expect(page).not.toHaveURL(/token=/);
      const printedToken = new URL(printed ?? 'http://x/').searchParams.get('token');
      await expect(page.getByLabel(token)).toHaveValue(printedToken ?? '');
      await page.screenshot({ path: `e2e/screenshots/first-run-setup-${locale}.png`, fullPage: true });

      await page.getByLabel(username).fill('owner');
      await page.getByLabel(password, { exact: true }).fill('Owner-e2e-Passw0rd');
      await page.getByLabel(confirm).fill('Owner-e2e-Passw0rd');
      await page.getByRole('button', { name: create }).click();
      await expect(page.getByRole('navigation').getByRole('link', { name: admin, exact: true })).toBeVisible();
      await expect(page).not.toHaveURL(/\/setup/);
    });
  });
}
