// What the measuring scripts (measure.mjs, cad-measure.mjs) share: Chromium's launch options and a
// `zk-agent serve` of their own on a fresh SQLite database serving ui/dist.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const UI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Debian's Chromium. WebGL2 comes from SwiftShader, the software renderer behind ANGLE: Chromium 156
 * still falls back to it without a GPU, but that fallback is deprecated, so the CAD viewer's tests
 * and measurements ask for it by name.
 */
export const LAUNCH = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--use-angle=swiftshader',
    '--enable-unsafe-swiftshader',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
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

async function waitForHealth(url) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer /api/health within 30 s`);
}

/**
 * Starts `zk-agent serve` (`binary`, or $ZK_AGENT_BIN) with an admin whose password is `password`.
 * `restart()` stops and starts it again on the same data (an empty in-memory cache).
 */
export async function startServer({ binary, password, workers = 1 }) {
  const bin = process.env.ZK_AGENT_BIN ?? binary;
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build it or set ZK_AGENT_BIN`);
  const dir = mkdtempSync(path.join(tmpdir(), 'zk-measure-'));
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    ZK_DATA_DIR: dir,
    DATABASE_URL: `sqlite://${dir}/zk.db`,
    PORT: String(port),
    UI_DIR: path.join(UI, 'dist'),
    TASK_WORKERS: String(workers),
    LOG_LEVEL: 'warn',
  };
  // An account exists, so the page shows sign-in (not first-start setup).
  const made = spawnSync(bin, ['users', 'create', '--username', 'admin', '--role', 'admin', '--password-stdin'], { env, input: `${password}\n` });
  if (made.status !== 0) throw new Error(`users create failed: ${made.stderr}`);
  const log = openSync(path.join(dir, 'server.log'), 'a');
  const url = `http://127.0.0.1:${port}`;
  let child = spawn(bin, ['serve'], { env, stdio: ['ignore', log, log] });
  await waitForHealth(url);
  return {
    url,
    restart: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      child = spawn(bin, ['serve'], { env, stdio: ['ignore', log, log] });
      await waitForHealth(url);
    },
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
