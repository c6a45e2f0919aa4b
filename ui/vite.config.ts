/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { defineConfig } from 'vite';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

// The API server the dev server forwards /api to (`zk-agent serve`, PORT 8080 by default).
const apiTarget = process.env.ZK_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  define: { __UI_VERSION__: JSON.stringify(pkg.version) },
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  // No React plugin: the built-in transform handles TSX with the automatic runtime (no fast refresh).
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    target: 'es2022',
    sourcemap: false,
    // The Tauri plugins are loaded on demand, in the desktop window only.
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: {
      '/api': {
        target: apiTarget,
        changeOrigin: true,
        // The server refuses state-changing requests from a foreign Origin; the dev server's own
        // origin (localhost:5173) is foreign to it, so the proxy drops the header it would check.
        configure: (proxy) => {
          proxy.on('proxyReq', (request) => {
            request.removeHeader('origin');
          });
        },
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['./src/test/setup.ts'],
    restoreMocks: true,
  },
});
