import type { DecodedBatch, DecodedScene } from '../scene/decode';
import { ORDERED_FIELDS, spatialOrder } from './chunks';
import type { ExtraLines } from './renderer';
import type { SceneText } from '../scene/types';

// A uniform grid over the scene's primitives for picking and snapping, and the texts for search.
// Built once per scene (in the worker, see scene.worker.ts); queries touch only the cells near the
// pointer. Items are packed as `kind << 30 | index`, the index counting that kind over all batches.

const KIND_SEGMENT = 0;
const KIND_TRIANGLE = 1;
const KIND_POINT = 2;
const INDEX_MASK = 0x3fffffff;
/** A triangle covering more cells than this goes to a short list checked at every query. */
const LARGE_TRIANGLE_CELLS = 4096;
/** Texts an outline piece holds on average. */
const OUTLINE_TEXTS = 64;
/** Most cells in the grid (4 M cells = 16 MB of cell starts). */
const MAX_CELLS = 1 << 22;

export type PickKind = 'segment' | 'triangle' | 'point' | 'text';

export interface PickHit {
  kind: PickKind;
  owner: number;
  layer: number;
  /** Scene units from the query point (0 inside a fill or a text). */
  distance: number;
}

export interface TextBox {
  owner: number;
  layer: number;
  text: string;
  /** Scene coordinates: min x, min y, max x, max y. */
  box: [number, number, number, number];
  /** The box is the text's glyphs (true) or an estimate from its height and length (false). */
  exact: boolean;
}

export interface OwnerGeometry {
  layer: number;
  lines: Float32Array;
  triangles: Float32Array;
  /** Text boxes of the owner, as min x, min y, max x, max y each. */
  boxes: Float32Array;
}

/**
 * The box a text covers. Texts drawn with glyphs carry their bounds; for the others it is an
 * estimate from the anchor, the height and the length of the longest line, rotated with the text.
 */
export function textBox(text: SceneText): [number, number, number, number] {
  if (text.bounds) return text.bounds;
  const lines = text.text.split('\n');
  let widest = 0;
  for (const line of lines) {
    let width = 0;
    // Ideographs are about one em wide, Latin letters about 0.6 em.
    for (const char of line) width += char.codePointAt(0) !== undefined && (char.codePointAt(0) ?? 0) > 0x2e80 ? 1 : 0.6;
    widest = Math.max(widest, width);
  }
  const w = widest * text.height;
  const h = text.height * (1 + (lines.length - 1) * 1.4);
  // A single line stands on its anchor; more lines hang below it (MTEXT's usual top-left anchor).
  const y0 = lines.length > 1 ? -h + text.height : 0;
  const corners: [number, number][] = [
    [0, y0],
    [w, y0],
    [w, y0 + h],
    [0, y0 + h],
  ];
  const cos = Math.cos(text.rotation);
  const sin = Math.sin(text.rotation);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of corners) {
    const px = text.position[0] + x * cos - y * sin;
    const py = text.position[1] + x * sin + y * cos;
    minX = Math.min(minX, px);
    minY = Math.min(minY, py);
    maxX = Math.max(maxX, px);
    maxY = Math.max(maxY, py);
  }
  return [minX, minY, maxX, maxY];
}

/** Lower case, full-width forms folded (NFKC), so "ＫＩＴ" finds "kit". */
export function normaliseForSearch(text: string): string {
  return text.normalize('NFKC').toLocaleLowerCase();
}

function segmentDistance(px: number, py: number, x0: number, y0: number, x1: number, y1: number): number {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const length2 = dx * dx + dy * dy;
  let t = length2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / length2 : 0;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
}

function insideTriangle(px: number, py: number, t: Float32Array, o: number): boolean {
  const ax = t[o] ?? 0;
  const ay = t[o + 1] ?? 0;
  const bx = t[o + 2] ?? 0;
  const by = t[o + 3] ?? 0;
  const cx = t[o + 4] ?? 0;
  const cy = t[o + 5] ?? 0;
  const d1 = (px - bx) * (ay - by) - (ax - bx) * (py - by);
  const d2 = (px - cx) * (by - cy) - (bx - cx) * (py - cy);
  const d3 = (px - ax) * (cy - ay) - (cx - ax) * (py - ay);
  const negative = d1 < 0 || d2 < 0 || d3 < 0;
  const positive = d1 > 0 || d2 > 0 || d3 > 0;
  return !(negative && positive);
}

