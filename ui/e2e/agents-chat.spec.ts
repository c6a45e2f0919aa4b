import { expect, test, type Locator, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SCREENSHOTS, apiToken, ensureAgent, modelUrl, nav, signIn, type Lang } from './helpers';
import { ADMIN, VIEWER } from './server';

// Agents and chat against the real server and the model-API double (FastGPT's protocol): the
// double's scenario is picked by the message text (`plain`, `slow`, `interactive`, `cut` …).
const AGENT = 'Design helper';

/** The answers of the open conversation, in order. */
function answers(page: Page): Locator {
  return page.getByTestId('thread').locator('li[data-role="assistant"]');
}

async function openChat(page: Page) {
  await nav(page).getByRole('link', { name: 'Chat' }).click();
  await expect(page.getByLabel('Search conversations')).toBeVisible();
}

async function newConversation(page: Page) {
  await page.getByLabel('Agent', { exact: true }).selectOption({ label: AGENT });
  await page.getByRole('button', { name: 'New conversation' }).click();
  await expect(page).toHaveURL(/\/chat\/[^/]+$/);
  await expect(page.getByTestId('composer')).toBeVisible();
}

async function ask(page: Page, text: string) {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

test.describe.configure({ mode: 'serial' });

test('agents: create with a validation problem shown at its field, edit, history with diff, restore, test, import, export', async ({ page }) => {
  await signIn(page, ADMIN);
  await nav(page).getByRole('link', { name: 'Agents' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Agents' })).toBeVisible();
  // The e2e server keeps keys in an encrypted file (ZK_KEYSTORE=file with a passphrase).
  await expect(page.getByTestId('agents-keystore')).toContainText('Encrypted file');
  await expect(page.getByTestId('agents-keystore')).toContainText('kept safely');
  await page.getByRole('link', { name: 'New agent' }).click();
  await expect(page).toHaveURL(/\/agents\/new$/);

  const form = page.getByTestId('agent-form');
  await form.getByLabel('Name', { exact: true }).fill(AGENT);
  await form.getByLabel('Description').fill('回答层高、规范和配色问题');
  // Not a URL: the server's problem comes back next to the field.
  await form.getByLabel('Base URL').fill('fastgpt.example');
  await form.getByLabel('API key', { exact: true }).fill('fastgpt-good');
  await form.getByRole('button', { name: 'Create agent' }).click();
  await expect(form.getByLabel('Base URL')).toHaveAttribute('aria-invalid', 'true');
  await expect(form.getByText(/is not a URL/)).toBeVisible();
  await expect(page.getByRole('alert').filter({ hasText: 'The agent was not saved' })).toBeVisible();

  await form.getByLabel('Base URL').fill(modelUrl());
  await form.getByRole('button', { name: 'Create agent' }).click();
  await expect(page.getByText(`${AGENT} created.`)).toBeVisible();
  await expect(page).toHaveURL(/\/agents\/\d+$/);
  await expect(page.getByRole('heading', { level: 1, name: `Edit ${AGENT}` })).toBeVisible();
  // Write-only: the key is never shown back.
  await expect(form.getByLabel('API key', { exact: true })).toHaveValue('');
  await expect(form.getByText('Now: Stored.', { exact: false })).toBeVisible();

  // Edit: a second version.
  await form.getByLabel('Temperature').fill('0.3');
  await form.getByLabel('Description').fill('回答层高与规范问题');
  await form.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText(`${AGENT} saved as version 2.`)).toBeVisible();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'agent-editor.en.png'), fullPage: true });

  // History: two versions; the diff between them; restore the first (as version 3).
  await page.getByRole('link', { name: 'History' }).click();
  await expect(page).toHaveURL(/\/agents\/\d+\/history$/);
  const versions = page.getByTestId('versions-table');
  await expect(versions.locator('tbody tr')).toHaveCount(2);
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  const diff = page.getByTestId('diff-table');
  await expect(diff.locator('tr[data-field="parameters.temperature"]')).toContainText('0.3');
  await expect(diff.locator('tr[data-field="description"]')).toContainText('回答层高、规范和配色问题');
  await expect(diff.locator('tr[data-field="description"]')).toContainText('回答层高与规范问题');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'agent-history.en.png'), fullPage: true });
  await page.getByRole('button', { name: 'Restore version 1' }).click();
  await page.getByRole('group', { name: /Make version 1 current again/ }).getByRole('button', { name: 'Restore' }).click();
  await expect(page.getByText('Version 1 restored as version 3.')).toBeVisible();
  await expect(versions.locator('tbody tr')).toHaveCount(3);
  await expect(versions.locator('tr[data-version="3"]')).toContainText('restored version 1');

  // The list: enabled, key stored; test the connection.
  await page.getByRole('link', { name: 'Back to agents' }).click();
  const row = page.getByTestId('agents-table').locator(`tr[data-agent="${AGENT}"]`);
  await expect(row.getByTestId('agent-enabled')).toHaveText('Enabled');
  await expect(row.getByTestId('agent-key')).toHaveText('Stored');
  await expect(row).toContainText('version 3');
  await row.getByRole('button', { name: `Test the connection of ${AGENT}` }).click();
  await expect(page.getByTestId('test-result')).toContainText('Reachable · key accepted');

  // Import: a bad file changes nothing and says where; a good one creates an agent.
  let chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Import file…' }).click();
  await (await chooser).setFiles({
    name: 'bad.toml',
    mimeType: 'text/plain',
    buffer: Buffer.from('name = "Broken"\nprovider = "fastgpt"\nbase_url = "http://127.0.0.1:9"\ntemprature = 3\n'),
  });
  const problems = page.getByTestId('import-problems');
  await expect(problems).toContainText('bad.toml was not imported');
  await expect(problems.locator('code').first()).toHaveText(/^bad\.toml:4/);
  await expect(problems).toContainText('temprature');
  chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Import file…' }).click();
  await (await chooser).setFiles({
    name: 'team.toml',
    mimeType: 'text/plain',
    buffer: Buffer.from(`[[agent]]\nname = "Poster helper"\nkind = "poster"\nprovider = "fastgpt"\nbase_url = "${modelUrl()}"\n`),
  });
  await expect(page.getByTestId('import-report')).toContainText('Poster helper');
  await expect(page.getByTestId('agents-table').locator('tr[data-agent="Poster helper"]')).toBeVisible();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'agents.en.png'), fullPage: true });

  // Export the agent as TOML: a download without its key.
  await row.getByRole('checkbox', { name: `Select ${AGENT} for export` }).check();
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export TOML' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('agents.toml');
  const toml = readFileSync(await file.path(), 'utf8');
  expect(toml).toContain(`name = "${AGENT}"`);
  expect(toml).not.toContain('Poster helper');
  expect(toml).not.toContain('fastgpt-good');
});

