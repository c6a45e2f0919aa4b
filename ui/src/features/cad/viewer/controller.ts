import type { ApiClient } from '@/lib/api';
import { sceneBytes } from '../api';
import { decodeScene, type DecodedScene } from '../scene/decode';
import type { SceneHeader } from '../scene/types';
import { fit, pan, sceneToScreen, screenToScene, zoomAt, zoomLimits, type Bounds, type Camera, type ViewSize } from './camera';
import type { Background } from './colors';
import { allLayersOn, initialVisibility, isolateLayer, layerUsage, toggleLayer, visibilityBytes } from './layers';
import { EMPTY_OVERLAY, NoWebGlError, SceneRenderer, type Overlay } from './renderer';
import { createSceneQueries, type SceneQueries } from './sceneQueries';
import type { OwnerGeometry, PickHit, TextBox } from './sceneIndex';
import { Store } from './store';

// The viewer without React: it owns the renderer, the scene index and the camera, and publishes
// what the panels show through a Store. Pointer and key handlers call its methods; panning and
// zooming never re-render React.

export type Phase = 'idle' | 'downloading' | 'decoding' | 'uploading' | 'ready' | 'failed';
export type Tool = 'select' | 'measure';

export interface SearchState {
  query: string;
  hits: TextBox[];
  total: number;
  /** Index in `hits` of the hit shown, or -1. */
  current: number;
}

export interface Timings {
  /** From `open` to the first frame drawn (of a large drawing: the first part of its picture). */
  firstFrameMs: number | null;
  /** From `open` to the whole picture on screen. */
  pictureMs: number | null;
  downloadMs: number | null;
  uploadMs: number | null;
  /** Decoding and building the index in the worker (after the download). */
  indexMs: number | null;
}

export interface ViewerState {
  phase: Phase;
  /** Bytes downloaded (or uploaded to the GPU) of `total`. */
  progress: { done: number; total: number | null };
  error: unknown;
  header: SceneHeader | null;
  /** Primitives per layer. */
  usage: number[];
  counts: DecodedScene['counts'] | null;
  visibility: boolean[];
  background: Background;
  tool: Tool;
  selected: PickHit | null;
  /** Measured points (scene coordinates): none, one, or the two ends. */
  measure: [number, number][];
  snap: [number, number] | null;
  index: 'pending' | 'ready' | 'failed';
  search: SearchState;
  timings: Timings;
  contextLost: boolean;
  /** Model space is drawn inside the paper layout's viewports. */
  viewportsShown: boolean;
}

const EMPTY_SEARCH: SearchState = { query: '', hits: [], total: 0, current: -1 };

/** What a newly opened layout starts with. */
const OPENING: Pick<ViewerState, 'progress' | 'error' | 'selected' | 'measure' | 'snap' | 'index' | 'search' | 'timings' | 'viewportsShown'> = {
  progress: { done: 0, total: null },
  error: null,
  selected: null,
  measure: [],
  snap: null,
  index: 'pending',
  search: EMPTY_SEARCH,
  timings: { firstFrameMs: null, pictureMs: null, downloadMs: null, uploadMs: null, indexMs: null },
  viewportsShown: false,
};

/** Pixels around the pointer within which a click picks and a measure snaps. */
export const PICK_PIXELS = 6;
export const SNAP_PIXELS = 12;

export class ViewerController {
  readonly store: Store<ViewerState>;
  private readonly api: ApiClient;
  private readonly drawingId: string;
  private renderer: SceneRenderer | null = null;
  private queries: SceneQueries | null = null;
  private camera: Camera = { x: 0, y: 0, scale: 1 };
  private view: ViewSize = { width: 1, height: 1 };
  private limits: [number, number] = [1e-9, 1e9];
  private contentBounds: Bounds | null = null;
  private abort: AbortController | null = null;
  private modelScene: DecodedScene | null = null;
  private highlight: OwnerGeometry | null = null;
  private cursor: [number, number] | null = null;
  private snapping = false;
  private snapWanted: [number, number] | null = null;
  private openedAt = 0;
  /** The opened layout's first whole picture is yet to be drawn. */
  private awaitingPicture = false;

  constructor(api: ApiClient, drawingId: string, background: Background) {
    this.api = api;
    this.drawingId = drawingId;
    this.store = new Store<ViewerState>({
      ...OPENING,
      phase: 'idle',
      header: null,
      usage: [],
      counts: null,
      visibility: [],
      background,
      tool: 'select',
      contextLost: false,
    });
  }

