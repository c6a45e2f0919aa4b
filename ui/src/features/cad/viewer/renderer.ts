import { INSTANCE_WORDS, type DecodedScene } from '../scene/decode';
import { ACCENT_RGB, BACKGROUND_RGB, FOREGROUND_RGB, HIGHLIGHT_RGB, inkRgb, rgbUnit, type Background } from './colors';
import { affineMat3, compose, sceneToScreen, viewAffine, viewportAffine, type Affine, type Camera, type ViewSize } from './camera';
import { FLAT_FRAGMENT, FLAT_VERTEX, GLYPH_FRAGMENT, GLYPH_VERTEX } from './shaders';

// The WebGL2 renderer. Geometry is uploaded once per scene, straight from the decoded views (one
// buffer per batch array, one for all glyph corners, one for all glyph instances); the camera, the
// layers shown and the background are uniforms and a small texture, so panning or toggling a layer
// uploads nothing. Frames are drawn on demand (requestRender), never in an idle loop.

/** Segment pairs a layer draws besides its batches (outlines of texts that have no glyphs). */
export interface ExtraLines {
  layer: number;
  lines: Float32Array;
  /** How many texts the lines outline. */
  texts: number;
}

/** What is drawn on top of the drawing, in scene coordinates of the main scene. */
export interface Overlay {
  /** The picked entity's own geometry. */
  highlight: { lines: Float32Array; triangles: Float32Array; boxes: Float32Array } | null;
  /** Search hits as boxes (min x, min y, max x, max y each) and the index of the current one. */
  hits: Float32Array;
  currentHit: number;
  /** The measured points (0, 1 or 2) and the point the pointer snaps to. */
  measure: [number, number][];
  snap: [number, number] | null;
  /** The pointer's scene position while measuring (the line follows it). */
  cursor: [number, number] | null;
}

export const EMPTY_OVERLAY: Overlay = { highlight: null, hits: new Float32Array(), currentHit: -1, measure: [], snap: null, cursor: null };

export interface RenderStats {
  /** Draw calls of the last frame. */
  drawCalls: number;
  /** CPU milliseconds the last frame took to submit. */
  submitMs: number;
  frames: number;
}

interface GpuArray {
  buffer: WebGLBuffer;
  /** Vertices. */
  count: number;
}

interface GpuBatch {
  layer: number;
  ink: number | null;
  lines: GpuArray | null;
  triangles: GpuArray | null;
  points: GpuArray | null;
}

interface GpuScene {
  source: DecodedScene;
  batches: GpuBatch[];
  extra: GpuBatch[];
  glyphVertices: WebGLBuffer | null;
  glyphInstances: WebGLBuffer | null;
}

export interface UploadProgress {
  done: number;
  total: number;
}

type Slot = 'main' | 'model';

function nextTask(): Promise<void> {
  // A macrotask, so that input and painting get their turn between two slices of uploading.
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function compile(gl: WebGL2RenderingContext, vertex: string, fragment: string): WebGLProgram {
  const program = gl.createProgram();
  for (const [type, source] of [
    [gl.VERTEX_SHADER, vertex],
    [gl.FRAGMENT_SHADER, fragment],
  ] as const) {
    const shader = gl.createShader(type);
    if (!shader) throw new Error('WebGL could not create a shader');
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS) && !gl.isContextLost()) {
      throw new Error(`a shader did not compile: ${gl.getShaderInfoLog(shader) ?? 'no log'}`);
    }
    gl.attachShader(program, shader);
  }
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS) && !gl.isContextLost()) {
    throw new Error(`the shaders did not link: ${gl.getProgramInfoLog(program) ?? 'no log'}`);
  }
  return program;
}

/** Thrown when the browser gives no WebGL2 context. */
export class NoWebGlError extends Error {
  constructor() {
    super('this browser or its graphics driver offers no WebGL2');
    this.name = 'NoWebGlError';
  }
}

