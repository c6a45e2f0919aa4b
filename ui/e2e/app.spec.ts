import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN, VIEWER } from './server';

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });

const TEXT = {
  en: { signIn: 'Sign in', user: 'User name', password: 'Password', tasks: 'Tasks', admin: 'Admin', settings: 'Settings', cad: 'CAD', posters: 'Posters' },
  'zh-CN': { signIn: '登录', user: '用户名', password: '密码', tasks: '任务', admin: '管理', settings: '设置', cad: 'CAD', posters: '海报' },
} as const;
type Lang = keyof typeof TEXT;

async function signIn(page: Page, who: { username: string; password: string }, lang: Lang = 'en') {
  const text = TEXT[lang];
  await page.goto('/');
  await page.getByLabel(text.user).fill(who.username);
  await page.getByLabel(text.password, { exact: true }).fill(who.password);
  await page.getByRole('button', { name: text.signIn }).click();
  await expect(page.getByRole('navigation').getByRole('link', { name: text.tasks })).toBeVisible();
}

function nav(page: Page) {
  return page.getByRole('navigation', { name: /Main|主导航/ });
}

async function startSelfTest(page: Page, steps: number, stepMs: number): Promise<number> {
  await page.getByLabel('Steps').fill(String(steps));
  await page.getByLabel('Step duration (ms)').fill(String(stepMs));
  await page.getByRole('button', { name: 'Run self-test' }).click();
  const status = page.getByText(/Self-test #\d+ queued\./);
  await expect(status).toBeVisible();
  return Number(/#(\d+)/.exec((await status.textContent()) ?? '')?.[1]);
}

function taskItem(page: Page, id: number) {
  return page.locator(`li[data-task-id="${id}"]`);
}

async function progressOf(page: Page, id: number): Promise<number> {
  const value = await taskItem(page, id).getByRole('progressbar').getAttribute('aria-valuenow');
  return Number(value);
}

test('sign in as admin and see the frame', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await page.getByLabel('User name').fill(ADMIN.username);
  await page.getByLabel('Password', { exact: true }).fill('wrong-password-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong user name or password.');

  await signIn(page, ADMIN);
  await expect(page).toHaveURL(/\/tasks$/);
  for (const name of ['Chat', 'CAD', 'Posters', 'Agents', 'Tasks', 'Admin', 'Settings']) {
    await expect(nav(page).getByRole('link', { name, exact: true })).toBeVisible();
  }
  // The unbuilt features say what is coming instead of breaking.
  await nav(page).getByRole('link', { name: 'Posters' }).click();
  await expect(page.getByText('Coming soon')).toBeVisible();
  await nav(page).getByRole('link', { name: 'CAD' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'CAD drawings' })).toBeVisible();
  // Reloading keeps the session (sessionStorage) and the route.
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'CAD drawings' })).toBeVisible();
});

test('a stale access token is refreshed silently against the real server', async ({ page }) => {
  await signIn(page, ADMIN);
  const before = await page.evaluate(() => sessionStorage.getItem('zk-agent.session.v1'));
  expect(before).toBeTruthy();
  const stored = JSON.parse(before ?? '{}') as { accessToken: string; refreshToken: string };
  // Spoil the access token; the refresh token still holds the session.
  await page.evaluate((value) => sessionStorage.setItem('zk-agent.session.v1', value), JSON.stringify({ ...stored, accessToken: 'spoiled' }));
  const refreshes: string[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/api/auth/refresh')) refreshes.push(request.url());
  });
  await page.reload();
  await expect(nav(page).getByRole('link', { name: 'Tasks' })).toBeVisible();
  await expect(page.getByTestId('task-connection')).toHaveText('Live');
  expect(refreshes).toHaveLength(1);
  const after = JSON.parse((await page.evaluate(() => sessionStorage.getItem('zk-agent.session.v1'))) ?? '{}') as {
    refreshToken: string;
  };
  expect(after.refreshToken).not.toBe(stored.refreshToken); // rotated
  expect(await page.evaluate(() => localStorage.getItem('zk-agent.session.v1'))).toBeNull();
});