  /** Binds the canvas; false (and a failed state) when the browser has no WebGL2. */
  attach(canvas: HTMLCanvasElement): boolean {
    this.detach();
    try {
      this.renderer = new SceneRenderer(canvas, {
        onLost: () => this.store.set({ contextLost: true }),
        onRestored: () => this.store.set({ contextLost: false }),
        onPicture: () => this.pictureDrawn(canvas),
      });
    } catch (error) {
      this.store.set({ phase: 'failed', error: error instanceof NoWebGlError ? error : new NoWebGlError() });
      return false;
    }
    this.renderer.setBackground(this.store.get().background);
    this.queries = createSceneQueries();
    return true;
  }

  /** The first whole picture after opening: recorded once per open (status line, benchmarks). */
  private pictureDrawn(canvas: HTMLCanvasElement): void {
    if (!this.awaitingPicture) return;
    this.awaitingPicture = false;
    const now = performance.now();
    canvas.dataset['pictureAt'] = String(now);
    const timings = this.store.get().timings;
    this.store.set({ timings: { ...timings, pictureMs: now - this.openedAt } });
  }

  /** Draws one frame now (or the whole picture) and waits for the GPU (benchmarks). */
  renderAndFinish(complete = false): number {
    return this.renderer?.renderAndFinish(complete) ?? 0;
  }

  get stats() {
    return this.renderer?.stats ?? null;
  }

  /** Where a drawing point (drawing coordinates) is on the canvas, in CSS pixels (tests). */
  drawingToScreen(x: number, y: number): [number, number] {
    const origin = this.store.get().header?.origin ?? [0, 0];
    return sceneToScreen(this.camera, this.view, x - origin[0], y - origin[1]);
  }

  /** The colour drawn at a CSS pixel of the canvas (tests). */
  readPixel(x: number, y: number): [number, number, number, number] | null {
    return this.renderer?.readPixel(x, y) ?? null;
  }

  /**
   * Downloads, decodes and draws a layout (null: model space). The bytes go to the index worker as
   * they arrive; the first frame is drawn as soon as the geometry is on the GPU, before the index is
   * ready. A newer `open` cancels this one.
   */
  async open(layout: string | null): Promise<void> {
    const renderer = this.renderer;
    const queries = this.queries;
    if (!renderer || !queries) return;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    // A function, not the property: the type checker would take one check for all later ones.
    const cancelled = () => abort.signal.aborted;
    this.openedAt = performance.now();
    this.highlight = null;
    this.store.set({ ...OPENING, phase: 'downloading' });
    this.updateOverlay();
    let lastReport = 0;
    try {
      const stream = { begun: false, forwarded: 0 };
      const buffer = await sceneBytes(this.api, this.drawingId, layout, {
        signal: abort.signal,
        onProgress: (done, total) => {
          if (!stream.begun) {
            queries.begin(total);
            stream.begun = true;
          }
          const now = performance.now();
          // React hears about progress ten times a second at most.
          if (now - lastReport > 100 || done === total) {
            lastReport = now;
            this.store.set({ progress: { done, total } });
          }
        },
        onChunk: (chunk) => {
          stream.forwarded += chunk.byteLength;
          queries.chunk(chunk);
        },
      });
      if (cancelled()) return;
      const downloaded = performance.now();
      if (!stream.begun) queries.begin(buffer.byteLength);
      // A response read whole (no body stream) sent no chunks: the worker gets a copy at once.
      if (stream.forwarded === 0) queries.chunk(new Uint8Array(buffer.slice(0)));
      this.store.set({ phase: 'decoding' });
      const scene = decodeScene(buffer);
      if (!scene.header.paperSpace) this.modelScene = scene;
      this.store.set({
        phase: 'uploading',
        header: scene.header,
        counts: scene.counts,
        usage: layerUsage(scene),
        progress: { done: 0, total: null },
      });
      const visibility = this.store.get().visibility;
      const sameLayers = visibility.length === scene.header.layers.length;
      const shown = sameLayers ? visibility : initialVisibility(scene.header.layers);
      renderer.setVisibility(shown);
      await renderer.load(scene, {
        onProgress: ({ done, total }) => this.store.set({ progress: { done, total } }),
      });
      if (cancelled()) return;
      this.contentBounds = contentBounds(scene.header);
      const canvas = renderer.canvasElement;
      delete canvas.dataset['indexReady'];
      delete canvas.dataset['treesReady'];
      delete canvas.dataset['pictureAt'];
      this.awaitingPicture = true;
      this.fitView();
      renderer.render();
      const drawn = performance.now();
      this.store.set({
        phase: 'ready',
        visibility: shown,
        timings: { ...this.store.get().timings, firstFrameMs: drawn - this.openedAt, downloadMs: downloaded - this.openedAt, uploadMs: drawn - downloaded },
      });
      // The worker builds the index once the first frame is out: on two cores it would otherwise
      // compete with the upload and the first frame.
      const indexed = queries.end();
      canvas.dataset['firstFrameAt'] = String(drawn);
      canvas.dataset['firstFrameMs'] = String(Math.round(drawn - this.openedAt));
      canvas.dataset['downloadMs'] = String(Math.round(downloaded - this.openedAt));
      void indexed.then(
        (info) => {
          if (cancelled()) return;
          void (async () => {
            await renderer.setExtraLines('main', info.textOutlines);
            await renderer.setTrees('main', info.trees, info.glyphTrees);
            if (!cancelled()) canvas.dataset['treesReady'] = 'true';
          })();
          const { timings, usage } = this.store.get();
          // Outlined texts count as what their layer draws.
          const withTexts = [...usage];
          for (const outline of info.textOutlines) withTexts[outline.layer] = (withTexts[outline.layer] ?? 0) + outline.texts;
          this.store.set({ index: 'ready', usage: withTexts, timings: { ...timings, indexMs: performance.now() - downloaded } });
          canvas.dataset['indexReady'] = 'true';
          canvas.dataset['indexDecodeMs'] = String(Math.round(info.decodeMs));
          canvas.dataset['indexBuildMs'] = String(Math.round(info.buildMs));
          canvas.dataset['treesMs'] = String(Math.round(info.treesMs));
        },
        () => {
          if (!cancelled()) this.store.set({ index: 'failed' });
        },
      );
      await this.showViewports(scene, abort.signal);
    } catch (error) {
      if (cancelled()) return;
      this.store.set({ phase: 'failed', error });
    }
  }