export class SceneRenderer {
  readonly stats: RenderStats = { drawCalls: 0, submitMs: 0, frames: 0 };
  private readonly canvas: HTMLCanvasElement;
  private gl: WebGL2RenderingContext;
  private flat!: WebGLProgram;
  private glyph!: WebGLProgram;
  private flatVao!: WebGLVertexArrayObject;
  private glyphVao!: WebGLVertexArrayObject;
  private overlayBuffer!: WebGLBuffer;
  private layerTexture!: WebGLTexture;
  private flatUniforms!: { transform: WebGLUniformLocation | null; color: WebGLUniformLocation | null; pointSize: WebGLUniformLocation | null };
  private glyphUniforms!: { transform: WebGLUniformLocation | null; layers: WebGLUniformLocation | null; foreground: WebGLUniformLocation | null };
  private scenes = new Map<Slot, GpuScene>();
  private readonly extraLines = new Map<Slot, ExtraLines[]>();
  private visibility: readonly boolean[] = [];
  private background: Background = 'light';
  private camera: Camera = { x: 0, y: 0, scale: 1 };
  private view: ViewSize = { width: 1, height: 1 };
  private overlay: Overlay = EMPTY_OVERLAY;
  private frameRequested = 0;
  private lost = false;
  private disposed = false;
  /** The load under way per slot; an older one sees it is superseded and stops. */
  private readonly loading = new Map<Slot, object>();
  private readonly onLost: () => void;
  private readonly onRestored: () => void;

  constructor(canvas: HTMLCanvasElement, callbacks: { onLost?: () => void; onRestored?: () => void } = {}) {
    this.canvas = canvas;
    this.onLost = callbacks.onLost ?? (() => undefined);
    this.onRestored = callbacks.onRestored ?? (() => undefined);
    const gl = canvas.getContext('webgl2', { antialias: true, alpha: false, preserveDrawingBuffer: false, powerPreference: 'high-performance' });
    if (!gl) throw new NoWebGlError();
    this.gl = gl;
    this.init();
    canvas.addEventListener('webglcontextlost', this.handleLost);
    canvas.addEventListener('webglcontextrestored', this.handleRestored);
  }

  private init(): void {
    const gl = this.gl;
    this.flat = compile(gl, FLAT_VERTEX, FLAT_FRAGMENT);
    this.glyph = compile(gl, GLYPH_VERTEX, GLYPH_FRAGMENT);
    this.flatUniforms = {
      transform: gl.getUniformLocation(this.flat, 'u_transform'),
      color: gl.getUniformLocation(this.flat, 'u_color'),
      pointSize: gl.getUniformLocation(this.flat, 'u_pointSize'),
    };
    this.glyphUniforms = {
      transform: gl.getUniformLocation(this.glyph, 'u_transform'),
      layers: gl.getUniformLocation(this.glyph, 'u_layers'),
      foreground: gl.getUniformLocation(this.glyph, 'u_foreground'),
    };
    this.flatVao = gl.createVertexArray();
    gl.bindVertexArray(this.flatVao);
    gl.enableVertexAttribArray(0);
    this.glyphVao = gl.createVertexArray();
    gl.bindVertexArray(this.glyphVao);
    for (let location = 0; location <= 4; location++) gl.enableVertexAttribArray(location);
    for (let location = 1; location <= 4; location++) gl.vertexAttribDivisor(location, 1);
    gl.bindVertexArray(null);
    this.overlayBuffer = gl.createBuffer();
    this.layerTexture = gl.createTexture();
    this.writeLayerTexture();
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
  }

  private readonly handleLost = (event: Event) => {
    // Without preventDefault the browser never offers the context back.
    event.preventDefault();
    this.lost = true;
    if (this.frameRequested) cancelAnimationFrame(this.frameRequested);
    this.frameRequested = 0;
    this.onLost();
  };