test('agents: a viewer sees a read-only list', async ({ page }) => {
  await signIn(page, VIEWER);
  await nav(page).getByRole('link', { name: 'Agents' }).click();
  await expect(page.getByText('creating and changing them needs the admin role')).toBeVisible();
  await expect(page.getByTestId('agents-table').locator(`tr[data-agent="${AGENT}"]`)).toBeVisible();
  await expect(page.getByRole('link', { name: 'New agent' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Delete/ })).toHaveCount(0);
  await page.goto('/agents/new');
  await expect(page.getByTestId('not-allowed')).toBeVisible();
});

test('agents: a FastGPT app’s conversation history is imported as a task and shows up in Chat', async ({ page, request }) => {
  // An agent naming the double's app that has a history.
  const token = await apiToken(request, ADMIN);
  const created = await request.post('/api/agents', {
    headers: { Authorization: `Bearer ${token}` },
    data: {
      spec: { name: 'History app', kind: 'chat', provider: 'fastgpt', base_url: modelUrl(), app_id: 'app-history', parameters: { context_budget: 8000, detail: true, read_idle_secs: 60 }, enabled: true },
      api_key: 'fastgpt-good',
    },
  });
  expect(created.status()).toBe(201);

  await signIn(page, ADMIN);
  await nav(page).getByRole('link', { name: 'Agents' }).click();
  await page.getByRole('button', { name: 'Import the FastGPT conversations of History app' }).click();
  await expect(page.getByText(/Importing the FastGPT conversations of History app as task #\d+/)).toBeVisible();
  await page.getByRole('link', { name: 'Follow it under Tasks' }).click();
  await expect(page.locator('li[data-task-id]').filter({ hasText: 'FastGPT conversation import' }).first().getByTestId('task-state')).toHaveText(
    'Succeeded',
    { timeout: 20_000 },
  );
  await openChat(page);
  await expect(page.getByTestId('conversation-list')).toContainText('幕墙节点讨论');
  await page.getByTestId('conversation-list').getByRole('link').filter({ hasText: '幕墙节点讨论' }).click();
  await expect(page.getByTestId('thread')).toContainText('先确定龙骨间距。');
});

test('chat: an answer streams in with its steps, tool call, quotes and reasoning; edit and resend', async ({ page, request }) => {
  await ensureAgent(request, ADMIN, AGENT);
  await signIn(page, ADMIN);
  await openChat(page);
  await newConversation(page);
  await ask(page, 'plain: what floor height do the rules give?');

  const thread = page.getByTestId('thread');
  await expect(thread.locator('li[data-role="user"]')).toContainText('what floor height');
  const answer = answers(page).first();
  await expect(answer).toHaveAttribute('data-status', 'complete');
  await expect(answer.locator('.markdown')).toHaveText('你好，（引用规范）设计师');
  await expect(answer.getByTestId('steps')).toContainText('AI 对话');
  // The tool call, its parameters merged from pieces, and its response.
  const tool = answer.getByTestId('tool-card');
  await expect(tool).toContainText('查询规范');
  await tool.locator('summary').click();
  await expect(tool).toContainText('"q": "层高"');
  await expect(tool).toContainText('3.2 米');
  // The cited quote and the reasoning (collapsed until opened).
  await expect(answer.getByTestId('quotes')).toContainText('设计规范.pdf');
  const reasoning = answer.getByTestId('reasoning');
  await expect(reasoning.locator('summary')).toHaveText('Reasoning');
  await reasoning.locator('summary').click();
  await expect(reasoning).toContainText('先看需求');
  // The workflow named the conversation.
  await expect(page.getByRole('heading', { level: 1, name: '层高问题' })).toBeVisible();
  await expect(page.getByTestId('conversation-list')).toContainText('层高问题');

  // Edit the question and resend: the answer is rewritten, not duplicated.
  await thread.locator('li[data-role="user"]').getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('Edit the question').fill('plain again, edited');
  await page.getByRole('button', { name: 'Save and resend' }).click();
  await expect(thread.locator('li[data-role="user"]')).toHaveText(/plain again, edited/);
  await expect(answers(page)).toHaveCount(1);
  await expect(answers(page).first()).toHaveAttribute('data-status', 'complete');

  // Regenerate keeps one answer too.
  await answers(page).first().getByRole('button', { name: 'Regenerate' }).click();
  await expect(answers(page).first()).toHaveAttribute('data-status', 'complete');
  await expect(answers(page)).toHaveCount(1);
  await expect(answers(page).first().locator('.markdown')).toHaveText('你好，（引用规范）设计师');
});

test('chat: a slow answer streams in chunk by chunk; stop keeps what arrived, marked stopped', async ({ page, request }) => {
  await ensureAgent(request, ADMIN, AGENT);
  await signIn(page, ADMIN);
  await openChat(page);
  await newConversation(page);
  await ask(page, 'slow answer please');

  const answer = answers(page).first();
  await expect(answer).toHaveAttribute('data-status', 'streaming');
  await expect(answer.locator('.markdown')).toContainText('字2');
  const early = (await answer.locator('.markdown').textContent()) ?? '';
  await expect.poll(async () => ((await answer.locator('.markdown').textContent()) ?? '').length).toBeGreaterThan(early.length);
  await expect(answer).toHaveAttribute('data-status', 'streaming');

  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(answer).toHaveAttribute('data-status', 'stopped');
  await expect(answer.getByTestId('message-status')).toHaveText('Stopped');
  const kept = (await answer.locator('.markdown').textContent()) ?? '';
  expect(kept).toContain('字0');
  expect(kept).not.toContain('字59');
  // Stored that way: a reload shows the same.
  await page.reload();
  await expect(answers(page).first()).toHaveAttribute('data-status', 'stopped');
  await expect(answers(page).first().locator('.markdown')).toHaveText(kept);
  await expect(page.getByRole('button', { name: 'Send' })).toBeVisible();
});

test('chat: files attached with the button or dropped on the conversation go with the message', async ({ page, request }) => {
  await ensureAgent(request, ADMIN, AGENT);
  await signIn(page, ADMIN);
  await openChat(page);
  await newConversation(page);

  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Attach files' }).click();
  await (await chooser).setFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('标准层高 3.2 米') });
  const chips = page.getByRole('list', { name: 'Attachments' });
  await expect(chips.locator('li[data-state="ready"]')).toHaveText(/notes\.txt/);

  const files = await page.evaluateHandle(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['{"width": 1200}'], 'spec.json', { type: 'application/json' }));
    return transfer;
  });
  const pane = page.getByTestId('chat-pane');
  await pane.dispatchEvent('dragover', { dataTransfer: files });
  await pane.dispatchEvent('drop', { dataTransfer: files });
  await expect(chips.locator('li[data-state="ready"]')).toHaveCount(2);

  await ask(page, 'plain, with two files');
  const question = page.getByTestId('thread').locator('li[data-role="user"]');
  await expect(question.getByRole('list', { name: 'Attachments' })).toContainText('notes.txt');
  await expect(question.getByRole('list', { name: 'Attachments' })).toContainText('spec.json');
  await expect(answers(page).first()).toHaveAttribute('data-status', 'complete');
  await expect(page.getByTestId('composer').getByRole('list', { name: 'Attachments' })).toHaveCount(0);
});

