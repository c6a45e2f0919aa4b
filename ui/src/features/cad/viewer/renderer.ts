import { INSTANCE_WORDS, type DecodedScene } from '../scene/decode';
import { ACCENT_RGB, BACKGROUND_RGB, FOREGROUND_RGB, HIGHLIGHT_RGB, inkRgb, rgbUnit, type Background } from './colors';
import {
  affineMat3,
  clipRectInScene,
  compose,
  sceneToScreen,
  viewAffine,
  viewportAffine,
  visibleBounds,
  type Affine,
  type Camera,
  type ViewSize,
} from './camera';
import { PIECE_INSTANCES, PIECE_PRIMITIVES, glyphPiece, meshReach, overlaps, pieceBounds, type Rect } from './chunks';
import { visibleRanges, type ArrayTree, type GlyphTrees } from './quadtree';
import { FLAT_FRAGMENT, FLAT_VERTEX, GLYPH_FRAGMENT, GLYPH_VERTEX, IMAGE_FRAGMENT, IMAGE_VERTEX } from './shaders';

// The WebGL2 renderer. Geometry is uploaded once per scene, straight from the decoded views (one
// buffer per batch array, one for all glyph corners, one for all glyph instances); the camera, the
// layers shown and the background are uniforms and a small texture, so panning or toggling a layer
// uploads nothing. Frames are drawn on demand (requestRender), never in an idle loop.
//
// Every array is cut into pieces with bounds (chunks.ts): a frame draws the pieces in view, and
// skips glyphs smaller than a pixel. A scene larger than DIRECT_LIMIT primitives in view is drawn
// progressively into an offscreen picture, a budget of primitives a frame (software WebGL draws
// about a million segments a second); while the camera moves, the last finished picture is shown
// moved and scaled, and the new one is drawn once the camera rests.

/** Segment pairs a layer draws besides its batches (outlines of texts that have no glyphs). */
export interface ExtraLines {
  layer: number;
  lines: Float32Array;
  /** How many texts the lines outline. */
  texts: number;
  /** Per piece: first vertex, vertex count, min x, min y, max x, max y, its tallest text's height. */
  pieces: Float32Array;
}

/** Fields of a piece in `ExtraLines.pieces`. */
export const EXTRA_FIELDS = 7;

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
  /** The scene is drawn progressively (large), and how much of the current picture is drawn (0..1). */
  progressive: boolean;
  progress: number;
  /** Draw calls of the whole picture (pieces in view, the sheet). */
  pictureCalls: number;
}

/**
 * Primitives in view up to which a frame draws everything straight to the screen, and the budget a
 * frame spends on a progressive picture: software WebGL (about a million segments a second on this
 * project's machines), and a real GPU (where even the 2 M-segment drawing is one frame).
 */
const DIRECT_LIMIT = { software: 100_000, hardware: 4_000_000 };
const BUDGET = { software: 100_000, hardware: 8_000_000 };
/** The camera is "moving" this long after its last change: the picture is moved, not redrawn. */
const SETTLE_MS = 150;
/** Glyphs smaller than this on screen (CSS pixels per em) are not drawn. */
const MIN_GLYPH_PIXELS = 0.75;

type Kind = 'triangles' | 'lines' | 'points';

/** A range of one GL buffer with its bounds: the unit of culling and of progressive drawing. */
interface FlatPiece {
  kind: Kind;
  /** Index of its batch in the scene (-1: text outlines). */
  batch: number;
  layer: number;
  ink: number | null;
  buffer: WebGLBuffer;
  /** With an element buffer (a spatial order), `first` and `count` count its indices, else vertices. */
  elements: WebGLBuffer | null;
  first: number;
  count: number;
  bounds: Rect;
  cost: number;
  /** Outlines of texts: the tallest one's height (scene units), to leave out those too small to see. */
  em: number;
}

interface GlyphPiece {
  /** Index of its run (one mesh) in the scene's glyph runs. */
  run: number;
  mesh: { first: number; count: number };
  /** Instances. */
  first: number;
  count: number;
  bounds: Rect;
  /** The largest em size (scene units) among the instances. */
  em: number;
  cost: number;
}

interface GpuScene {
  source: DecodedScene;
  buffers: WebGLBuffer[];
  /** Pieces of consecutive primitives, in drawing order (fills, lines, points). */
  pieces: FlatPiece[];
  /** Quadtrees of the large arrays, by `batch:kind`, with their element buffers (quadtree.ts). */
  trees: Map<string, { nodes: Float64Array; elements: WebGLBuffer }>;
  extra: FlatPiece[];
  extraBuffers: WebGLBuffer[];
  glyphVertices: WebGLBuffer | null;
  glyphInstances: WebGLBuffer | null;
  glyphs: GlyphPiece[];
  /** Quadtrees of the large glyph runs, by run (node ranges count from the run's first instance). */
  glyphTrees: Map<number, Float64Array>;
}

