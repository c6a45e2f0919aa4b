// Time to interactive of the served page in headless Chromium, and the gzip size of the bundle.
//
//   npm run build && node e2e/measure.mjs            (starts its own zk-agent serve on ui/dist)
//   ZK_E2E_BASE_URL=http://127.0.0.1:8080 node e2e/measure.mjs   (measures a running server)
//
// "Interactive" = the sign-in form is rendered with its inputs and button enabled, measured from
// navigation start (performance.timeOrigin) inside the page, polled every animation frame.
import { chromium } from '@playwright/test';
import path from 'node:path';
import { bundleSizes } from './bundle-size.mjs';
import { LAUNCH, median, startServer } from './measure-support.mjs';

const RUNS = Number(process.env.MEASURE_RUNS ?? 10);
const BINARY = path.join(process.env.CARGO_TARGET_DIR ?? '/var/cache/zk-agent/target', 'debug', 'zk-agent');

const server = process.env.ZK_E2E_BASE_URL
  ? { url: process.env.ZK_E2E_BASE_URL, stop: () => undefined }
  : await startServer({ binary: BINARY, password: 'Measure-Passw0rd-1' });
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
