import { startServer } from './server';

/** Starts one server for the whole run; its address reaches the tests through the environment. */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const server = await startServer();
  process.env.ZK_E2E_BASE_URL = server.baseUrl;
  console.log(`[e2e] zk-agent serve on ${server.baseUrl}, data in ${server.dataDir}`);
  return server.stop;
}
