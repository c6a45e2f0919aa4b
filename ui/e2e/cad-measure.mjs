// The CAD viewer on a large drawing in headless Chromium (WebGL2 on SwiftShader, software): time to
// first picture, main-thread blocking while it loads, frame time and draw calls while panning, and
// how long picks take. See bench/README.md ("CAD viewer") for the figures and how they were taken.
//
//   python3 ../shared/cad-corpus/make_big.py /tmp/big.dxf            # once, about 80 s
//   cargo build --release -p zk-server --bin zk-agent
//   npm run build && node e2e/cad-measure.mjs /tmp/big.dxf          # starts its own release server
//
// Environment: ZK_AGENT_BIN (default $CARGO_TARGET_DIR/release/zk-agent), MEASURE_RUNS (opens of the
// drawing, default 5; each after a reload of the page), CHROMIUM_PATH.
//
// "First picture" = the click on the drawing's card in the library → the first frame submitted to
// WebGL (the canvas's data-first-frame-at, performance.now() in the page), → the next animation frame
// after it (that frame is on screen), and → the whole picture on screen (data-picture-at: a large
// drawing is drawn a budget of primitives a frame on software WebGL). It includes the scene request
// (the server reads and tessellates the DXF unless its cache holds the drawing), the download,
// decoding, the upload to the GPU and the drawing. The first open after the server starts is
// reported apart ("cold").
import { chromium } from '@playwright/test';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LAUNCH, median, startServer } from './measure-support.mjs';

const DRAWING = process.argv[2] ?? '/tmp/big.dxf';
const RUNS = Number(process.env.MEASURE_RUNS ?? 5);
const PASSWORD = 'Measure-Passw0rd-1';
const BINARY = path.join(process.env.CARGO_TARGET_DIR ?? '/var/cache/zk-agent/target', 'release', 'zk-agent');

if (!existsSync(DRAWING)) throw new Error(`${DRAWING} is missing: python3 ../shared/cad-corpus/make_big.py ${DRAWING}`);

const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
const ms = (n) => `${Math.round(n)} ms`;