function boxDistance(px: number, py: number, box: readonly number[]): number {
  const dx = Math.max((box[0] ?? 0) - px, 0, px - (box[2] ?? 0));
  const dy = Math.max((box[1] ?? 0) - py, 0, py - (box[3] ?? 0));
  return Math.hypot(dx, dy);
}

/** Which batch a kind's global index falls in: `bases` are the running totals. */
function batchOf(bases: Uint32Array, index: number): number {
  let lo = 0;
  let hi = bases.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((bases[mid] ?? 0) <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export class SceneIndex {
  readonly texts: TextBox[];
  /** Milliseconds the grid took to build. */
  readonly buildMs: number;
  private readonly scene: DecodedScene;
  private readonly segmentBases: Uint32Array;
  private readonly triangleBases: Uint32Array;
  private readonly pointBases: Uint32Array;
  private readonly minX: number;
  private readonly minY: number;
  private readonly cell: number;
  private readonly nx: number;
  private readonly ny: number;
  private readonly cellStart: Uint32Array;
  private readonly items: Uint32Array;
  private readonly largeTriangles: number[] = [];
  private readonly searchable: string[];

  constructor(scene: DecodedScene, texts: readonly SceneText[], now: () => number = () => performance.now()) {
    const started = now();
    this.scene = scene;
    this.texts = texts.map((t) => ({ owner: t.owner, layer: t.layer, text: t.text, box: textBox(t), exact: t.bounds !== null }));
    this.searchable = this.texts.map((t) => normaliseForSearch(t.text));
    const bases = (pick: (b: DecodedScene['batches'][number]) => number) => {
      const out = new Uint32Array(scene.batches.length + 1);
      scene.batches.forEach((b, i) => (out[i + 1] = (out[i] ?? 0) + pick(b)));
      return out;
    };
    this.segmentBases = bases((b) => b.lineOwners.length);
    this.triangleBases = bases((b) => b.triangleOwners.length);
    this.pointBases = bases((b) => b.pointOwners.length);

    // The grid covers what was drawn; a cell holds a few primitives on average.
    let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
    const grow = (x: number, y: number) => {
      if (x < minX) minX = x;
      if (y < minY) minY = y;
      if (x > maxX) maxX = x;
      if (y > maxY) maxY = y;
    };
    const { bounds, origin } = scene.header;
    if (bounds) {
      grow(bounds[0] - origin[0], bounds[1] - origin[1]);
      grow(bounds[2] - origin[0], bounds[3] - origin[1]);
    } else {
      for (const b of scene.batches) {
        for (const array of [b.lines, b.triangles, b.points]) for (let i = 0; i < array.length; i += 2) grow(array[i] ?? 0, array[i + 1] ?? 0);
      }
    }
    if (!Number.isFinite(minX)) [minX, minY, maxX, maxY] = [0, 0, 1, 1];
    const total = (this.segmentBases.at(-1) ?? 0) + (this.triangleBases.at(-1) ?? 0) + (this.pointBases.at(-1) ?? 0);
    const width = Math.max(maxX - minX, 1e-6);
    const height = Math.max(maxY - minY, 1e-6);
    const cells = Math.max(1, Math.min(MAX_CELLS, Math.ceil(total / 2)));
    this.cell = Math.max(Math.sqrt((width * height) / cells), Math.max(width, height) / 4096, 1e-9);
    this.nx = Math.max(1, Math.ceil(width / this.cell));
    this.ny = Math.max(1, Math.ceil(height / this.cell));
    this.minX = minX;
    this.minY = minY;

    // Two passes over the primitives: count per cell, then fill (compressed rows, no per-cell arrays).
    const counts = new Uint32Array(this.nx * this.ny + 1);
    this.forEachPlacement((cellIndex) => {
      counts[cellIndex + 1] = (counts[cellIndex + 1] ?? 0) + 1;
    });
    for (let i = 1; i < counts.length; i++) counts[i] = (counts[i] ?? 0) + (counts[i - 1] ?? 0);
    this.cellStart = counts;
    this.items = new Uint32Array(counts[counts.length - 1] ?? 0);
    const fill = counts.slice(0, counts.length - 1);
    this.largeTriangles.length = 0;
    this.forEachPlacement((cellIndex, item) => {
      const at = fill[cellIndex] ?? 0;
      this.items[at] = item;
      fill[cellIndex] = at + 1;
    });
    this.buildMs = now() - started;
  }

  private cellX(x: number): number {
    return Math.min(this.nx - 1, Math.max(0, Math.floor((x - this.minX) / this.cell)));
  }

  private cellY(y: number): number {
    return Math.min(this.ny - 1, Math.max(0, Math.floor((y - this.minY) / this.cell)));
  }

  /** Calls `place(cell, item)` for every cell each primitive touches. */
  private forEachPlacement(place: (cell: number, item: number) => void): void {
    const large: number[] = [];
    let segment = 0;
    let triangle = 0;
    let point = 0;
    for (const batch of this.scene.batches) {
      const lines = batch.lines;
      for (let o = 0; o < lines.length; o += 4, segment++) {
        const item = (KIND_SEGMENT << 30) | segment;
        const x0 = lines[o] ?? 0;
        const y0 = lines[o + 1] ?? 0;
        const x1 = lines[o + 2] ?? 0;
        const y1 = lines[o + 3] ?? 0;
        const cx0 = this.cellX(x0);
        const cy0 = this.cellY(y0);
        const cx1 = this.cellX(x1);
        const cy1 = this.cellY(y1);
        if (cx0 === cx1 && cy0 === cy1) {
          place(cy0 * this.nx + cx0, item);
          continue;
        }
        // Walk the cells the segment crosses (Amanatides–Woo), so a long line costs its length.
        this.walk(x0, y0, x1, y1, cx0, cy0, cx1, cy1, (c) => place(c, item));
      }
      const tris = batch.triangles;
      for (let o = 0; o < tris.length; o += 6, triangle++) {
        const item = (KIND_TRIANGLE << 30) | triangle;
        const xs = [tris[o] ?? 0, tris[o + 2] ?? 0, tris[o + 4] ?? 0];
        const ys = [tris[o + 1] ?? 0, tris[o + 3] ?? 0, tris[o + 5] ?? 0];
        const ax = this.cellX(Math.min(...xs));
        const bx = this.cellX(Math.max(...xs));
        const ay = this.cellY(Math.min(...ys));
        const by = this.cellY(Math.max(...ys));
        if ((bx - ax + 1) * (by - ay + 1) > LARGE_TRIANGLE_CELLS) {
          large.push(triangle);
          continue;
        }
        for (let y = ay; y <= by; y++) for (let x = ax; x <= bx; x++) place(y * this.nx + x, item);
      }
      const points = batch.points;
      for (let o = 0; o < points.length; o += 2, point++) {
        place(this.cellY(points[o + 1] ?? 0) * this.nx + this.cellX(points[o] ?? 0), (KIND_POINT << 30) | point);
      }
    }
    this.largeTriangles.splice(0, this.largeTriangles.length, ...large);
  }

  private walk(x0: number, y0: number, x1: number, y1: number, cx: number, cy: number, ex: number, ey: number, visit: (cell: number) => void) {
    const dx = x1 - x0;
    const dy = y1 - y0;
    const stepX = dx > 0 ? 1 : -1;
    const stepY = dy > 0 ? 1 : -1;
    const cellLeft = (c: number) => this.minX + c * this.cell;
    const cellBottom = (c: number) => this.minY + c * this.cell;
    let tMaxX = dx !== 0 ? ((stepX > 0 ? cellLeft(cx + 1) : cellLeft(cx)) - x0) / dx : Infinity;
    let tMaxY = dy !== 0 ? ((stepY > 0 ? cellBottom(cy + 1) : cellBottom(cy)) - y0) / dy : Infinity;
    const tDeltaX = dx !== 0 ? this.cell / Math.abs(dx) : Infinity;
    const tDeltaY = dy !== 0 ? this.cell / Math.abs(dy) : Infinity;
    let x = cx;
    let y = cy;
    // Bounded by the cells between the two ends, whatever rounding does.
    for (let guard = Math.abs(ex - cx) + Math.abs(ey - cy) + 2; guard > 0; guard--) {
      visit(y * this.nx + x);
      if (x === ex && y === ey) return;
      if (tMaxX < tMaxY) {
        if (x !== ex) x += stepX;
        else y += stepY;
        tMaxX += tDeltaX;
      } else {
        if (y !== ey) y += stepY;
        else x += stepX;
        tMaxY += tDeltaY;
      }
      x = Math.min(this.nx - 1, Math.max(0, x));
      y = Math.min(this.ny - 1, Math.max(0, y));
    }
  }

  /** Items in the cells that overlap the square of `radius` around (x, y). */
  private forEachNear(x: number, y: number, radius: number, visit: (item: number) => void): void {
    const ax = this.cellX(x - radius);
    const bx = this.cellX(x + radius);
    const ay = this.cellY(y - radius);
    const by = this.cellY(y + radius);
    for (let cy = ay; cy <= by; cy++) {
      for (let cx = ax; cx <= bx; cx++) {
        const cell = cy * this.nx + cx;
        const end = this.cellStart[cell + 1] ?? 0;
        for (let i = this.cellStart[cell] ?? 0; i < end; i++) visit(this.items[i] ?? 0);
      }
    }
  }

  /** An item's kind, batch and index within the batch; null when its layer is hidden. */
  private locate(item: number, visible: Uint8Array): { kind: number; batch: DecodedBatch; local: number } | null {
    const kind = item >>> 30;
    const index = item & INDEX_MASK;
    const bases = kind === KIND_SEGMENT ? this.segmentBases : kind === KIND_TRIANGLE ? this.triangleBases : this.pointBases;
    const b = batchOf(bases, index);
    const batch = this.scene.batches[b];
    if (!batch || visible[batch.layer] !== 1) return null;
    return { kind, batch, local: index - (bases[b] ?? 0) };
  }

  /**
   * The entity under (x, y): the nearest visible segment, point or text within `radius` (scene
   * units); else a visible fill containing the point; else null.
   */
  pick(x: number, y: number, radius: number, visible: Uint8Array): PickHit | null {
    // Written by the callbacks below (a holder, so that the type checker sees the writes).
    const found: { best: PickHit | null; fill: PickHit | null } = { best: null, fill: null };
    const consider = (hit: PickHit) => {
      if (hit.distance <= radius && (!found.best || hit.distance < found.best.distance)) found.best = hit;
    };
    const tryTriangle = (batch: DecodedBatch, local: number) => {
      if (!found.fill && insideTriangle(x, y, batch.triangles, local * 6)) {
        found.fill = { kind: 'triangle', owner: batch.triangleOwners[local] ?? 0, layer: batch.layer, distance: 0 };
      }
    };
    this.forEachNear(x, y, radius, (item) => {
      const at = this.locate(item, visible);
      if (!at) return;
      const { kind, batch, local } = at;
      if (kind === KIND_SEGMENT) {
        const l = batch.lines;
        const o = local * 4;
        const distance = segmentDistance(x, y, l[o] ?? 0, l[o + 1] ?? 0, l[o + 2] ?? 0, l[o + 3] ?? 0);
        consider({ kind: 'segment', owner: batch.lineOwners[local] ?? 0, layer: batch.layer, distance });
      } else if (kind === KIND_POINT) {
        const distance = Math.hypot(x - (batch.points[local * 2] ?? 0), y - (batch.points[local * 2 + 1] ?? 0));
        consider({ kind: 'point', owner: batch.pointOwners[local] ?? 0, layer: batch.layer, distance });
      } else {
        tryTriangle(batch, local);
      }
    });
    for (const text of this.texts) {
      if (visible[text.layer] !== 1) continue;
      consider({ kind: 'text', owner: text.owner, layer: text.layer, distance: boxDistance(x, y, text.box) });
    }
    if (found.best) return found.best;
    for (const index of this.largeTriangles) {
      const at = this.locate((KIND_TRIANGLE << 30) | index, visible);
      if (at) tryTriangle(at.batch, at.local);
    }
    return found.fill;
  }

  /** The visible segment end (or point) nearest to (x, y) within `radius`, or null. */
  snap(x: number, y: number, radius: number, visible: Uint8Array): [number, number] | null {
    const found: { best: [number, number] | null; distance: number } = { best: null, distance: radius };
    const consider = (px: number, py: number) => {
      const d = Math.hypot(px - x, py - y);
      if (d <= found.distance) {
        found.distance = d;
        found.best = [px, py];
      }
    };
    this.forEachNear(x, y, radius, (item) => {
      const at = this.locate(item, visible);
      if (!at) return;
      const { kind, batch, local } = at;
      if (kind === KIND_SEGMENT) {
        consider(batch.lines[local * 4] ?? 0, batch.lines[local * 4 + 1] ?? 0);
        consider(batch.lines[local * 4 + 2] ?? 0, batch.lines[local * 4 + 3] ?? 0);
      } else if (kind === KIND_POINT) {
        consider(batch.points[local * 2] ?? 0, batch.points[local * 2 + 1] ?? 0);
      }
    });
    return found.best;
  }

  /** Texts containing `query` (case and width folded), at most `limit`, in drawing order. */
  search(query: string, limit = 500): { hits: TextBox[]; total: number } {
    const needle = normaliseForSearch(query.trim());
    if (!needle) return { hits: [], total: 0 };
    const hits: TextBox[] = [];
    let total = 0;
    this.searchable.forEach((text, i) => {
      if (!text.includes(needle)) return;
      total += 1;
      const hit = this.texts[i];
      if (hit && hits.length < limit) hits.push(hit);
    });
    return { hits, total };
  }

  /** Everything the entity `owner` drew, for highlighting it. */
  geometryOf(owner: number): OwnerGeometry {
    const lines: number[] = [];
    const triangles: number[] = [];
    const boxes: number[] = [];
    let layer = -1;
    for (const batch of this.scene.batches) {
      const lo = batch.lineOwners;
      for (let i = 0; i < lo.length; i++) {
        if (lo[i] !== owner) continue;
        layer = batch.layer;
        for (let k = 0; k < 4; k++) lines.push(batch.lines[i * 4 + k] ?? 0);
      }
      const to = batch.triangleOwners;
      for (let i = 0; i < to.length; i++) {
        if (to[i] !== owner) continue;
        layer = batch.layer;
        for (let k = 0; k < 6; k++) triangles.push(batch.triangles[i * 6 + k] ?? 0);
      }
      const po = batch.pointOwners;
      for (let i = 0; i < po.length; i++) {
        if (po[i] !== owner) continue;
        layer = batch.layer;
        const x = batch.points[i * 2] ?? 0;
        const y = batch.points[i * 2 + 1] ?? 0;
        const r = this.cell / 4;
        boxes.push(x - r, y - r, x + r, y + r);
      }
    }
    for (const text of this.texts) {
      if (text.owner !== owner) continue;
      layer = text.layer;
      boxes.push(...text.box);
    }
    return { layer, lines: Float32Array.from(lines), triangles: Float32Array.from(triangles), boxes: Float32Array.from(boxes) };
  }

  /**
   * Outlines (as segments) of the texts that have no glyphs, per layer, so that a scene without
   * glyph meshes still shows where its texts are; `texts` counts them. The texts come in the order
   * of a grid, and `pieces` gives runs of them that lie together (first vertex, vertex count, min x,
   * min y, max x, max y, the tallest text's height), for culling and for leaving out texts too small
   * to see.
   */
  textOutlines(): ExtraLines[] {
    const perLayer = new Map<number, TextBox[]>();
    for (const text of this.texts) {
      if (text.exact || text.text.trim() === '') continue;
      const list = perLayer.get(text.layer) ?? [];
      list.push(text);
      perLayer.set(text.layer, list);
    }
    const out: ExtraLines[] = [];
    for (const [layer, texts] of perLayer) {
      const anchors = new Float32Array(texts.length * 2);
      texts.forEach((t, i) => anchors.set([t.box[0], t.box[1]], i * 2));
      const order = spatialOrder(anchors, 1, OUTLINE_TEXTS);
      const lines = new Float32Array(texts.length * 16);
      order.indices.forEach((index, k) => {
        const [x0, y0, x1, y1] = texts[index]?.box ?? [0, 0, 0, 0];
        // The baseline, the sides and the top: reads as "text here" without hiding the drawing.
        lines.set([x0, y0, x1, y0, x0, y0, x0, y1, x1, y0, x1, y1, x0, y1, x1, y1], k * 16);
      });
      const pieces: number[] = [];
      for (let p = 0; p < order.pieces.length; p += ORDERED_FIELDS) {
        const first = order.pieces[p] ?? 0;
        const count = order.pieces[p + 1] ?? 0;
        let tallest = 0;
        let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
        for (let k = first; k < first + count; k++) {
          const box = texts[order.indices[k] ?? 0]?.box;
          if (!box) continue;
          tallest = Math.max(tallest, box[3] - box[1]);
          x0 = Math.min(x0, box[0]);
          y0 = Math.min(y0, box[1]);
          x1 = Math.max(x1, box[2]);
          y1 = Math.max(y1, box[3]);
        }
        // Texts are 8 vertices each.
        pieces.push(first * 8, count * 8, x0, y0, x1, y1, tallest);
      }
      out.push({ layer, lines, texts: texts.length, pieces: Float32Array.from(pieces) });
    }
    return out;
  }

  /** Grid statistics, for benchmarks. */
  stats(): { cells: number; items: number; buildMs: number } {
    return { cells: this.nx * this.ny, items: this.items.length, buildMs: this.buildMs };
  }
}