test('chat: the workflow’s input form is validated, and answering it continues the workflow', async ({ page, request }) => {
  await ensureAgent(request, ADMIN, AGENT);
  await signIn(page, ADMIN);
  await openChat(page);
  await newConversation(page);
  await ask(page, 'interactive sizing');

  const form = page.getByTestId('interactive');
  await expect(form.getByRole('heading', { name: '填写尺寸' })).toBeVisible();
  const width = form.getByLabel('宽 *');
  await form.getByRole('button', { name: 'Send' }).click();
  await expect(width).toHaveAttribute('aria-invalid', 'true');
  await expect(form.getByText('Required.')).toBeVisible();
  await width.fill('9000');
  await form.getByRole('button', { name: 'Send' }).click();
  await expect(form.getByText('At most 5000.')).toBeVisible();
  await width.fill('1200');
  await form.getByRole('button', { name: 'Send' }).click();

  // The answer to the form is a message of its own, and the workflow answers it.
  const questions = page.getByTestId('thread').locator('li[data-role="user"]');
  await expect(questions).toHaveCount(2);
  await expect(questions.nth(1)).toContainText('Form answer');
  await expect(questions.nth(1)).toContainText('{"width":1200}');
  await expect(answers(page)).toHaveCount(2);
  await expect(answers(page).nth(1)).toHaveAttribute('data-status', 'complete');
  await expect(answers(page).nth(1).locator('.markdown')).toHaveText('你好，（引用规范）设计师');
  await expect(page.getByTestId('interactive')).toHaveCount(0);
});