test('switch language at run time; it persists', async ({ page }) => {
  await signIn(page, ADMIN);
  await nav(page).getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Language', { exact: true }).selectOption('zh-CN');
  for (const name of ['对话', '海报', '智能体', '任务', '管理', '设置']) {
    await expect(nav(page).getByRole('link', { name, exact: true })).toBeVisible();
  }
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('设置');
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await page.reload();
  await expect(nav(page).getByRole('link', { name: '任务' })).toBeVisible();

  await page.getByLabel('语言', { exact: true }).selectOption('en');
  await expect(nav(page).getByRole('link', { name: 'Tasks' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
});

test('the first view follows the browser language', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('登录');
  await expect(page.getByLabel('用户名')).toBeVisible();
  await context.close();
});

test('switch theme: follows the OS, and a manual choice wins and persists', async ({ browser }) => {
  const context = await browser.newContext({ colorScheme: 'dark' });
  const page = await context.newPage();
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await signIn(page, ADMIN);
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  const dark = await background();

  await nav(page).getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('radio', { name: 'Light' }).check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  const light = await background();
  expect(light).not.toBe(dark);

  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await page.getByRole('radio', { name: 'Follow the system' }).check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await context.close();
});

test('admin creates a user, who appears in the list and can sign in', async ({ page, browser }) => {
  await signIn(page, ADMIN);
  await nav(page).getByRole('link', { name: 'Admin' }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  const table = page.getByTestId('users-table');
  await expect(table.getByRole('row', { name: /vera/ })).toBeVisible();

  const form = page.getByTestId('create-user-form');
  // The server's password policy comes back under the password field.
  await form.getByLabel('User name').fill('dora');
  await form.getByLabel('Display name').fill('Dora Designer');
  await form.getByLabel('Initial password').fill('password');
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(form.getByLabel('Initial password')).toHaveAttribute('aria-invalid', 'true');
  await expect(table.getByRole('row', { name: /dora/ })).toHaveCount(0);

  await form.getByLabel('Initial password').fill('Dora-e2e-Passw0rd');
  await form.getByLabel('Role').selectOption('designer');
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByText('User dora created.')).toBeVisible();
  const row = table.getByRole('row', { name: /dora/ });
  await expect(row).toBeVisible();
  await expect(row.getByRole('combobox')).toHaveValue('designer');

  // Disable and enable again.
  await row.getByRole('button', { name: 'Disable Dora Designer' }).click();
  await expect(row.getByText('Disabled')).toBeVisible();
  await row.getByRole('button', { name: 'Enable Dora Designer' }).click();
  await expect(row.getByText('Active')).toBeVisible();

  // The audit log has the creation, and filters by action.
  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await page.getByLabel('Action', { exact: true }).fill('user.create');
  await page.getByRole('button', { name: 'Filter' }).click();
  const audit = page.getByTestId('audit-table');
  // Made by the admin in the browser (the first two came from the CLI).
  await expect(audit.getByRole('row', { name: /^.* admin user\.create user:\d+ ok 127\.0\.0\.1$/ })).toHaveCount(1);
  await expect(audit.getByRole('row', { name: /auth\.login/ })).toHaveCount(0);

  const context = await browser.newContext();
  const other = await context.newPage();
  await signIn(other, { username: 'dora', password: 'Dora-e2e-Passw0rd' });
  await expect(nav(other).getByRole('link', { name: 'Admin' })).toHaveCount(0);
  await context.close();
});

test('a self-test task shows its progress moving, then succeeds, with a notification', async ({ browser }) => {
  const context = await browser.newContext({ permissions: ['notifications'] });
  // Record system notifications instead of showing them.
  await context.addInitScript(() => {
    const shown: { title: string; body?: string }[] = [];
    Object.assign(window, { shownNotifications: shown });
    // Stands in for the Notification constructor, whose statics the app reads.
    // eslint-disable-next-line @typescript-eslint/no-extraneous-class
    class RecordingNotification {
      static permission = 'granted';
      static requestPermission = () => Promise.resolve('granted');
      constructor(title: string, options?: { body?: string }) {
        shown.push({ title, body: options?.body });
      }
    }
    Object.defineProperty(window, 'Notification', { value: RecordingNotification });
  });
  const page = await context.newPage();
  await signIn(page, ADMIN);
  await expect(page.getByTestId('task-connection')).toHaveText('Live');
  const id = await startSelfTest(page, 25, 200);
  const item = taskItem(page, id);
  await expect(item.getByTestId('task-state')).toHaveText('Running');

  // Sample aria-valuenow while it runs: it must rise (updates come over the event stream).
  const samples: number[] = [];
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    samples.push(await progressOf(page, id));
    if ((await item.getAttribute('data-state')) === 'succeeded') break;
    await page.waitForTimeout(400);
  }
  const distinct = [...new Set(samples)];
  expect(distinct.length, `progress samples ${samples.join(',')}`).toBeGreaterThanOrEqual(3);
  expect(samples).toEqual([...samples].sort((a, b) => a - b));

  await expect(item.getByTestId('task-state')).toHaveText('Succeeded');
  expect(await progressOf(page, id)).toBe(100);
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { shownNotifications: { title: string }[] }).shownNotifications))
    .toContainEqual(expect.objectContaining({ title: `Task #${id} finished` }));
  await context.close();
});

