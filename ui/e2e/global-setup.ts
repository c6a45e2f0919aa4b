import { startModelDouble, startServer } from './server';

/**
 * Starts one server and one model-API double for the whole run; their addresses reach the tests
 * through the environment (ZK_E2E_BASE_URL, ZK_E2E_MODEL_URL).
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const double = await startModelDouble();
  process.env.ZK_E2E_MODEL_URL = double.baseUrl;
  console.log(`[e2e] model double on ${double.baseUrl}`);
  let server;
  try {
    server = await startServer();
  } catch (error) {
    await double.stop();
    throw error;
  }
  process.env.ZK_E2E_BASE_URL = server.baseUrl;
  console.log(`[e2e] zk-agent serve on ${server.baseUrl}, data in ${server.dataDir}`);
  return async () => {
    await server.stop();
    await double.stop();
  };
}