  /** Paper layouts: model space inside each viewport's frame (fetched once, kept for the drawing). */
  private async showViewports(scene: DecodedScene, signal: AbortSignal): Promise<void> {
    const renderer = this.renderer;
    if (!renderer) return;
    if (!scene.header.paperSpace || scene.header.viewports.length === 0) {
      renderer.unload('model');
      return;
    }
    const cancelled = () => signal.aborted;
    try {
      this.modelScene ??= decodeScene(await sceneBytes(this.api, this.drawingId, null, { signal }));
      if (cancelled()) return;
      await renderer.load(this.modelScene, { slot: 'model' });
      if (!cancelled()) this.store.set({ viewportsShown: true });
    } catch {
      // The sheet is still shown; its viewports stay empty.
    }
  }

  // ---- camera --------------------------------------------------------------------------------

  resize(view: ViewSize): void {
    const first = this.view.width <= 1;
    this.view = view;
    if (first && this.contentBounds) this.fitView();
    else this.renderer?.setCamera(this.camera, view);
  }

  private setCamera(camera: Camera): void {
    this.camera = camera;
    this.renderer?.setCamera(camera, this.view);
    if (this.store.get().tool === 'measure') this.updateOverlay();
  }

  fitView(): void {
    if (!this.contentBounds) return;
    const camera = fit(this.contentBounds, this.view);
    this.limits = zoomLimits(camera.scale);
    this.setCamera(camera);
  }

  panBy(dx: number, dy: number): void {
    this.setCamera(pan(this.camera, dx, dy));
  }

  zoomAt(sx: number, sy: number, factor: number): void {
    this.setCamera(zoomAt(this.camera, this.view, sx, sy, factor, this.limits));
  }

  /** Zooms about the centre of the view (keys and buttons). */
  zoomStep(factor: number): void {
    this.zoomAt(this.view.width / 2, this.view.height / 2, factor);
  }

  /** Shows `box` (scene coordinates) with some room around it, at least `minSize` units across. */
  zoomToBox(box: readonly [number, number, number, number], minSize = 0): void {
    const [x0, y0, x1, y1] = box;
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    const half = Math.max(x1 - x0, y1 - y0, minSize) * 1.5;
    this.setCamera(fit([cx - half, cy - half, cx + half, cy + half], this.view));
  }

  toScene(sx: number, sy: number): [number, number] {
    return screenToScene(this.camera, this.view, sx, sy);
  }

  // ---- layers and background -----------------------------------------------------------------

  private setVisibility(visibility: boolean[]): void {
    this.renderer?.setVisibility(visibility);
    this.store.set({ visibility });
  }

  toggleLayer(index: number): void {
    this.setVisibility(toggleLayer(this.store.get().visibility, index));
  }

  isolateLayer(index: number): void {
    this.setVisibility(isolateLayer(this.store.get().visibility, index));
  }

  allLayersOn(): void {
    this.setVisibility(allLayersOn(this.store.get().visibility));
  }

  setBackground(background: Background): void {
    this.renderer?.setBackground(background);
    this.store.set({ background });
  }

  // ---- picking, measuring, search -------------------------------------------------------------

  setTool(tool: Tool): void {
    this.cursor = null;
    this.store.set({ tool, measure: [], snap: null });
    this.updateOverlay();
  }

