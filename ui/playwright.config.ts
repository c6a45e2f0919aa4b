import { defineConfig } from '@playwright/test';

// Debian's Chromium (npx playwright install cannot download browsers here), headless, with WebGL2
// from SwiftShader: the launch options live in e2e/measure-support.mjs, shared with the measuring
// scripts.
import { LAUNCH } from './e2e/measure-support.mjs';

export default defineConfig({
  testDir: './e2e',
  testMatch: '*.spec.ts',
  globalSetup: './e2e/global-setup.ts',
  // One server, two shared CPU cores: run the tests one after the other.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    // Set by the global setup before the workers start.
    baseURL: process.env.ZK_E2E_BASE_URL,
    headless: true,
    locale: 'en-US',
    viewport: { width: 1280, height: 800 },
    launchOptions: LAUNCH,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