/** One step of drawing a frame: its cost in primitives and what it does. */
interface PassItem {
  cost: number;
  draw: () => number;
  /** It draws glyph instances (by their place in the instance buffer). */
  glyphs?: boolean;
}

/** An offscreen picture: the frame buffer, its texture and the camera it was drawn with. */
interface Picture {
  framebuffer: WebGLFramebuffer;
  texture: WebGLTexture;
  width: number;
  height: number;
  camera: Camera | null;
  view: ViewSize | null;
  /** What it shows still holds (no layer, background or scene change since). */
  valid: boolean;
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

/** True when WebGL is drawn by the CPU (SwiftShader, llvmpipe): then no multisampling, a small budget. */
function softwareWebGl(): boolean {
  const probe = document.createElement('canvas').getContext('webgl2');
  if (!probe) return false;
  // Browsers mask RENDERER ("WebKit WebGL"); the debug extension, where offered, names the driver.
  const info = probe.getExtension('WEBGL_debug_renderer_info');
  const name = String(probe.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : probe.RENDERER));
  probe.getExtension('WEBGL_lose_context')?.loseContext();
  return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(name);
}

export class SceneRenderer {
  readonly stats: RenderStats = { drawCalls: 0, submitMs: 0, frames: 0, progressive: false, progress: 1, pictureCalls: 0 };
  private readonly canvas: HTMLCanvasElement;
  private readonly software: boolean;
  private gl: WebGL2RenderingContext;
  private flat!: WebGLProgram;
  private glyph!: WebGLProgram;
  private image!: WebGLProgram;
  private flatVao!: WebGLVertexArrayObject;
  private glyphVao!: WebGLVertexArrayObject;
  private imageVao!: WebGLVertexArrayObject;
  private overlayBuffer!: WebGLBuffer;
  private imageBuffer!: WebGLBuffer;
  private layerTexture!: WebGLTexture;
  /** The layer visibility inside viewports that freeze layers, by their frozen layers' list. */
  private viewportLayerTextures = new Map<string, WebGLTexture>();
  private flatUniforms!: { transform: WebGLUniformLocation | null; color: WebGLUniformLocation | null; pointSize: WebGLUniformLocation | null };
  private glyphUniforms!: { transform: WebGLUniformLocation | null; layers: WebGLUniformLocation | null; foreground: WebGLUniformLocation | null };
  private imageUniforms!: { transform: WebGLUniformLocation | null; image: WebGLUniformLocation | null };
  private scenes = new Map<Slot, GpuScene>();
  private readonly extraLines = new Map<Slot, ExtraLines[]>();
  private visibility: readonly boolean[] = [];
  private background: Background = 'light';
  private camera: Camera = { x: 0, y: 0, scale: 1 };
  private view: ViewSize = { width: 1, height: 1 };
  private cameraChangedAt = 0;
  private overlay: Overlay = EMPTY_OVERLAY;
  private frameRequested = 0;
  private settleTimer: ReturnType<typeof setTimeout> | null = null;
  private lost = false;
  private disposed = false;
  /** The load under way per slot; an older one sees it is superseded and stops. */
  private readonly loading = new Map<Slot, object>();
  /** Progressive drawing: the last finished picture, the one being drawn, and its steps. */
  private front: Picture | null = null;
  private back: Picture | null = null;
  private pass: { camera: Camera; view: ViewSize; items: PassItem[]; next: number; drawn: number; total: number } | null = null;
  private readonly onLost: () => void;
  private readonly onRestored: () => void;
  private readonly onPicture: () => void;

