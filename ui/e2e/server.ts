import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const UI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(UI_DIR, '..');

export const ADMIN = { username: 'admin', password: 'Adm1n-e2e-Passw0rd' };
export const VIEWER = { username: 'vera', password: 'Vera-e2e-Passw0rd' };

const TARGET = process.env.CARGO_TARGET_DIR ?? '/var/cache/zk-agent/target';

/**
 * The binaries the browser tests run: `zk-agent` ($ZK_AGENT_BIN) and the model-API double
 * ($ZK_MODEL_DOUBLE_BIN), else the debug builds in $CARGO_TARGET_DIR. scripts/test.sh builds both
 * (`cargo build --workspace --all-targets`); when one is missing, one cargo call builds the two.
 */
function binaries(): { agent: string; double: string } {
  const agent = process.env.ZK_AGENT_BIN ?? path.join(TARGET, 'debug', 'zk-agent');
  const double = process.env.ZK_MODEL_DOUBLE_BIN ?? path.join(TARGET, 'debug', 'model-double');
  if (!existsSync(agent) || !existsSync(double)) {
    const args = ['build', '-p', 'zk-server', '-p', 'zk-tests', '--bin', 'zk-agent', '--bin', 'model-double'];
    console.log(`[e2e] ${existsSync(agent) ? double : agent} is missing; building (cargo ${args.join(' ')})`);
    const build = spawnSync('cargo', args, { cwd: REPO, stdio: 'inherit', env: { ...process.env, CARGO_TARGET_DIR: TARGET } });
    if (build.status !== 0) throw new Error(`cargo build failed (exit ${String(build.status)})`);
  }
  return { agent, double };
}

/** The `zk-agent` binary. */
export function agentBinary(): string {
  return binaries().agent;
}

export interface RunningDouble {
  /** e.g. http://127.0.0.1:40123: the FastGPT and OpenAI-compatible APIs of the double. */
  baseUrl: string;
  stop: () => Promise<void>;
}

/**
 * Starts the model-API double (tests/support/model_double.rs): FastGPT's protocol on 127.0.0.1, the
 * scenario picked by the message text (`plain`, `slow`, `interactive`, `cut` …); it prints its base
 * URL on the first line of stdout.
 */
export async function startModelDouble(): Promise<RunningDouble> {
  const child = spawn(binaries().double, [], { stdio: ['ignore', 'pipe', 'inherit'] });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the model double printed no address within 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`the model double exited with ${String(code)}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        clearTimeout(timer);
        resolve(line.trim());
      }
    });
  });
  return {
    baseUrl,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  baseUrl: string;
  dataDir: string;
  /** What the server printed so far (stdout and stderr). */
  log: () => string;
  process: ChildProcess;
  stop: () => Promise<void>;
}

/**
 * Starts `zk-agent serve` on a fresh SQLite database in a temporary data directory, serving
 * ui/dist, with an admin and a viewer made by the CLI beforehand. A clean environment: nothing of
 * the developer's configuration leaks in. `embeddedUi` serves the UI built into the binary instead,
 * run from the data directory as from any folder.
 */
export async function startServer(
  options: { uiDir?: string; users?: boolean; embeddedUi?: boolean } = {},
): Promise<RunningServer> {
  const binary = agentBinary();
  const uiDir = options.uiDir ?? path.join(UI_DIR, 'dist');
  if (!options.embeddedUi && !existsSync(path.join(uiDir, 'index.html'))) {
    throw new Error(`no UI build in ${uiDir}: run npm run build`);
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'zk-e2e-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dataDir,
    ZK_DATA_DIR: dataDir,
    DATABASE_URL: `sqlite://${dataDir}/zk.db`,
    PORT: String(port),
    ...(options.embeddedUi ? {} : { UI_DIR: uiDir }),
    TASK_WORKERS: '2',
    LOG_LEVEL: 'warn',
    // Agents' keys in an encrypted file of this run: the tests do not depend on a session keychain.
    ZK_KEYSTORE: 'file',
    ZK_KEYSTORE_PASSPHRASE: 'browser tests keep their keys here',
  };
  const users = options.users === false ? [] : ([[ADMIN, 'admin'], [VIEWER, 'viewer']] as const);
  for (const [user, role] of users) {
    const created = spawnSync(binary, ['users', 'create', '--username', user.username, '--role', role, '--password-stdin'], {
      env,
      input: `${user.password}\n`,
      encoding: 'utf8',
    });
    if (created.status !== 0) throw new Error(`users create ${user.username} failed: ${created.stderr}`);
  }
  const log = openSync(path.join(dataDir, 'server.log'), 'a');
  const child = spawn(binary, ['serve'], { env, cwd: dataDir, stdio: ['ignore', log, log] });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`zk-agent serve exited with ${child.exitCode}; see ${dataDir}/server.log`);
    try {
      const response = await fetch(`${baseUrl}/api/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`zk-agent serve did not answer within 30 s; see ${dataDir}/server.log`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    baseUrl,
    dataDir,
    log: () => readFileSync(path.join(dataDir, 'server.log'), 'utf8'),
    process: child,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        // exitCode is set asynchronously by the exit event, which TypeScript's narrowing cannot see.
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      if (!process.env.ZK_E2E_KEEP) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
