// From `zk-agent serve` to the first painted page: the binary alone (its built-in UI, no UI_DIR),
// started from an empty folder on a new database, as a new operator runs it; a browser already open
// asks for the page as soon as the server answers, and the time ends at the page's first contentful
// paint. Also the parts: start → first answer of /api/health, and navigation → first contentful paint.
//
//   node e2e/first-paint.mjs /path/to/release/zk-agent        (MEASURE_RUNS=5 by default)
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LAUNCH, median } from './measure-support.mjs';

const binary = process.argv[2] ?? process.env.ZK_AGENT_BIN;
if (!binary) throw new Error('usage: node e2e/first-paint.mjs /path/to/zk-agent');
const RUNS = Number(process.env.MEASURE_RUNS ?? 5);
const PORT = 38000 + Math.floor(Math.random() * 1000);

const browser = await chromium.launch({ headless: true, ...LAUNCH });
const rows = [];
try {
  for (let run = 0; run < RUNS + 1; run++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'zk-first-paint-'));
    const url = `http://127.0.0.1:${PORT}`;
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    const started = performance.now();
    const child = spawn(binary, ['serve'], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, ZK_DATA_DIR: dir, PORT: String(PORT), LOG_LEVEL: 'warn', TASK_WORKERS: '1' },
      stdio: 'ignore',
    });
    try {
      let answered = null;
      while (answered === null) {
        try {
          if ((await fetch(`${url}/api/health`)).ok) answered = performance.now() - started;
        } catch {
          await new Promise((r) => setTimeout(r, 5));
        }
        if (performance.now() - started > 30_000) throw new Error('zk-agent serve did not answer within 30 s');
      }
      const navigated = performance.now();
      await page.goto(url, { waitUntil: 'commit' });
      const paint = await page.waitForFunction(
        () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? false,
        null,
        { polling: 'raf', timeout: 15_000 },
      );
      const fcp = await paint.jsonValue();
      // The page's clock starts at its navigation; ours at the spawn.
      const total = navigated - started + fcp;
      if (run > 0) rows.push({ answered, fcp, total }); // the first run warms the disk cache
    } finally {
      child.kill('SIGTERM');
      await context.close();
      await new Promise((r) => setTimeout(r, 300));
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  await browser.close();
}
const ms = (v) => `${v.toFixed(0)} ms`;
console.log(`${binary}, ${RUNS} runs (medians):`);
console.log(`  start → /api/health answers: ${ms(median(rows.map((r) => r.answered)))}`);
console.log(`  navigation → first contentful paint: ${ms(median(rows.map((r) => r.fcp)))}`);
console.log(`  zk-agent serve → first painted page: ${ms(median(rows.map((r) => r.total)))}`);