test('cancel a running task', async ({ page }) => {
  await signIn(page, ADMIN);
  await expect(page.getByTestId('task-connection')).toHaveText('Live');
  const id = await startSelfTest(page, 400, 200);
  const item = taskItem(page, id);
  await expect(item.getByTestId('task-state')).toHaveText('Running');
  await expect.poll(() => progressOf(page, id)).toBeGreaterThan(0);
  await item.getByRole('button', { name: `Cancel task #${id}` }).click();
  await expect(item.getByTestId('task-state')).toHaveText('Cancelled', { timeout: 15_000 });
  await expect(item.getByRole('button', { name: `Cancel task #${id}` })).toHaveCount(0);
  expect(await progressOf(page, id)).toBeLessThan(100);
});

test('a viewer is refused the admin view', async ({ page }) => {
  await signIn(page, VIEWER);
  await expect(nav(page).getByRole('link', { name: 'Tasks' })).toBeVisible();
  await expect(nav(page).getByRole('link', { name: 'Admin' })).toHaveCount(0);
  // Viewers watch tasks but cannot start them.
  await expect(page.getByRole('button', { name: 'Run self-test' })).toHaveCount(0);

  await page.goto('/admin/users');
  await expect(page.getByTestId('not-allowed')).toBeVisible();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Not allowed');
  await expect(page.getByTestId('users-table')).toHaveCount(0);
  // The server refuses the API too, not only the UI.
  const status = await page.evaluate(async () => {
    const session = JSON.parse(sessionStorage.getItem('zk-agent.session.v1') ?? '{}') as { accessToken?: string };
    const response = await fetch('/api/users', { headers: { Authorization: `Bearer ${session.accessToken ?? ''}` } });
    return response.status;
  });
  expect(status).toBe(403);
});

test('keyboard: the skip link reaches the content and every nav entry is a focusable link', async ({ page }) => {
  await signIn(page, ADMIN);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to main content' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('#main')).toBeFocused();

  await nav(page).getByRole('link', { name: 'Settings' }).focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/settings$/);
  // Focus moves to the new view's heading.
  await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeFocused();
});

test('screenshots of the main views in both languages', async ({ browser, request }) => {
  // A finished task to show, whatever ran before.
  const login = await request.post('/api/auth/login', { data: ADMIN });
  const { access_token } = (await login.json()) as { access_token: string };
  const created = await request.post('/api/tasks', {
    headers: { Authorization: `Bearer ${access_token}` },
    data: { kind: 'diagnostics.selftest', payload: { steps: 3, step_ms: 50 } },
  });
  expect(created.status()).toBe(201);
  for (const lang of ['en', 'zh-CN'] as const) {
    const context = await browser.newContext({ locale: lang === 'en' ? 'en-US' : 'zh-CN' });
    const page = await context.newPage();
    const text = TEXT[lang];
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(text.signIn);
    await page.screenshot({ path: path.join(SCREENSHOTS, `sign-in.${lang}.png`) });

    await signIn(page, ADMIN, lang);
    await expect(page.getByTestId('task-connection')).toBeVisible();
    await expect(page.locator('li[data-task-id]').first()).toBeVisible();
    await page.screenshot({ path: path.join(SCREENSHOTS, `tasks.${lang}.png`), fullPage: true });

    await nav(page).getByRole('link', { name: text.admin }).click();
    await expect(page.getByTestId('users-table')).toBeVisible();
    await page.screenshot({ path: path.join(SCREENSHOTS, `admin-users.${lang}.png`), fullPage: true });

    await nav(page).getByRole('link', { name: text.settings }).click();
    await expect(page.getByTestId('server-version')).not.toHaveText('—');
    await page.screenshot({ path: path.join(SCREENSHOTS, `settings.${lang}.png`), fullPage: true });

    await nav(page).getByRole('link', { name: text.cad }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(lang === 'en' ? 'CAD drawings' : 'CAD 图纸');
    await nav(page).getByRole('link', { name: text.posters }).click();
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await page.screenshot({ path: path.join(SCREENSHOTS, `posters-coming-soon.${lang}.png`) });

    // The dark theme of the same views.
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await nav(page).getByRole('link', { name: text.tasks }).click();
    await expect(page.locator('li[data-task-id]').first()).toBeVisible();
    await page.screenshot({ path: path.join(SCREENSHOTS, `tasks.dark.${lang}.png`), fullPage: true });
    await nav(page).getByRole('link', { name: text.settings }).click();
    await expect(page.getByTestId('server-version')).not.toHaveText('—');
    await page.screenshot({ path: path.join(SCREENSHOTS, `settings.dark.${lang}.png`), fullPage: true });
    await context.close();
  }
});