  private readonly handleRestored = () => {
    if (this.disposed) return;
    this.lost = false;
    this.init();
    const previous = this.scenes;
    this.scenes = new Map();
    // Everything on the GPU is gone: upload the scenes again from the decoded documents we kept.
    void (async () => {
      for (const slot of ['main', 'model'] as const) {
        const scene = previous.get(slot);
        if (scene) await this.load(scene.source, { slot });
      }
      this.onRestored();
      this.requestRender();
    })();
  };

  get canvasElement(): HTMLCanvasElement {
    return this.canvas;
  }

  get contextLost(): boolean {
    return this.lost;
  }

  /**
   * Uploads a decoded scene in slices of about `budgetMs`, yielding between them so that the page
   * stays responsive; resolves when all is on the GPU. `slot` "model" holds the model space shown
   * inside a paper layout's viewports. A newer load (or dispose) abandons this one.
   */
  async load(
    scene: DecodedScene,
    options: { slot?: Slot; budgetMs?: number; onProgress?: (progress: UploadProgress) => void } = {},
  ): Promise<void> {
    const slot = options.slot ?? 'main';
    const budget = options.budgetMs ?? 12;
    const token = {};
    this.loading.set(slot, token);
    const abandoned = () => this.disposed || this.loading.get(slot) !== token;
    const old = this.scenes.get(slot);
    if (old) this.release(old);
    this.scenes.delete(slot);
    const gl = this.gl;
    const arrays: Float32Array[] = [];
    for (const b of scene.batches) arrays.push(b.triangles, b.lines, b.points);
    const total = arrays.reduce((sum, a) => sum + a.byteLength, 0) + scene.glyphs.vertices.byteLength + scene.glyphs.instanceWords.byteLength;
    let done = 0;
    let sliceStart = performance.now();
    const gpu: GpuScene = { source: scene, batches: [], extra: [], glyphVertices: null, glyphInstances: null };
    const upload = async (data: Float32Array | Uint32Array): Promise<WebGLBuffer | null> => {
      if (data.byteLength === 0) return null;
      if (performance.now() - sliceStart > budget) {
        options.onProgress?.({ done, total });
        await nextTask();
        sliceStart = performance.now();
      }
      if (abandoned()) return null;
      const buffer = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
      gl.bufferData(gl.ARRAY_BUFFER, data, gl.STATIC_DRAW);
      done += data.byteLength;
      return buffer;
    };
    const array = async (data: Float32Array, per: number): Promise<GpuArray | null> => {
      const buffer = await upload(data);
      return buffer ? { buffer, count: data.length / per } : null;
    };
    for (const b of scene.batches) {
      gpu.batches.push({
        layer: b.layer,
        ink: b.ink,
        triangles: await array(b.triangles, 2),
        lines: await array(b.lines, 2),
        points: await array(b.points, 2),
      });
      if (abandoned()) break;
    }
    if (!abandoned()) gpu.glyphVertices = await upload(scene.glyphs.vertices);
    if (!abandoned()) gpu.glyphInstances = await upload(scene.glyphs.instanceWords);
    if (abandoned()) {
      this.release(gpu);
      return;
    }
    this.loading.delete(slot);
    this.scenes.set(slot, gpu);
    this.uploadExtra(slot);
    if (slot === 'main' && this.visibility.length !== scene.header.layers.length) {
      this.setVisibility(scene.header.layers.map((l) => l.on && !l.frozen));
    }
    options.onProgress?.({ done: total, total });
    this.requestRender();
  }

  /** Forgets the model space shown in viewports. */
  unload(slot: Slot): void {
    const scene = this.scenes.get(slot);
    if (scene) this.release(scene);
    this.scenes.delete(slot);
    this.requestRender();
  }

  /** Outlines of texts without glyphs, drawn with their layer's colour. */
  setExtraLines(slot: Slot, extra: ExtraLines[]): void {
    this.extraLines.set(slot, extra);
    this.uploadExtra(slot);
    this.requestRender();
  }