const server = await startServer({ binary: BINARY, password: PASSWORD });
const browser = await chromium.launch({ headless: true, ...LAUNCH });
try {
  // Import the drawing through the API (not measured).
  const login = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  const { access_token: token } = await login.json();
  const name = path.basename(DRAWING);
  const started = performance.now();
  const uploaded = await fetch(`${server.url}/api/cad/drawings?name=${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' },
    body: readFileSync(DRAWING),
  });
  if (uploaded.status !== 201) throw new Error(`upload answered ${uploaded.status}: ${await uploaded.text()}`);
  const drawing = await uploaded.json();
  console.log(`imported ${name} (${(statSync(DRAWING).size / 1e6).toFixed(0)} MB, ${drawing.entityCount} entities) in ${ms(performance.now() - started)}`);

  // The scene alone, over HTTP: the server's part (read + tessellate + encode, or its cache) and the bytes.
  const sceneTimes = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const response = await fetch(`${server.url}/api/cad/drawings/${drawing.id}/scene`, { headers: { Authorization: `Bearer ${token}` } });
    const t1 = performance.now();
    const bytes = (await response.arrayBuffer()).byteLength;
    sceneTimes.push({ ttfb: t1 - t0, total: performance.now() - t0, bytes });
  }
  console.log(
    `scene over HTTP (curl-like, no browser): ${(sceneTimes[0].bytes / 1e6).toFixed(1)} MB; time to first byte ${sceneTimes.map((s) => ms(s.ttfb)).join(', ')}; whole ${sceneTimes.map((s) => ms(s.total)).join(', ')}`,
  );

  const page = await (await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } })).newPage();
  const renderer = await page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    return gl ? gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) : 'no WebGL2';
  });
  console.log(`WebGL2: ${renderer}`);
  await page.goto(server.url);
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'CAD', exact: true }).waitFor();

  /** Opens the drawing from the library once; returns the page's own timings. */
  const open = async () => {
    await page.goto(`${server.url}/cad`);
    const link = page.getByTestId('cad-card').filter({ hasText: name }).first().getByRole('link', { name, exact: true });
    await link.waitFor();
    await page.evaluate(() => {
      // Long tasks (> 50 ms on the main thread) while the drawing loads.
      window.__longTasks = [];
      new PerformanceObserver((list) => window.__longTasks.push(...list.getEntries().map((e) => e.duration))).observe({ type: 'longtask', buffered: false });
      document.addEventListener('click', () => (window.__clickAt = performance.now()), { capture: true, once: true });
    });
    await link.click();
    const shown = await page.waitForFunction(
      () => {
        const canvas = document.querySelector('[data-testid="cad-canvas"]');
        return canvas?.dataset.firstFrameAt ? performance.now() : false;
      },
      null,
      { polling: 'raf', timeout: 120_000 },
    );
    const onScreen = await shown.jsonValue();
    await page.waitForFunction(() => document.querySelector('[data-testid="cad-canvas"]')?.dataset.pictureAt, null, { timeout: 120_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="cad-canvas"]')?.dataset.indexReady === 'true', null, { timeout: 120_000 });
    const indexAt = await page.evaluate(() => performance.now());
    await page.waitForFunction(() => document.querySelector('[data-testid="cad-canvas"]')?.dataset.treesReady === 'true', null, { timeout: 120_000 });
    const treesAt = await page.evaluate(() => performance.now());
    const result = await page.evaluate((visible) => {
      const canvas = document.querySelector('[data-testid="cad-canvas"]');
      const d = canvas.dataset;
      const clickAt = window.__clickAt;
      return {
        firstFrame: Number(d.firstFrameAt) - clickAt,
        onScreen: visible - clickAt,
        picture: Number(d.pictureAt) - clickAt,
        trees: Number(d.treesMs),
        download: Number(d.downloadMs),
        indexDecode: Number(d.indexDecodeMs),
        indexBuild: Number(d.indexBuildMs),
        longTasks: window.__longTasks,
        status: document.querySelector('[data-testid="cad-status"]')?.textContent ?? '',
      };
    }, onScreen);
    return { ...result, treesUploaded: treesAt - indexAt };
  };

  // Cold: the server has just started, so the scene request reads and tessellates the DXF.
  await server.restart();
  const cold = await open();
  const warm = [];
  for (let run = 0; run < RUNS; run++) warm.push(await open());
  const line = (label, r) =>
    `${label}: first frame ${ms(r.firstFrame)} after the click (on screen by ${ms(r.onScreen)}), whole picture ${ms(r.picture)}; scene request + download ${ms(r.download)}; ` +
    `in the worker: decode ${ms(r.indexDecode)}, grid ${ms(r.indexBuild)}, trees ${ms(r.trees)} (on the GPU ${ms(r.treesUploaded)} after the index); main-thread long tasks until the index is ready: ${r.longTasks.length}, longest ${ms(Math.max(0, ...r.longTasks))}, total ${ms(r.longTasks.reduce((a, b) => a + b, 0))}`;
  console.log(line('cold (server just started)', cold));
  warm.forEach((r, i) => console.log(line(`warm ${i + 1}`, r)));
  console.log(
    `warm median: first frame ${ms(median(warm.map((r) => r.firstFrame)))}, on screen ${ms(median(warm.map((r) => r.onScreen)))}, whole picture ${ms(median(warm.map((r) => r.picture)))}`,
  );
  console.log(`status line: ${warm.at(-1).status}`);

  // Frames, each drawn and waited for (readPixels of one pixel): while the camera moves (the last
  // finished picture is moved), the whole picture, the budgeted frames that draw it once the camera
  // rests, and zoomed in on a few rooms (drawn straight to the screen).
  const frames = await page.evaluate(async () => {
    const hook = document.querySelector('[data-testid="cad-canvas"]').zkViewer;
    const sleep = (t) => new Promise((r) => setTimeout(r, t));
    hook.fit();
    hook.renderAndFinish(true);
    const moving = [];
    for (let i = 0; i < 40; i++) {
      hook.panBy(7, 3);
      moving.push({ ms: hook.renderAndFinish(), calls: hook.stats().drawCalls });
    }
    const whole = [];
    for (let i = 0; i < 3; i++) {
      hook.panBy(40, 0);
      whole.push({ ms: hook.renderAndFinish(true), calls: hook.stats().pictureCalls });
    }
    hook.panBy(-60, 0);
    await sleep(250);
    const resting = [];
    do resting.push({ ms: hook.renderAndFinish(), calls: hook.stats().drawCalls });
    while (hook.stats().progress < 1 && resting.length < 500);
    hook.fit();
    hook.zoom(60);
    await sleep(250);
    hook.renderAndFinish(true);
    const zoomed = [];
    for (let i = 0; i < 20; i++) {
      hook.panBy(5, 2);
      zoomed.push({ ms: hook.renderAndFinish(true), calls: hook.stats().drawCalls, progressive: hook.stats().progressive });
    }
    return { moving, whole, resting, zoomed };
  });
  const summary = (list) => {
    const values = list.map((f) => f.ms);
    return `median ${ms(median(values))}, p90 ${ms(quantile(values, 0.9))}, max ${ms(Math.max(...values))}`;
  };
  console.log(`frames while the camera moves (the last picture moved; 40 frames): ${summary(frames.moving)}; draw calls ${frames.moving[0].calls}`);
  console.log(`the whole picture at the fitted view (3 times): ${summary(frames.whole)}; draw calls ${frames.whole[0].calls}`);
  console.log(
    `once the camera rests: ${frames.resting.length} budgeted frames finish the picture, ${summary(frames.resting)}; total ${ms(frames.resting.reduce((a, f) => a + f.ms, 0))}`,
  );
  console.log(
    `zoomed in 60× (a few rooms), panning (20 frames): ${summary(frames.zoomed)}; draw calls ${frames.zoomed[0].calls}; ${frames.zoomed[0].progressive ? 'progressive' : 'straight to the screen'}`,
  );

  // Dragging with the mouse for 3 s: frames the page actually drew (the render loop runs on demand).
  const box = await page.getByTestId('cad-canvas').boundingBox();
  const before = await page.evaluate(() => ({ frames: document.querySelector('[data-testid="cad-canvas"]').zkViewer.stats().frames, at: performance.now() }));
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  const dragStart = performance.now();
  let step = 0;
  while (performance.now() - dragStart < 3000) {
    step += 1;
    await page.mouse.move(box.x + box.width / 2 + 150 * Math.sin(step / 10), box.y + box.height / 2 + 100 * Math.cos(step / 10));
  }
  await page.mouse.up();
  const after = await page.evaluate(() => ({ frames: document.querySelector('[data-testid="cad-canvas"]').zkViewer.stats().frames, at: performance.now() }));
  const fps = ((after.frames - before.frames) / (after.at - before.at)) * 1000;
  console.log(`dragging for 3 s: ${step} pointer moves, ${after.frames - before.frames} frames drawn, ${fps.toFixed(1)} frames/s (${ms(1000 / fps)} a frame)`);

  // Idle: no frames are drawn when nothing changes.
  const idle = await page.evaluate(async () => {
    const hook = document.querySelector('[data-testid="cad-canvas"]').zkViewer;
    const start = hook.stats().frames;
    await new Promise((r) => setTimeout(r, 2000));
    return hook.stats().frames - start;
  });
  console.log(`idle for 2 s: ${idle} frames drawn`);

  // Picking: a click's worker round trip (grid query) and the picked entity's geometry for the highlight.
  const picks = await page.evaluate(async () => {
    const canvas = document.querySelector('[data-testid="cad-canvas"]');
    const out = [];
    for (let i = 0; i < 10; i++) out.push(await canvas.zkViewer.pick(100 + i * 97, 120 + i * 51));
    return out;
  });
  console.log(`pick (click → entity and its highlight geometry from the worker): median ${ms(median(picks))}, max ${ms(Math.max(...picks))}`);
} finally {
  await browser.close();
  server.stop();
}