  /** A click: picks an entity (select) or places a measure point, snapped to a segment end when near one. */
  async click(sx: number, sy: number): Promise<void> {
    const queries = this.queries;
    if (!queries || this.store.get().phase !== 'ready') return;
    const [x, y] = this.toScene(sx, sy);
    const visible = visibilityBytes(this.store.get().visibility);
    if (this.store.get().tool === 'measure') {
      const snapped = await queries.ask({ type: 'snap', x, y, radius: SNAP_PIXELS / this.camera.scale, visible });
      const point = snapped ?? [x, y];
      const previous = this.store.get().measure;
      this.store.set({ measure: previous.length >= 2 ? [point] : [...previous, point], snap: snapped });
      this.updateOverlay();
      return;
    }
    const hit = await queries.ask({ type: 'pick', x, y, radius: PICK_PIXELS / this.camera.scale, visible });
    await this.select(hit);
  }

  async select(hit: PickHit | null): Promise<void> {
    this.store.set({ selected: hit });
    this.highlight = hit && this.queries ? await this.queries.ask({ type: 'geometry', owner: hit.owner }) : null;
    // Another pick may have come in the meantime.
    if (this.store.get().selected !== hit) return;
    this.updateOverlay();
  }

  clearSelection(): void {
    this.highlight = null;
    this.cursor = null;
    this.store.set({ selected: null, measure: [], snap: null });
    this.updateOverlay();
  }

  /** The pointer moved (not dragging): while measuring, show where a click would snap. */
  hover(sx: number, sy: number): void {
    if (this.store.get().tool !== 'measure' || !this.queries) return;
    this.cursor = this.toScene(sx, sy);
    this.snapWanted = this.cursor;
    this.updateOverlay();
    if (!this.snapping) void this.snapLoop();
  }

  /** One snap question in flight at a time; the newest pointer position wins. */
  private async snapLoop(): Promise<void> {
    const queries = this.queries;
    if (!queries) return;
    this.snapping = true;
    try {
      while (this.snapWanted) {
        const [x, y] = this.snapWanted;
        this.snapWanted = null;
        const visible = visibilityBytes(this.store.get().visibility);
        const snap = await queries.ask({ type: 'snap', x, y, radius: SNAP_PIXELS / this.camera.scale, visible });
        if (this.store.get().tool !== 'measure') break;
        this.store.set({ snap });
        this.updateOverlay();
      }
    } finally {
      this.snapping = false;
    }
  }

  async search(query: string): Promise<SearchState> {
    const queries = this.queries;
    if (!queries) return EMPTY_SEARCH;
    const { hits, total } = await queries.ask({ type: 'search', query, limit: 500 });
    const search: SearchState = { query, hits, total, current: hits.length > 0 ? 0 : -1 };
    this.store.set({ search });
    this.updateOverlay();
    if (hits.length > 0) this.showHit(0);
    return search;
  }

  /** Makes hit `index` the current one and zooms to it. */
  showHit(index: number): void {
    const search = this.store.get().search;
    const hit = search.hits[index];
    if (!hit) return;
    this.store.set({ search: { ...search, current: index } });
    const height = hit.box[3] - hit.box[1];
    this.zoomToBox(hit.box, height * 6);
    this.updateOverlay();
  }

  clearSearch(): void {
    this.store.set({ search: EMPTY_SEARCH });
    this.updateOverlay();
  }

  private updateOverlay(): void {
    const state = this.store.get();
    const hits = new Float32Array(state.search.hits.length * 4);
    state.search.hits.forEach((hit, i) => hits.set(hit.box, i * 4));
    const overlay: Overlay = {
      ...EMPTY_OVERLAY,
      highlight: this.highlight,
      hits,
      currentHit: state.search.current,
      measure: state.measure,
      snap: state.tool === 'measure' ? state.snap : null,
      cursor: state.tool === 'measure' && state.measure.length === 1 ? (state.snap ?? this.cursor) : null,
    };
    this.renderer?.setOverlay(overlay);
  }

  /** Lets go of the canvas, the GPU's buffers and the index worker; a later `attach` starts afresh. */
  detach(): void {
    this.abort?.abort();
    this.abort = null;
    this.renderer?.dispose();
    this.queries?.dispose();
    this.renderer = null;
    this.queries = null;
  }
}

/** What to fit: the scene's bounds, relative to its origin. */
function contentBounds(header: SceneHeader): Bounds {
  const { bounds, origin } = header;
  if (!bounds) return [-1, -1, 1, 1];
  return [bounds[0] - origin[0], bounds[1] - origin[1], bounds[2] - origin[0], bounds[3] - origin[1]];
}

/** Distance between two measured points, in drawing units. */
export function distance(a: readonly [number, number], b: readonly [number, number]): number {
  return Math.hypot(b[0] - a[0], b[1] - a[1]);
}
