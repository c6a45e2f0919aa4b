// Gzip size of the built UI (ui/dist/assets): what the browser loads at start, and the chunks loaded
// on demand (the chat and agents views, the Markdown renderer, KaTeX for math, and the Tauri plugins
// that only the desktop window loads). Usage: node e2e/bundle-size.mjs [--json]
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');

export function bundleSizes() {
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  // Files index.html loads directly are the start-up bundle; the rest are loaded on demand.
  const initial = new Set([...html.matchAll(/(?:src|href)="\/assets\/([^"]+)"/g)].map((m) => m[1]));
  const files = readdirSync(path.join(dist, 'assets'))
    .filter((name) => /\.(js|css)$/.test(name))
    .map((name) => {
      const bytes = readFileSync(path.join(dist, 'assets', name));
      return { name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, initial: initial.has(name) };
    });
  const sum = (list, key) => list.reduce((total, file) => total + file[key], 0);
  const start = files.filter((f) => f.initial);
  const lazy = files.filter((f) => !f.initial);
  return {
    files,
    initial: { raw: sum(start, 'raw'), gzip: sum(start, 'gzip') },
    lazy: { raw: sum(lazy, 'raw'), gzip: sum(lazy, 'gzip') },
    total: { raw: sum(files, 'raw'), gzip: sum(files, 'gzip') },
  };
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = bundleSizes();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(sizes, null, 2));
  } else {
    for (const f of sizes.files) {
      console.log(`${f.initial ? 'start' : 'lazy '}  ${f.name.padEnd(32)} ${kib(f.raw).padStart(10)}  gzip ${kib(f.gzip).padStart(9)}`);
    }
    console.log(`bundle (JS+CSS loaded at start): ${kib(sizes.initial.raw)}, gzip ${kib(sizes.initial.gzip)}`);
    console.log(`chunks loaded on demand: gzip ${kib(sizes.lazy.gzip)}; all JS+CSS: gzip ${kib(sizes.total.gzip)}`);
  }
}