  private uploadExtra(slot: Slot): void {
    const scene = this.scenes.get(slot);
    if (!scene) return;
    const gl = this.gl;
    for (const b of scene.extra) if (b.lines) gl.deleteBuffer(b.lines.buffer);
    scene.extra = (this.extraLines.get(slot) ?? []).map((e) => {
      const buffer = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
      gl.bufferData(gl.ARRAY_BUFFER, e.lines, gl.STATIC_DRAW);
      const layer = scene.source.header.layers[e.layer];
      return { layer: e.layer, ink: layer?.color ?? null, lines: { buffer, count: e.lines.length / 2 }, triangles: null, points: null };
    });
  }

  private release(scene: GpuScene): void {
    const gl = this.gl;
    for (const b of [...scene.batches, ...scene.extra]) {
      for (const a of [b.lines, b.triangles, b.points]) if (a) gl.deleteBuffer(a.buffer);
    }
    if (scene.glyphVertices) gl.deleteBuffer(scene.glyphVertices);
    if (scene.glyphInstances) gl.deleteBuffer(scene.glyphInstances);
  }

  setVisibility(visibility: readonly boolean[]): void {
    this.visibility = visibility;
    this.writeLayerTexture();
    this.requestRender();
  }

  /** One texel a layer (1 shown); a row holds 1024 layers. Toggling a layer rewrites only this. */
  private writeLayerTexture(): void {
    const gl = this.gl;
    const n = Math.max(1, this.visibility.length);
    const width = Math.min(1024, n);
    const height = Math.ceil(n / 1024);
    const data = new Uint8Array(width * height);
    this.visibility.forEach((on, i) => (data[i] = on ? 1 : 0));
    gl.bindTexture(gl.TEXTURE_2D, this.layerTexture);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.R8UI, width, height, 0, gl.RED_INTEGER, gl.UNSIGNED_BYTE, data);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
  }

  setBackground(background: Background): void {
    this.background = background;
    this.requestRender();
  }

  setCamera(camera: Camera, view: ViewSize): void {
    this.camera = camera;
    this.view = view;
    this.requestRender();
  }

  setOverlay(overlay: Overlay): void {
    this.overlay = overlay;
    this.requestRender();
  }

  /** Draws one frame at the next animation frame (several requests, one frame). */
  requestRender(): void {
    if (this.frameRequested || this.lost || this.disposed) return;
    this.frameRequested = requestAnimationFrame(() => {
      this.frameRequested = 0;
      this.render();
    });
  }

  /** Draws a frame now and waits for the GPU to finish it; returns the milliseconds (benchmarks). */
  renderAndFinish(): number {
    const started = performance.now();
    this.render();
    const pixel = new Uint8Array(4);
    this.gl.readPixels(0, 0, 1, 1, this.gl.RGBA, this.gl.UNSIGNED_BYTE, pixel);
    return performance.now() - started;
  }

  /** The colour at a CSS pixel of the canvas, drawn afresh (tests): r, g, b, a in 0..255. */
  readPixel(x: number, y: number): [number, number, number, number] {
    this.render();
    const ratio = this.canvas.width / Math.max(1, this.view.width);
    const pixel = new Uint8Array(4);
    const px = Math.min(this.canvas.width - 1, Math.max(0, Math.floor(x * ratio)));
    const py = Math.min(this.canvas.height - 1, Math.max(0, this.canvas.height - 1 - Math.floor(y * ratio)));
    this.gl.readPixels(px, py, 1, 1, this.gl.RGBA, this.gl.UNSIGNED_BYTE, pixel);
    return [pixel[0] ?? 0, pixel[1] ?? 0, pixel[2] ?? 0, pixel[3] ?? 0];
  }

  private resize(): [number, number] {
    const ratio = Math.min(2, window.devicePixelRatio || 1);
    const width = Math.max(1, Math.round(this.view.width * ratio));
    const height = Math.max(1, Math.round(this.view.height * ratio));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    return [width, height];
  }

  render(): void {
    if (this.lost || this.disposed) return;
    const started = performance.now();
    const gl = this.gl;
    const [width, height] = this.resize();
    let calls = 0;
    gl.viewport(0, 0, width, height);
    gl.disable(gl.SCISSOR_TEST);
    const main = this.scenes.get('main');
    const paper = main?.source.header.paperSpace ?? false;
    const background = BACKGROUND_RGB[this.background];
    // Paper space: the sheet lies on a grey desk.
    const [r, g, b] = rgbUnit(paper ? (this.background === 'light' ? 0xc9ccd1 : 0x3a3d42) : background);
    gl.clearColor(r, g, b, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    const view = viewAffine(this.camera, this.view);
    if (main) {
      if (paper) calls += this.drawSheet(main, view);
      calls += this.drawScene(main, view);
      const model = this.scenes.get('model');
      if (paper && model) {
        for (const viewport of main.source.header.viewports) {
          if (!this.scissorTo(viewport.center, viewport.width, viewport.height, width, height)) continue;
          const place = viewportAffine(viewport, model.source.header.origin);
          calls += this.drawScene(model, compose(view, place));
        }
        gl.disable(gl.SCISSOR_TEST);
      }
      calls += this.drawOverlay(view);
    }
    this.stats.drawCalls = calls;
    this.stats.submitMs = performance.now() - started;
    this.stats.frames += 1;
    this.canvas.dataset['frames'] = String(this.stats.frames);
    this.canvas.dataset['drawCalls'] = String(calls);
  }

  /** Limits drawing to a viewport's frame on the sheet; false when it is off screen. */
  private scissorTo(center: readonly [number, number], w: number, h: number, pixelsW: number, pixelsH: number): boolean {
    const [x0, y0] = sceneToScreen(this.camera, this.view, center[0] - w / 2, center[1] + h / 2);
    const [x1, y1] = sceneToScreen(this.camera, this.view, center[0] + w / 2, center[1] - h / 2);
    const rx = pixelsW / this.view.width;
    const ry = pixelsH / this.view.height;
    const left = Math.max(0, Math.floor(x0 * rx));
    const right = Math.min(pixelsW, Math.ceil(x1 * rx));
    const top = Math.max(0, Math.floor(y0 * ry));
    const bottom = Math.min(pixelsH, Math.ceil(y1 * ry));
    if (right <= left || bottom <= top) return false;
    this.gl.enable(this.gl.SCISSOR_TEST);
    this.gl.scissor(left, pixelsH - bottom, right - left, bottom - top);
    return true;
  }

  private useFlat(transform: Affine): void {
    const gl = this.gl;
    gl.useProgram(this.flat);
    gl.bindVertexArray(this.flatVao);
    gl.uniformMatrix3fv(this.flatUniforms.transform, false, affineMat3(transform));
    gl.uniform1f(this.flatUniforms.pointSize, 3);
  }

  private color(rgb: number, alpha = 1): void {
    const [r, g, b] = rgbUnit(rgb);
    this.gl.uniform4f(this.flatUniforms.color, r, g, b, alpha);
  }

  private drawArray(array: GpuArray | null, mode: number): number {
    if (!array) return 0;
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, array.buffer);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 8, 0);
    gl.drawArrays(mode, 0, array.count);
    return 1;
  }

  /** Fills first, then lines, then points, then glyphs, so that lines stay visible over hatches. */
  private drawScene(scene: GpuScene, transform: Affine): number {
    const gl = this.gl;
    let calls = 0;
    this.useFlat(transform);
    const shown = (layer: number) => this.visibility[layer] ?? true;
    const batches = [...scene.batches, ...scene.extra];
    for (const kind of ['triangles', 'lines', 'points'] as const) {
      const mode = kind === 'triangles' ? gl.TRIANGLES : kind === 'lines' ? gl.LINES : gl.POINTS;
      for (const b of batches) {
        const array = b[kind];
        if (!array || !shown(b.layer)) continue;
        this.color(inkRgb(b.ink, this.background));
        calls += this.drawArray(array, mode);
      }
    }
    calls += this.drawGlyphs(scene, transform);
    return calls;
  }

  private drawGlyphs(scene: GpuScene, transform: Affine): number {
    const { glyphs } = scene.source;
    if (!scene.glyphVertices || !scene.glyphInstances || glyphs.runs.length === 0) return 0;
    const gl = this.gl;
    gl.useProgram(this.glyph);
    gl.bindVertexArray(this.glyphVao);
    gl.uniformMatrix3fv(this.glyphUniforms.transform, false, affineMat3(transform));
    const [r, g, b] = rgbUnit(FOREGROUND_RGB[this.background]);
    gl.uniform3f(this.glyphUniforms.foreground, r, g, b);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.layerTexture);
    gl.uniform1i(this.glyphUniforms.layers, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, scene.glyphVertices);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 8, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, scene.glyphInstances);
    const stride = INSTANCE_WORDS * 4;
    let calls = 0;
    for (const run of glyphs.runs) {
      const mesh = glyphs.meshes[run.mesh];
      if (!mesh || mesh.count === 0 || run.count === 0) continue;
      // WebGL2 has no base instance: point the instance attributes at the run's first record.
      const base = run.first * stride;
      gl.vertexAttribPointer(1, 4, gl.FLOAT, false, stride, base);
      gl.vertexAttribPointer(2, 2, gl.FLOAT, false, stride, base + 16);
      gl.vertexAttribIPointer(3, 1, gl.UNSIGNED_INT, stride, base + 24);
      gl.vertexAttribIPointer(4, 1, gl.UNSIGNED_INT, stride, base + 28);
      gl.drawArraysInstanced(gl.TRIANGLES, mesh.first, mesh.count, run.count);
      calls += 1;
    }
    return calls;
  }

  /** The sheet of a paper layout: what it draws, with a margin, on the background colour. */
  private drawSheet(scene: GpuScene, transform: Affine): number {
    const { bounds, origin } = scene.source.header;
    if (!bounds) return 0;
    const x0 = bounds[0] - origin[0];
    const y0 = bounds[1] - origin[1];
    const x1 = bounds[2] - origin[0];
    const y1 = bounds[3] - origin[1];
    const margin = Math.max(x1 - x0, y1 - y0) * 0.02;
    const [a, b, c, d] = [x0 - margin, y0 - margin, x1 + margin, y1 + margin];
    const shadow = margin * 0.4;
    this.useFlat(transform);
    this.color(0x000000, 0.25);
    let calls = this.drawDynamic(Float32Array.of(a + shadow, b - shadow, c + shadow, b - shadow, a + shadow, d - shadow, c + shadow, b - shadow, c + shadow, d - shadow, a + shadow, d - shadow), this.gl.TRIANGLES);
    this.color(BACKGROUND_RGB[this.background]);
    calls += this.drawDynamic(Float32Array.of(a, b, c, b, a, d, c, b, c, d, a, d), this.gl.TRIANGLES);
    return calls;
  }

  private drawDynamic(data: Float32Array, mode: number): number {
    if (data.length === 0) return 0;
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.overlayBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, data, gl.STREAM_DRAW);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 8, 0);
    gl.drawArrays(mode, 0, data.length / 2);
    return 1;
  }

  /**
   * Lines about `px` CSS pixels thick: WebGL draws 1-pixel lines only, so the same lines are drawn
   * again shifted by whole pixels.
   */
  private drawThick(data: Float32Array, view: Affine, px: number): number {
    let calls = 0;
    const ratio = Math.min(2, window.devicePixelRatio || 1);
    const stepX = 2 / Math.max(1, this.view.width * ratio);
    const stepY = 2 / Math.max(1, this.view.height * ratio);
    const n = Math.max(1, Math.round(px * ratio));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const shifted: Affine = [view[0], view[1], view[2], view[3], view[4] + (i - (n - 1) / 2) * stepX, view[5] + (j - (n - 1) / 2) * stepY];
        this.gl.uniformMatrix3fv(this.flatUniforms.transform, false, affineMat3(shifted));
        calls += this.drawDynamic(data, this.gl.LINES);
      }
    }
    this.gl.uniformMatrix3fv(this.flatUniforms.transform, false, affineMat3(view));
    return calls;
  }

  private drawOverlay(view: Affine): number {
    const { highlight, hits, currentHit, measure, snap, cursor } = this.overlay;
    const gl = this.gl;
    let calls = 0;
    this.useFlat(view);
    const pixel = 1 / this.camera.scale;
    const boxLines = (boxes: Float32Array, pad: number, from = 0, to = boxes.length / 4) => {
      const out: number[] = [];
      for (let i = from; i < to; i++) {
        const x0 = (boxes[i * 4] ?? 0) - pad;
        const y0 = (boxes[i * 4 + 1] ?? 0) - pad;
        const x1 = (boxes[i * 4 + 2] ?? 0) + pad;
        const y1 = (boxes[i * 4 + 3] ?? 0) + pad;
        out.push(x0, y0, x1, y0, x1, y0, x1, y1, x1, y1, x0, y1, x0, y1, x0, y0);
      }
      return Float32Array.from(out);
    };
    const square = (x: number, y: number, half: number) => boxLines(Float32Array.of(x, y, x, y), half);

    if (hits.length > 0) {
      this.color(ACCENT_RGB[this.background]);
      calls += this.drawThick(boxLines(hits, 3 * pixel), view, 1);
      if (currentHit >= 0 && currentHit < hits.length / 4) {
        this.color(HIGHLIGHT_RGB[this.background]);
        calls += this.drawThick(boxLines(hits, 4 * pixel, currentHit, currentHit + 1), view, 3);
      }
    }
    if (highlight) {
      this.color(HIGHLIGHT_RGB[this.background], 0.45);
      calls += this.drawDynamic(highlight.triangles, gl.TRIANGLES);
      this.color(HIGHLIGHT_RGB[this.background]);
      calls += this.drawThick(highlight.lines, view, 3);
      if (highlight.boxes.length > 0) calls += this.drawThick(boxLines(highlight.boxes, 2 * pixel), view, 2);
    }
    if (measure.length > 0) {
      const [a] = measure;
      const b = measure[1] ?? cursor;
      this.color(ACCENT_RGB[this.background]);
      if (a && b) calls += this.drawThick(Float32Array.of(a[0], a[1], b[0], b[1]), view, 2);
      for (const p of measure) calls += this.drawThick(square(p[0], p[1], 4 * pixel), view, 2);
    }
    if (snap) {
      this.color(HIGHLIGHT_RGB[this.background]);
      calls += this.drawThick(square(snap[0], snap[1], 6 * pixel), view, 2);
    }
    return calls;
  }

  dispose(): void {
    this.disposed = true;
    if (this.frameRequested) cancelAnimationFrame(this.frameRequested);
    this.canvas.removeEventListener('webglcontextlost', this.handleLost);
    this.canvas.removeEventListener('webglcontextrestored', this.handleRestored);
    for (const scene of this.scenes.values()) this.release(scene);
    this.scenes.clear();
    if (!this.gl.isContextLost()) {
      const gl = this.gl;
      gl.deleteBuffer(this.overlayBuffer);
      gl.deleteTexture(this.layerTexture);
      gl.deleteProgram(this.flat);
      gl.deleteProgram(this.glyph);
      gl.deleteVertexArray(this.flatVao);
      gl.deleteVertexArray(this.glyphVao);
    }
  }
}
