import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });

export type Lang = 'en' | 'zh-CN';

const SIGN_IN = {
  en: { user: 'User name', password: 'Password', submit: 'Sign in', tasks: 'Tasks' },
  'zh-CN': { user: '用户名', password: '密码', submit: '登录', tasks: '任务' },
} as const;

export async function signIn(page: Page, who: { username: string; password: string }, lang: Lang = 'en') {
  const text = SIGN_IN[lang];
  await page.goto('/');
  await page.getByLabel(text.user).fill(who.username);
  await page.getByLabel(text.password, { exact: true }).fill(who.password);
  await page.getByRole('button', { name: text.submit }).click();
  await expect(nav(page).getByRole('link', { name: text.tasks })).toBeVisible();
}

export function nav(page: Page) {
  return page.getByRole('navigation', { name: /Main|主导航/ });
}

/** The model-API double the global setup started. */
export function modelUrl(): string {
  const url = process.env.ZK_E2E_MODEL_URL;
  if (!url) throw new Error('ZK_E2E_MODEL_URL is not set: the global setup starts the model double');
  return url;
}

export async function apiToken(request: APIRequestContext, who: { username: string; password: string }): Promise<string> {
  const login = await request.post('/api/auth/login', { data: who });
  expect(login.status()).toBe(200);
  return ((await login.json()) as { access_token: string }).access_token;
}

export interface AgentLike {
  id: number;
  spec: { name: string };
}

/**
 * The agent a chat test talks to: a FastGPT agent on the double with a working key. Made through
 * the API when the agents test (which makes one through the UI) has not run.
 */
export async function ensureAgent(
  request: APIRequestContext,
  admin: { username: string; password: string },
  name: string,
): Promise<AgentLike> {
  const token = await apiToken(request, admin);
  const headers = { Authorization: `Bearer ${token}` };
  const list = (await (await request.get('/api/agents', { headers })).json()) as (AgentLike & { spec: { enabled: boolean } })[];
  const found = list.find((agent) => agent.spec.name === name && agent.spec.enabled);
  if (found) return found;
  const created = await request.post('/api/agents', {
    headers,
    data: {
      spec: { name, kind: 'chat', provider: 'fastgpt', base_url: modelUrl(), parameters: { context_budget: 8000, detail: true, read_idle_secs: 5 }, enabled: true },
      api_key: 'fastgpt-good',
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  return (await created.json()) as AgentLike;
}