  /** `onPicture` hears each time a whole picture of the drawing is on screen. */
  constructor(canvas: HTMLCanvasElement, callbacks: { onLost?: () => void; onRestored?: () => void; onPicture?: () => void } = {}) {
    this.canvas = canvas;
    this.onLost = callbacks.onLost ?? (() => undefined);
    this.onRestored = callbacks.onRestored ?? (() => undefined);
    this.onPicture = callbacks.onPicture ?? (() => undefined);
    this.software = softwareWebGl();
    const gl = canvas.getContext('webgl2', { antialias: !this.software, alpha: false, preserveDrawingBuffer: false, powerPreference: 'high-performance' });
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
    this.image = compile(gl, IMAGE_VERTEX, IMAGE_FRAGMENT);
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
    this.imageUniforms = { transform: gl.getUniformLocation(this.image, 'u_transform'), image: gl.getUniformLocation(this.image, 'u_image') };
    this.flatVao = gl.createVertexArray();
    gl.bindVertexArray(this.flatVao);
    gl.enableVertexAttribArray(0);
    this.glyphVao = gl.createVertexArray();
    gl.bindVertexArray(this.glyphVao);
    for (let location = 0; location <= 4; location++) gl.enableVertexAttribArray(location);
    for (let location = 1; location <= 4; location++) gl.vertexAttribDivisor(location, 1);
    this.imageBuffer = gl.createBuffer();
    this.imageVao = gl.createVertexArray();
    gl.bindVertexArray(this.imageVao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.imageBuffer);
    gl.enableVertexAttribArray(0);
    gl.enableVertexAttribArray(1);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 16, 0);
    gl.vertexAttribPointer(1, 2, gl.FLOAT, false, 16, 8);
    gl.bindVertexArray(null);
    this.overlayBuffer = gl.createBuffer();
    this.layerTexture = gl.createTexture();
    // After a lost context the old textures are gone with it.
    this.viewportLayerTextures.clear();
    this.writeLayerTexture();
    this.front = null;
    this.back = null;
    this.pass = null;
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
    this.invalidate();
    const gl = this.gl;
    let total = scene.glyphs.vertices.byteLength + scene.glyphs.instanceWords.byteLength;
    for (const b of scene.batches) total += b.triangles.byteLength + b.lines.byteLength + b.points.byteLength;
    let done = 0;
    let sliceStart = performance.now();
    const gpu: GpuScene = {
      source: scene,
      buffers: [],
      pieces: [],
      trees: new Map(),
      extra: [],
      extraBuffers: [],
      glyphVertices: null,
      glyphInstances: null,
      glyphs: [],
      glyphTrees: new Map(),
    };
    /** Yields to the page when the slice's time is up; false when the load is abandoned. */
    const slice = async (): Promise<boolean> => {
      if (performance.now() - sliceStart > budget) {
        options.onProgress?.({ done, total });
        await nextTask();
        sliceStart = performance.now();
      }
      return !abandoned();
    };
    const upload = (data: Float32Array | Uint32Array): WebGLBuffer => {
      const buffer = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
      gl.bufferData(gl.ARRAY_BUFFER, data, gl.STATIC_DRAW);
      gpu.buffers.push(buffer);
      done += data.byteLength;
      return buffer;
    };
    const pieces: Record<Kind, FlatPiece[]> = { triangles: [], lines: [], points: [] };
    outer: for (const [batch, b] of scene.batches.entries()) {
      for (const [kind, data, pairs] of [
        ['triangles', b.triangles, 3],
        ['lines', b.lines, 2],
        ['points', b.points, 1],
      ] as const) {
        if (data.length === 0) continue;
        if (!(await slice())) break outer;
        const buffer = upload(data);
        const bounds = pieceBounds(data, pairs);
        const primitives = data.length / (pairs * 2);
        for (let p = 0; p * PIECE_PRIMITIVES < primitives; p++) {
          const count = Math.min(PIECE_PRIMITIVES, primitives - p * PIECE_PRIMITIVES);
          pieces[kind].push({
            kind,
            batch,
            layer: b.layer,
            ink: b.ink,
            buffer,
            elements: null,
            first: p * PIECE_PRIMITIVES * pairs,
            count: count * pairs,
            bounds: [bounds[p * 4] ?? 0, bounds[p * 4 + 1] ?? 0, bounds[p * 4 + 2] ?? 0, bounds[p * 4 + 3] ?? 0],
            cost: count,
            em: Infinity,
          });
        }
      }
    }
    // Fills first, then lines, then points, so that lines stay visible over hatches.
    gpu.pieces = [...pieces.triangles, ...pieces.lines, ...pieces.points];
    const { glyphs } = scene;
    if (!abandoned() && glyphs.runs.length > 0 && (await slice())) {
      gpu.glyphVertices = upload(glyphs.vertices);
      gpu.glyphInstances = upload(glyphs.instanceWords);
      const reach = glyphs.meshes.map((m) => meshReach(glyphs.vertices, m.first, m.count));
      for (const [r, run] of glyphs.runs.entries()) {
        const mesh = glyphs.meshes[run.mesh];
        if (!mesh || mesh.count === 0) continue;
        for (let first = run.first; first < run.first + run.count; first += PIECE_INSTANCES) {
          const count = Math.min(PIECE_INSTANCES, run.first + run.count - first);
          const { bounds, em } = glyphPiece(glyphs.instanceFloats, first, count, reach[run.mesh] ?? 1);
          gpu.glyphs.push({ run: r, mesh, first, count, bounds, em, cost: (count * mesh.count) / 3 });
        }
        if (!(await slice())) break;
      }
    }
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
    this.invalidate();
    this.requestRender();
  }

  /** Forgets the model space shown in viewports. */
  unload(slot: Slot): void {
    const scene = this.scenes.get(slot);
    if (scene) this.release(scene);
    this.scenes.delete(slot);
    this.invalidate();
    this.requestRender();
  }

  /**
   * Outlines of texts without glyphs, drawn with their layer's colour; uploaded a buffer at a time,
   * yielding in between. The picture is drawn again only if some of them are big enough to see.
   */
  async setExtraLines(slot: Slot, extra: ExtraLines[]): Promise<void> {
    this.extraLines.set(slot, extra);
    const scene = this.scenes.get(slot);
    if (!scene) return;
    const pieces: FlatPiece[] = [];
    const buffers: WebGLBuffer[] = [];
    for (const e of extra) {
      await nextTask();
      if (this.disposed || this.scenes.get(slot) !== scene) {
        for (const buffer of buffers) this.gl.deleteBuffer(buffer);
        return;
      }
      pieces.push(...this.extraPieces(scene, e, buffers));
    }
    for (const buffer of scene.extraBuffers) this.gl.deleteBuffer(buffer);
    scene.extraBuffers = buffers;
    scene.extra = pieces;
    const items: PassItem[] = [];
    this.collectPieces(scene, viewAffine(this.camera, this.view), pieces, items, null);
    if (items.length > 0) {
      this.invalidate();
      this.requestRender();
    }
  }

  /** Uploads the outlines of `e` and gives their pieces (the buffer goes to `buffers`). */
  private extraPieces(scene: GpuScene, e: ExtraLines, buffers: WebGLBuffer[]): FlatPiece[] {
    if (e.lines.length === 0) return [];
    const gl = this.gl;
    const buffer = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.bufferData(gl.ARRAY_BUFFER, e.lines, gl.STATIC_DRAW);
    buffers.push(buffer);
    const ink = scene.source.header.layers[e.layer]?.color ?? null;
    const f = e.pieces;
    const pieces: FlatPiece[] = [];
    for (let p = 0; p < f.length; p += EXTRA_FIELDS) {
      const count = f[p + 1] ?? 0;
      pieces.push({
        kind: 'lines',
        batch: -1,
        layer: e.layer,
        ink,
        buffer,
        elements: null,
        first: f[p] ?? 0,
        count,
        bounds: [f[p + 2] ?? 0, f[p + 3] ?? 0, f[p + 4] ?? 0, f[p + 5] ?? 0],
        cost: count / 2,
        em: f[p + 6] ?? 0,
      });
    }
    return pieces;
  }

  /** After a (re)load: the outlines known for the slot, at once. */
  private uploadExtra(slot: Slot): void {
    const scene = this.scenes.get(slot);
    if (!scene) return;
    for (const buffer of scene.extraBuffers) this.gl.deleteBuffer(buffer);
    scene.extraBuffers = [];
    scene.extra = (this.extraLines.get(slot) ?? []).flatMap((e) => this.extraPieces(scene, e, scene.extraBuffers));
  }

  /**
   * Takes the quadtrees of the large arrays from the worker, a buffer at a time (element buffers for
   * batch arrays; the glyph records rewritten in their runs' tree order, a few megabytes at a time).
   * The picture shows the same primitives; a picture being drawn starts again with the trees.
   */
  async setTrees(slot: Slot, trees: readonly ArrayTree[], glyphs: GlyphTrees | null): Promise<void> {
    const scene = this.scenes.get(slot);
    if (!scene) return;
    const gl = this.gl;
    const current = () => !this.disposed && this.scenes.get(slot) === scene;
    for (const tree of trees) {
      await nextTask();
      if (!current()) return;
      const elements = gl.createBuffer();
      gl.bindVertexArray(null);
      gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, elements);
      gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, tree.indices, gl.STATIC_DRAW);
      scene.buffers.push(elements);
      scene.trees.set(`${tree.batch}:${tree.kind}`, { nodes: tree.nodes, elements });
    }
    if (glyphs && scene.glyphInstances) {
      const buffer = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
      gl.bufferData(gl.ARRAY_BUFFER, glyphs.records.byteLength, gl.STATIC_DRAW);
      const step = 4 << 20;
      for (let at = 0; at < glyphs.records.byteLength; at += step) {
        await nextTask();
        if (!current()) {
          gl.deleteBuffer(buffer);
          return;
        }
        gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
        gl.bufferSubData(gl.ARRAY_BUFFER, at, new Uint8Array(glyphs.records, at, Math.min(step, glyphs.records.byteLength - at)));
      }
      // The coarse pieces of a run with a tree are not drawn any more (they name the old order).
      scene.buffers = scene.buffers.filter((b) => b !== scene.glyphInstances);
      gl.deleteBuffer(scene.glyphInstances);
      scene.buffers.push(buffer);
      scene.glyphInstances = buffer;
      for (const run of glyphs.runs) scene.glyphTrees.set(run.run, run.nodes);
      // The steps of a picture being drawn name instances by their old places: start it again if
      // any of those is still to come. Everything else stays valid (the trees only add buffers).
      const pass = this.pass;
      if (pass?.items.slice(pass.next).some((item) => item.glyphs)) this.pass = null;
    }
    this.requestRender();
  }

  private release(scene: GpuScene): void {
    const gl = this.gl;
    for (const buffer of [...scene.buffers, ...scene.extraBuffers]) gl.deleteBuffer(buffer);
  }

  setVisibility(visibility: readonly boolean[]): void {
    this.visibility = visibility;
    this.writeLayerTexture();
    this.dropViewportLayerTextures();
    this.invalidate();
    this.requestRender();
  }

  /** One texel a layer (1 shown); a row holds 1024 layers. Toggling a layer rewrites only this. */
  private writeLayerTexture(texture: WebGLTexture = this.layerTexture, frozen: readonly number[] = []): void {
    const gl = this.gl;
    const n = Math.max(1, this.visibility.length);
    const width = Math.min(1024, n);
    const height = Math.ceil(n / 1024);
    const data = new Uint8Array(width * height);
    this.visibility.forEach((on, i) => (data[i] = on ? 1 : 0));
    for (const layer of frozen) if (layer < data.length) data[layer] = 0;
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.R8UI, width, height, 0, gl.RED_INTEGER, gl.UNSIGNED_BYTE, data);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
  }

  /** The layer texture of a viewport that freezes `frozen` (made on first use, until the visibility changes). */
  private viewportLayerTexture(frozen: readonly number[]): WebGLTexture {
    if (frozen.length === 0) return this.layerTexture;
    const key = frozen.join(',');
    let texture = this.viewportLayerTextures.get(key);
    if (!texture) {
      texture = this.gl.createTexture();
      this.writeLayerTexture(texture, frozen);
      this.viewportLayerTextures.set(key, texture);
    }
    return texture;
  }

  private dropViewportLayerTextures(): void {
    for (const texture of this.viewportLayerTextures.values()) this.gl.deleteTexture(texture);
    this.viewportLayerTextures.clear();
  }

  setBackground(background: Background): void {
    this.background = background;
    this.invalidate();
    this.requestRender();
  }

  setCamera(camera: Camera, view: ViewSize): void {
    this.camera = camera;
    this.view = view;
    this.cameraChangedAt = performance.now();
    this.requestRender();
  }

  setOverlay(overlay: Overlay): void {
    this.overlay = overlay;
    this.requestRender();
  }

  /** What the pictures show changed (not only where the camera is): draw them again. */
  private invalidate(): void {
    if (this.front) this.front.valid = false;
    this.pass = null;
  }

  /** Draws one frame at the next animation frame (several requests, one frame). */
  requestRender(): void {
    if (this.frameRequested || this.lost || this.disposed) return;
    this.frameRequested = requestAnimationFrame(() => {
      this.frameRequested = 0;
      this.render();
    });
  }

  /** Draws a frame now (the whole picture when `complete`) and waits for the GPU; milliseconds (benchmarks). */
  renderAndFinish(complete = false): number {
    const started = performance.now();
    this.render(complete);
    const pixel = new Uint8Array(4);
    this.gl.readPixels(0, 0, 1, 1, this.gl.RGBA, this.gl.UNSIGNED_BYTE, pixel);
    return performance.now() - started;
  }

  /** The colour at a CSS pixel of the canvas, drawn afresh and whole (tests): r, g, b, a in 0..255. */
  readPixel(x: number, y: number): [number, number, number, number] {
    this.render(true);
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

  /**
   * Draws a frame. Small scenes (and large ones zoomed into a small part) are drawn straight to the
   * screen; large ones through the progressive pictures. `complete` finishes the picture at once.
   */
  render(complete = false): void {
    if (this.lost || this.disposed) return;
    const started = performance.now();
    const gl = this.gl;
    const [width, height] = this.resize();
    const view = viewAffine(this.camera, this.view);
    const items = this.pass && sameCamera(this.pass.camera, this.camera) && sameView(this.pass.view, this.view) ? null : this.collect(this.camera);
    const cost = items ? items.reduce((sum, item) => sum + item.cost, 0) : (this.pass?.total ?? 0);
    let calls = 0;
    if (items) this.stats.pictureCalls = items.length;
    if (items && cost <= DIRECT_LIMIT[this.software ? 'software' : 'hardware']) {
      // Straight to the screen.
      this.pass = null;
      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
      gl.viewport(0, 0, width, height);
      this.clear();
      for (const item of items) calls += item.draw();
      this.stats.progressive = false;
      this.stats.progress = 1;
      if (items.length > 0) this.onPicture();
    } else {
      calls += this.renderProgressive(items, cost, width, height, complete);
    }
    gl.disable(gl.SCISSOR_TEST);
    if (this.scenes.has('main')) calls += this.drawOverlay(view);
    this.stats.drawCalls = calls;
    this.stats.submitMs = performance.now() - started;
    this.stats.frames += 1;
    this.canvas.dataset['frames'] = String(this.stats.frames);
    this.canvas.dataset['drawCalls'] = String(calls);
  }

  private clear(): void {
    const paper = this.scenes.get('main')?.source.header.paperSpace ?? false;
    // Paper space: the sheet lies on a grey desk.
    const [r, g, b] = rgbUnit(paper ? (this.background === 'light' ? 0xc9ccd1 : 0x3a3d42) : BACKGROUND_RGB[this.background]);
    this.gl.disable(this.gl.SCISSOR_TEST);
    this.gl.clearColor(r, g, b, 1);
    this.gl.clear(this.gl.COLOR_BUFFER_BIT);
  }

  private picture(previous: Picture | null, width: number, height: number): Picture {
    if (previous && previous.width === width && previous.height === height) return previous;
    const gl = this.gl;
    if (previous) {
      gl.deleteFramebuffer(previous.framebuffer);
      gl.deleteTexture(previous.texture);
    }
    const texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    const framebuffer = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    return { framebuffer, texture, width, height, camera: null, view: null, valid: false };
  }

  /**
   * Large scenes: the picture being drawn goes on a budget of primitives a frame (none while the
   * camera moves and a finished picture can stand in); the screen shows the last finished picture,
   * moved to the camera, or the one being drawn when there is none.
   */
  private renderProgressive(items: PassItem[] | null, cost: number, width: number, height: number, complete: boolean): number {
    const gl = this.gl;
    this.front = this.picture(this.front, width, height);
    this.back = this.picture(this.back, width, height);
    if (items) this.pass = { camera: this.camera, view: this.view, items, next: 0, drawn: 0, total: cost };
    const pass = this.pass;
    let calls = 0;
    const moving = performance.now() - this.cameraChangedAt < SETTLE_MS;
    const canWait = this.front.valid && moving && !complete;
    if (pass && !canWait && pass.next < pass.items.length) {
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.back.framebuffer);
      gl.viewport(0, 0, width, height);
      if (pass.next === 0) this.clear();
      const budget = complete ? Infinity : BUDGET[this.software ? 'software' : 'hardware'];
      let spent = 0;
      while (pass.next < pass.items.length && (spent === 0 || spent < budget)) {
        const item = pass.items[pass.next++];
        if (!item) break;
        calls += item.draw();
        spent += item.cost;
        pass.drawn += item.cost;
      }
      if (pass.next >= pass.items.length) {
        // Finished: it becomes the picture shown.
        [this.front, this.back] = [this.back, this.front];
        this.front.camera = pass.camera;
        this.front.view = pass.view;
        this.front.valid = true;
        this.onPicture();
      }
    }
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, width, height);
    this.clear();
    const finished = !pass || pass.next >= pass.items.length;
    if (this.front.valid && this.front.camera && this.front.view) {
      calls += this.drawPicture(this.front, this.front.camera, this.front.view);
    } else if (pass) {
      calls += this.drawPicture(this.back, pass.camera, pass.view);
    }
    this.stats.progressive = true;
    this.stats.progress = pass && pass.total > 0 ? Math.min(1, pass.drawn / pass.total) : 1;
    if (!finished) {
      if (moving && this.front.valid) {
        // Carry on once the camera rests.
        if (this.settleTimer) clearTimeout(this.settleTimer);
        this.settleTimer = setTimeout(() => {
          this.settleTimer = null;
          this.requestRender();
        }, SETTLE_MS);
      } else {
        this.requestRender();
      }
    }
    return calls;
  }

  /** A picture drawn for `camera`, placed where that view lies under the current camera. */
  private drawPicture(picture: Picture, camera: Camera, view: ViewSize): number {
    const gl = this.gl;
    const [x0, y0, x1, y1] = visibleBounds(camera, view);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.imageBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, Float32Array.of(x0, y0, 0, 0, x1, y0, 1, 0, x0, y1, 0, 1, x1, y1, 1, 1), gl.STREAM_DRAW);
    gl.useProgram(this.image);
    gl.bindVertexArray(this.imageVao);
    gl.uniformMatrix3fv(this.imageUniforms.transform, false, affineMat3(viewAffine(this.camera, this.view)));
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, picture.texture);
    gl.uniform1i(this.imageUniforms.image, 0);
    gl.disable(gl.BLEND);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.enable(gl.BLEND);
    return 1;
  }

  /** The steps of a frame for `camera`: the sheet, the pieces in view, the viewports' model space. */
  private collect(camera: Camera): PassItem[] {
    const main = this.scenes.get('main');
    if (!main) return [];
    const items: PassItem[] = [];
    const view = viewAffine(camera, this.view);
    const paper = main.source.header.paperSpace;
    if (paper) items.push({ cost: 2, draw: () => this.drawSheet(main, view) });
    this.collectScene(main, view, items, null);
    const model = this.scenes.get('model');
    if (paper && model) {
      for (const viewport of main.source.header.viewports) {
        const scissor = this.scissorRect(camera, viewport.center, viewport.width, viewport.height);
        if (!scissor) continue;
        // Model space through the viewport, without the layers it freezes.
        this.collectScene(model, compose(view, viewportAffine(viewport, model.source.header.origin)), items, scissor, viewport.frozenLayers);
      }
    }
    return items;
  }

  private collectScene(scene: GpuScene, transform: Affine, items: PassItem[], scissor: Rect | null, frozen: readonly number[] = []): void {
    this.collectPieces(scene, transform, [...scene.pieces, ...scene.extra], items, scissor, frozen);
    const onScreen = clipRectInScene(transform);
    if (!onScreen) return;
    // CSS pixels per scene unit under this transform: below MIN_GLYPH_PIXELS an em is not drawn.
    const pixels = Math.hypot(transform[0], transform[1]) * (this.view.width / 2);
    const add = (piece: GlyphPiece) =>
      items.push({
        cost: piece.cost,
        glyphs: true,
        draw: () => {
          this.scissor(scissor);
          return this.drawGlyphs(scene, transform, piece, frozen);
        },
      });
    // Runs with a tree: the ranges of its nodes in view; the others: their pieces in view.
    const { runs, meshes } = scene.source.glyphs;
    for (const [run, nodes] of scene.glyphTrees) {
      const base = runs[run]?.first ?? 0;
      const mesh = meshes[runs[run]?.mesh ?? -1];
      if (!mesh) continue;
      const ranges = visibleRanges(nodes, onScreen, MIN_GLYPH_PIXELS / pixels);
      for (let r = 0; r < ranges.length; r += 2) {
        const end = base + (ranges[r] ?? 0) + (ranges[r + 1] ?? 0);
        for (let first = base + (ranges[r] ?? 0); first < end; first += PIECE_INSTANCES) {
          const count = Math.min(PIECE_INSTANCES, end - first);
          add({ run, mesh, first, count, bounds: onScreen, em: Infinity, cost: (count * mesh.count) / 3 });
        }
      }
    }
    for (const piece of scene.glyphs) {
      if (scene.glyphTrees.has(piece.run) || piece.em * pixels < MIN_GLYPH_PIXELS || !overlaps(piece.bounds, onScreen)) continue;
      add(piece);
    }
  }

  /** The flat pieces of `pieces` in view and big enough to see, as steps of a frame. */
  private collectPieces(scene: GpuScene, transform: Affine, pieces: readonly FlatPiece[], items: PassItem[], scissor: Rect | null, frozen: readonly number[] = []): void {
    const onScreen = clipRectInScene(transform);
    if (!onScreen) return;
    const shown = (layer: number) => (this.visibility[layer] ?? true) && !frozen.includes(layer);
    const gl = this.gl;
    const mode: Record<Kind, number> = { triangles: gl.TRIANGLES, lines: gl.LINES, points: gl.POINTS };
    const setup = () => {
      this.scissor(scissor);
      this.useFlat(transform);
    };
    // Arrays with a tree: the ranges of its nodes in view (once, at its first piece); the others:
    // their pieces in view.
    const treed = new Set<string>();
    const fromTree = (piece: FlatPiece): boolean => {
      const key = `${piece.batch}:${piece.kind}`;
      const tree = scene.trees.get(key);
      if (!tree) return false;
      if (treed.has(key)) return true;
      treed.add(key);
      const pairs = piece.kind === 'triangles' ? 3 : piece.kind === 'lines' ? 2 : 1;
      const ranges = visibleRanges(tree.nodes, onScreen, 0);
      for (let r = 0; r < ranges.length; r += 2) {
        const end = (ranges[r] ?? 0) + (ranges[r + 1] ?? 0);
        for (let first = ranges[r] ?? 0; first < end; first += PIECE_PRIMITIVES) {
          const count = Math.min(PIECE_PRIMITIVES, end - first);
          add({ ...piece, elements: tree.elements, first: first * pairs, count: count * pairs, bounds: onScreen, cost: count });
        }
      }
      return true;
    };
    const add = (piece: FlatPiece) =>
      items.push({
        cost: piece.cost,
        draw: () => {
          setup();
          this.color(inkRgb(piece.ink, this.background));
          gl.bindBuffer(gl.ARRAY_BUFFER, piece.buffer);
          gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 8, 0);
          if (piece.elements) {
            gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, piece.elements);
            gl.drawElements(mode[piece.kind], piece.count, gl.UNSIGNED_INT, piece.first * 4);
          } else {
            gl.drawArrays(mode[piece.kind], piece.first, piece.count);
          }
          return 1;
        },
      });
    const pixels = Math.hypot(transform[0], transform[1]) * (this.view.width / 2);
    for (const piece of pieces) {
      if (!shown(piece.layer) || piece.em * pixels < MIN_GLYPH_PIXELS || fromTree(piece) || !overlaps(piece.bounds, onScreen)) continue;
      add(piece);
    }
  }

  /** The screen rectangle (device pixels, GL's bottom-left origin) of a viewport's frame; null off screen. */
  private scissorRect(camera: Camera, center: readonly [number, number], w: number, h: number): Rect | null {
    const [x0, y0] = sceneToScreen(camera, this.view, center[0] - w / 2, center[1] + h / 2);
    const [x1, y1] = sceneToScreen(camera, this.view, center[0] + w / 2, center[1] - h / 2);
    const rx = this.canvas.width / this.view.width;
    const ry = this.canvas.height / this.view.height;
    const left = Math.max(0, Math.floor(x0 * rx));
    const right = Math.min(this.canvas.width, Math.ceil(x1 * rx));
    const top = Math.max(0, Math.floor(y0 * ry));
    const bottom = Math.min(this.canvas.height, Math.ceil(y1 * ry));
    if (right <= left || bottom <= top) return null;
    return [left, this.canvas.height - bottom, right - left, bottom - top];
  }

  private scissor(rect: Rect | null): void {
    const gl = this.gl;
    if (!rect) {
      gl.disable(gl.SCISSOR_TEST);
      return;
    }
    gl.enable(gl.SCISSOR_TEST);
    gl.scissor(rect[0], rect[1], rect[2], rect[3]);
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

  private drawGlyphs(scene: GpuScene, transform: Affine, piece: GlyphPiece, frozen: readonly number[] = []): number {
    if (!scene.glyphVertices || !scene.glyphInstances) return 0;
    const gl = this.gl;
    gl.useProgram(this.glyph);
    gl.bindVertexArray(this.glyphVao);
    gl.uniformMatrix3fv(this.glyphUniforms.transform, false, affineMat3(transform));
    const [r, g, b] = rgbUnit(FOREGROUND_RGB[this.background]);
    gl.uniform3f(this.glyphUniforms.foreground, r, g, b);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.viewportLayerTexture(frozen));
    gl.uniform1i(this.glyphUniforms.layers, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, scene.glyphVertices);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 8, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, scene.glyphInstances);
    // WebGL2 has no base instance: point the instance attributes at the piece's first record.
    const stride = INSTANCE_WORDS * 4;
    const base = piece.first * stride;
    gl.vertexAttribPointer(1, 4, gl.FLOAT, false, stride, base);
    gl.vertexAttribPointer(2, 2, gl.FLOAT, false, stride, base + 16);
    gl.vertexAttribIPointer(3, 1, gl.UNSIGNED_INT, stride, base + 24);
    gl.vertexAttribIPointer(4, 1, gl.UNSIGNED_INT, stride, base + 28);
    gl.drawArraysInstanced(gl.TRIANGLES, piece.mesh.first, piece.mesh.count, piece.count);
    return 1;
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
    this.scissor(null);
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
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.canvas.removeEventListener('webglcontextlost', this.handleLost);
    this.canvas.removeEventListener('webglcontextrestored', this.handleRestored);
    for (const scene of this.scenes.values()) this.release(scene);
    this.scenes.clear();
    if (!this.gl.isContextLost()) {
      const gl = this.gl;
      for (const picture of [this.front, this.back]) {
        if (!picture) continue;
        gl.deleteFramebuffer(picture.framebuffer);
        gl.deleteTexture(picture.texture);
      }
      gl.deleteBuffer(this.overlayBuffer);
      gl.deleteBuffer(this.imageBuffer);
      gl.deleteTexture(this.layerTexture);
      this.dropViewportLayerTextures();
      gl.deleteProgram(this.flat);
      gl.deleteProgram(this.glyph);
      gl.deleteProgram(this.image);
      gl.deleteVertexArray(this.flatVao);
      gl.deleteVertexArray(this.glyphVao);
      gl.deleteVertexArray(this.imageVao);
    }
  }
}

function sameCamera(a: Camera, b: Camera): boolean {
  return a.x === b.x && a.y === b.y && a.scale === b.scale;
}

function sameView(a: ViewSize, b: ViewSize): boolean {
  return a.width === b.width && a.height === b.height;
}
