// Time to interactive of the served page in headless Chromium, and the gzip size of the bundle.
//
//   npm run build && node e2e/measure.mjs            (starts its own zk-agent serve on ui/dist)
//   ZK_E2E_BASE_URL=http://127.0.0.1:8080 node e2e/measure.mjs   (measures a running server)
//
// "Interactive" = the sign-in form is rendered with its inputs and button enabled, measured from
// navigation start (performance.timeOrigin) inside the page, polled every animation frame.
import { chromium } from '@playwright/test';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleSizes } from './bundle-size.mjs';

const UI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.MEASURE_RUNS ?? 10);
const LAUNCH = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startServer() {
  const binary =
    process.env.ZK_AGENT_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? '/var/cache/zk-agent/target', 'debug', 'zk-agent');
  if (!existsSync(binary)) throw new Error(`${binary} is missing: build it or set ZK_AGENT_BIN (npm run e2e builds it)`);
  const dir = mkdtempSync(path.join(tmpdir(), 'zk-measure-'));
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    ZK_DATA_DIR: dir,
    DATABASE_URL: `sqlite://${dir}/zk.db`,
    PORT: String(port),
    UI_DIR: path.join(UI, 'dist'),
    TASK_WORKERS: '1',
    LOG_LEVEL: 'warn',
  };
  // An account exists, so the page shows sign-in (not first-start setup).
  const made = spawnSync(binary, ['users', 'create', '--username', 'admin', '--role', 'admin', '--password-stdin'], {
    env,
    input: 'Measure-Passw0rd-1\n',
  });
  if (made.status !== 0) throw new Error(`users create failed: ${made.stderr}`);
  const log = openSync(path.join(dir, 'server.log'), 'a');
  const child = spawn(binary, ['serve'], { env, stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const server = process.env.ZK_E2E_BASE_URL ? { url: process.env.ZK_E2E_BASE_URL, stop: () => undefined } : await startServer();
const browser = await chromium.launch({ headless: true, ...LAUNCH });
const results = [];
try {
  for (let run = 0; run < RUNS + 1; run++) {
    // A new context each time: empty HTTP cache and storage, as a first visit.
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(server.url, { waitUntil: 'commit' });
    const tti = await page.waitForFunction(
      () => {
        const input = document.querySelector('input[name="username"]');
        const button = document.querySelector('form button[type="submit"]');
        return input && !input.disabled && button && !button.disabled ? performance.now() : false;
      },
      null,
      { polling: 'raf', timeout: 15_000 },
    );
    const ms = await tti.jsonValue();
    const nav = await page.evaluate(() => {
      const [entry] = performance.getEntriesByType('navigation');
      return { domContentLoaded: entry.domContentLoadedEventEnd, load: entry.loadEventEnd };
    });
    if (run > 0) results.push({ tti: ms, ...nav }); // the first run warms up Chromium itself
    await context.close();
  }
} finally {
  await browser.close();
  server.stop();
}

const sizes = bundleSizes();
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const fmt = (n) => `${n.toFixed(0)} ms`;
console.log(`time to interactive (navigation start → sign-in form usable), headless Chromium, median of ${RUNS}: ${fmt(median(results.map((r) => r.tti)))}` +
  ` (min ${fmt(Math.min(...results.map((r) => r.tti)))}, max ${fmt(Math.max(...results.map((r) => r.tti)))});` +
  ` DOMContentLoaded ${fmt(median(results.map((r) => r.domContentLoaded)))}`);
console.log(`bundle loaded at start (JS+CSS): ${kib(sizes.initial.raw)} raw, ${kib(sizes.initial.gzip)} gzip; chunks loaded on demand ${kib(sizes.lazy.gzip)} gzip`);