test('chat: a stream cut mid-answer keeps its text, shows interrupted and retries in place', async ({ page, request }) => {
  await ensureAgent(request, ADMIN, AGENT);
  await signIn(page, ADMIN);
  await openChat(page);
  await newConversation(page);
  await ask(page, 'cut the stream');

  const answer = answers(page).first();
  await expect(answer).toHaveAttribute('data-status', 'interrupted');
  await expect(answer.getByTestId('message-status')).toHaveText('Interrupted');
  await expect(answer.locator('.markdown')).toHaveText('你好，');
  await expect(answer.getByRole('alert')).not.toBeEmpty();
  const retry = answer.getByRole('button', { name: 'Retry' });
  await expect(retry).toBeVisible();
  await retry.click();
  // The same scenario again: interrupted again, still one answer row.
  await expect(answers(page).first()).toHaveAttribute('data-status', 'interrupted');
  await expect(answers(page)).toHaveCount(1);
});

test('chat: search finds a Chinese word in an answer and opens it; export as Markdown', async ({ page, request }) => {
  await ensureAgent(request, ADMIN, AGENT);
  await signIn(page, ADMIN);
  await openChat(page);
  await newConversation(page);
  await ask(page, 'plain words for the search');
  await expect(answers(page).first()).toHaveAttribute('data-status', 'complete');
  const opened = page.url();

  await page.goto('/chat');
  await page.getByLabel('Search conversations').fill('设计师');
  const results = page.getByTestId('search-results');
  await expect(results.locator('mark').first()).toHaveText('设计师');
  await results.getByRole('button').filter({ hasText: '设计师' }).first().click();
  await expect(page).toHaveURL(/\/chat\/[^/]+$/);
  await expect(page.locator('.message-highlighted')).toContainText('设计师');
  await expect(page.locator('.message-highlighted')).toBeFocused();

  await page.goto(opened);
  await expect(answers(page).first()).toHaveAttribute('data-status', 'complete');
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export Markdown' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/\.md$/);
  const markdown = readFileSync(await file.path(), 'utf8');
  expect(markdown).toContain('plain words for the search');
  expect(markdown).toContain('设计师');
});

