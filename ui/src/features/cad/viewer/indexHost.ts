import { decodeScene, parseTexts } from '../scene/decode';
import { meshReach } from './chunks';
import { batchTrees, glyphTrees, type ArrayTree, type GlyphTrees } from './quadtree';
import type { ExtraLines } from './renderer';
import { SceneIndex, type OwnerGeometry, type PickHit, type TextBox } from './sceneIndex';

// The scene's search and picking index, fed the downloaded bytes chunk by chunk. It runs in a Web
// Worker (scene.worker.ts) so that building it never blocks the page; where no worker can start
// (unit tests) the same code runs in the page.

export interface IndexInfo {
  /** Outlines of the texts that have no glyphs, per layer (drawn so that texts are seen). */
  textOutlines: ExtraLines[];
  /** Quadtrees of the large batch arrays and glyph runs (quadtree.ts), for the renderer's culling. */
  trees: ArrayTree[];
  glyphTrees: GlyphTrees | null;
  treesMs: number;
  texts: number;
  decodeMs: number;
  buildMs: number;
}

export type IndexRequest =
  | { type: 'pick'; x: number; y: number; radius: number; visible: Uint8Array }
  | { type: 'snap'; x: number; y: number; radius: number; visible: Uint8Array }
  | { type: 'search'; query: string; limit: number }
  | { type: 'geometry'; owner: number };

export interface IndexAnswers {
  pick: PickHit | null;
  snap: [number, number] | null;
  search: { hits: TextBox[]; total: number };
  geometry: OwnerGeometry;
}

/** Collects a scene's bytes and answers questions about it once built. */
export class IndexHost {
  private bytes = new Uint8Array(0);
  private length = 0;
  private index: SceneIndex | null = null;

  begin(total: number | null): void {
    this.bytes = new Uint8Array(total ?? 1 << 20);
    this.length = 0;
    this.index = null;
  }

  chunk(chunk: Uint8Array): void {
    if (this.length + chunk.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + chunk.length));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(chunk, this.length);
    this.length += chunk.length;
  }

  /** Decodes what arrived and builds the index. Throws SceneFormatError for a bad scene. */
  end(now: () => number = () => performance.now()): IndexInfo {
    const started = now();
    const buffer = this.length === this.bytes.length ? this.bytes.buffer : this.bytes.slice(0, this.length).buffer;
    this.bytes = new Uint8Array(0);
    const scene = decodeScene(buffer);
    const texts = parseTexts(scene.textBytes);
    const decoded = now();
    this.index = new SceneIndex(scene, texts, now);
    const planting = now();
    const trees = batchTrees(scene);
    const { glyphs } = scene;
    const reach = glyphs.meshes.map((m) => meshReach(glyphs.vertices, m.first, m.count));
    const glyphTreesOf = glyphTrees(glyphs, reach);
    return {
      textOutlines: this.index.textOutlines(),
      trees,
      glyphTrees: glyphTreesOf,
      treesMs: now() - planting,
      texts: texts.length,
      decodeMs: decoded - started,
      buildMs: this.index.buildMs,
    };
  }

  answer(request: IndexRequest): IndexAnswers[IndexRequest['type']] {
    const index = this.index;
    switch (request.type) {
      case 'pick':
        return index?.pick(request.x, request.y, request.radius, request.visible) ?? null;
      case 'snap':
        return index?.snap(request.x, request.y, request.radius, request.visible) ?? null;
      case 'search':
        return index?.search(request.query, request.limit) ?? { hits: [], total: 0 };
      case 'geometry':
        return index?.geometryOf(request.owner) ?? { layer: -1, lines: new Float32Array(), triangles: new Float32Array(), boxes: new Float32Array() };
    }
  }
}

/** Messages from the page to the worker. */
export type ToWorker =
  | { type: 'begin'; scene: number; total: number | null }
  | { type: 'chunk'; scene: number; chunk: Uint8Array }
  | { type: 'end'; scene: number }
  | { type: 'ask'; scene: number; id: number; request: IndexRequest };

/** Messages from the worker to the page. */
export type FromWorker =
  | { type: 'ready'; scene: number; info: IndexInfo }
  | { type: 'failed'; scene: number; message: string }
  | { type: 'answer'; scene: number; id: number; answer: unknown };