test('chat: rename, pin and delete a conversation', async ({ page, request }) => {
  await ensureAgent(request, ADMIN, AGENT);
  await signIn(page, ADMIN);
  await openChat(page);
  await newConversation(page);
  await ask(page, 'plain, to be renamed');
  await expect(answers(page).first()).toHaveAttribute('data-status', 'complete');
  const id = /\/chat\/([^/]+)$/.exec(page.url())?.[1] ?? '';
  const item = page.getByTestId('conversation-list').locator(`a[data-conversation-id="${id}"]`);

  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByLabel('Title of the conversation').fill('幕墙节点');
  await page.getByLabel('Title of the conversation').press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: '幕墙节点' })).toBeVisible();
  await expect(item).toContainText('幕墙节点');

  await page.getByRole('button', { name: 'Pin', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Unpin' })).toHaveAttribute('aria-pressed', 'true');
  // Pinned conversations come first.
  await expect(page.getByTestId('conversation-list').locator('a').first()).toHaveAttribute('data-conversation-id', id);
  await expect(item).toContainText('Pinned');

  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('group', { name: 'Delete this conversation and all its messages?' }).getByRole('button', { name: 'Delete' }).click();
  await expect(page).toHaveURL(/\/chat$/);
  await expect(item).toHaveCount(0);
});

test('screenshots of chat and agents in both languages and themes', async ({ browser, request }) => {
  await ensureAgent(request, ADMIN, AGENT);
  const words = {
    en: { chat: 'Chat', agents: 'Agents', search: 'Search conversations' },
    'zh-CN': { chat: '对话', agents: '智能体', search: '搜索会话' },
  } as const;
  for (const lang of ['en', 'zh-CN'] as Lang[]) {
    const context = await browser.newContext({ locale: lang === 'en' ? 'en-US' : 'zh-CN' });
    const page = await context.newPage();
    await signIn(page, ADMIN, lang);
    const text = words[lang];
    await nav(page).getByRole('link', { name: text.chat }).click();
    await expect(page.getByLabel(text.search)).toBeVisible();
    // The first conversation with a finished detailed answer.
    await page.getByTestId('conversation-list').getByRole('link').filter({ hasText: '层高问题' }).first().click();
    const answer = answers(page).first();
    await expect(answer.getByTestId('tool-card')).toBeVisible();
    await answer.getByTestId('reasoning').locator('summary').click();
    await page.screenshot({ path: path.join(SCREENSHOTS, `chat.${lang}.png`) });

    await nav(page).getByRole('link', { name: text.agents }).click();
    await expect(page.getByTestId('agents-table')).toBeVisible();
    await page.screenshot({ path: path.join(SCREENSHOTS, `agents.${lang}.png`), fullPage: true });

    await page.emulateMedia({ colorScheme: 'dark' });
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await page.screenshot({ path: path.join(SCREENSHOTS, `agents.dark.${lang}.png`), fullPage: true });
    await nav(page).getByRole('link', { name: text.chat }).click();
    await page.getByTestId('conversation-list').getByRole('link').filter({ hasText: '层高问题' }).first().click();
    await expect(answers(page).first().getByTestId('tool-card')).toBeVisible();
    await page.screenshot({ path: path.join(SCREENSHOTS, `chat.dark.${lang}.png`) });
    await context.close();
  }
});
