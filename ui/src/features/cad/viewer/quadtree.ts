import type { DecodedGlyphs, DecodedScene } from '../scene/decode';
import { instanceEm } from './chunks';

// A quadtree over an array's primitives, laid out so that every node is one contiguous range: the
// primitives are sorted by the Morton (Z-order) code of a point of theirs, and a node is a prefix
// of the code. A frame then draws, per array, the few ranges of the nodes in view: whole subtrees
// where the view covers them, leaves along its edges (see `visibleRanges`). Built in the worker.

/** Fields of a node in `Quadtree.nodes`. */
export const NODE_FIELDS = 8;
/** Offsets of a node's fields: first primitive (into the order), primitive count, bounds, largest em, next node outside its subtree. */
export const NODE = { first: 0, count: 1, minX: 2, minY: 3, maxX: 4, maxY: 5, em: 6, next: 7 } as const;
/** Primitives a leaf holds at most (unless the codes run out): segments, triangles, points. */
export const LEAF_SIZE = 64;
/**
 * Glyph instances a leaf holds at most: fewer, as a run (one character of one font) is spread thin
 * over the whole drawing and each instance is tens of triangles.
 */
export const GLYPH_LEAF_SIZE = 16;
/** Bits of the grid a code is made on, per axis: 1024 × 1024 cells. */
const BITS = 10;

export interface Quadtree {
  /** Primitive indices in Morton order. */
  order: Uint32Array;
  /** Nodes in pre-order (NODE_FIELDS each): a node's children follow it; `next` skips them. */
  nodes: Float64Array;
}

/** Spreads the 10 low bits of `v` to the even bits of a 20-bit number. */
function spread(v: number): number {
  let x = v & 0x3ff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  x = (x | (x << 1)) & 0x55555555;
  return x;
}

/**
 * Builds the tree of `n` primitives from a key point each (`keys`: x, y), their boxes (`boxes`: min
 * x, min y, max x, max y) and, for glyphs, their em sizes (`ems`; else Infinity: always visible).
 */
export function buildQuadtree(n: number, keys: Float32Array, boxes: Float32Array, ems: Float32Array | null = null, leaf = LEAF_SIZE): Quadtree {
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    const x = keys[i * 2] ?? 0;
    const y = keys[i * 2 + 1] ?? 0;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const side = (1 << BITS) - 1;
  const sx = maxX > minX ? side / (maxX - minX) : 0;
  const sy = maxY > minY ? side / (maxY - minY) : 0;
  const codes = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const qx = Math.round(((keys[i * 2] ?? 0) - minX) * sx);
    const qy = Math.round(((keys[i * 2 + 1] ?? 0) - minY) * sy);
    codes[i] = spread(qx) | (spread(qy) << 1);
  }
  // Radix sort of the indices by code: two passes of 10 bits.
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let spare = new Uint32Array(n);
  for (let shift = 0; shift < 2 * BITS; shift += BITS) {
    const counts = new Uint32Array((1 << BITS) + 1);
    for (let k = 0; k < n; k++) {
      const digit = ((codes[order[k] ?? 0] ?? 0) >>> shift) & side;
      counts[digit + 1] = (counts[digit + 1] ?? 0) + 1;
    }
    for (let d = 1; d < counts.length; d++) counts[d] = (counts[d] ?? 0) + (counts[d - 1] ?? 0);
    for (let k = 0; k < n; k++) {
      const index = order[k] ?? 0;
      const digit = ((codes[index] ?? 0) >>> shift) & side;
      const at = counts[digit] ?? 0;
      spare[at] = index;
      counts[digit] = at + 1;
    }
    [order, spare] = [spare, order];
  }
  const sorted = new Uint32Array(n);
  for (let k = 0; k < n; k++) sorted[k] = codes[order[k] ?? 0] ?? 0;

  const nodes: number[] = [];
  /** The first position in [from, to) whose code's digit at `shift` is at least `digit`. */
  const lowerBound = (from: number, to: number, shift: number, digit: number) => {
    let lo = from;
    let hi = to;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((((sorted[mid] ?? 0) >>> shift) & 3) < digit) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  /** Writes the node of [from, to) at `level` and its subtree; returns its bounds and em. */
  const build = (from: number, to: number, level: number): [number, number, number, number, number] => {
    const at = nodes.length;
    nodes.push(from, to - from, 0, 0, 0, 0, 0, 0);
    const box: [number, number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity, 0];
    const join = (b: readonly number[]) => {
      box[0] = Math.min(box[0], b[0] ?? Infinity);
      box[1] = Math.min(box[1], b[1] ?? Infinity);
      box[2] = Math.max(box[2], b[2] ?? -Infinity);
      box[3] = Math.max(box[3], b[3] ?? -Infinity);
      box[4] = Math.max(box[4], b[4] ?? 0);
    };
    if (to - from <= leaf || level === BITS) {
      for (let k = from; k < to; k++) {
        const p = order[k] ?? 0;
        join([boxes[p * 4] ?? 0, boxes[p * 4 + 1] ?? 0, boxes[p * 4 + 2] ?? 0, boxes[p * 4 + 3] ?? 0, ems ? (ems[p] ?? 0) : Infinity]);
      }
    } else {
      const shift = 2 * (BITS - level - 1);
      let start = from;
      for (let digit = 1; digit <= 4; digit++) {
        const end = digit === 4 ? to : lowerBound(start, to, shift, digit);
        if (end > start) join(build(start, end, level + 1));
        start = end;
      }
    }
    nodes[at + NODE.minX] = box[0];
    nodes[at + NODE.minY] = box[1];
    nodes[at + NODE.maxX] = box[2];
    nodes[at + NODE.maxY] = box[3];
    nodes[at + NODE.em] = box[4];
    nodes[at + NODE.next] = nodes.length / NODE_FIELDS;
    return box;
  };
  if (n > 0) build(0, n, 0);
  return { order, nodes: Float64Array.from(nodes) };
}

/**
 * The ranges (first, count, in primitives of the order) to draw for a view: a node outside the view,
 * or whose primitives are all smaller than `minEm` (scene units), is skipped; one inside the view, or
 * a leaf, is drawn whole; one across the view's edge is opened. Consecutive ranges are merged.
 */
export function visibleRanges(nodes: Float64Array, view: readonly number[], minEm: number): number[] {
  const out: number[] = [];
  const total = nodes.length / NODE_FIELDS;
  let i = 0;
  while (i < total) {
    const o = i * NODE_FIELDS;
    const next = nodes[o + NODE.next] ?? total;
    const x0 = nodes[o + NODE.minX] ?? 0;
    const y0 = nodes[o + NODE.minY] ?? 0;
    const x1 = nodes[o + NODE.maxX] ?? 0;
    const y1 = nodes[o + NODE.maxY] ?? 0;
    const [v0, v1, v2, v3] = [view[0] ?? 0, view[1] ?? 0, view[2] ?? 0, view[3] ?? 0];
    if (x1 < v0 || x0 > v2 || y1 < v1 || y0 > v3 || (nodes[o + NODE.em] ?? 0) < minEm) {
      i = next;
      continue;
    }
    const inside = x0 >= v0 && x1 <= v2 && y0 >= v1 && y1 <= v3;
    if (inside || next === i + 1) {
      const first = nodes[o + NODE.first] ?? 0;
      const count = nodes[o + NODE.count] ?? 0;
      const last = out.length - 2;
      if (last >= 0 && (out[last] ?? 0) + (out[last + 1] ?? 0) === first) out[last + 1] = (out[last + 1] ?? 0) + count;
      else out.push(first, count);
      i = next;
    } else {
      i += 1;
    }
  }
  return out;
}

/** A batch array's tree: `indices` (an element buffer) list its vertices in the tree's order. */
export interface ArrayTree {
  batch: number;
  kind: 'triangles' | 'lines' | 'points';
  indices: Uint32Array;
  nodes: Float64Array;
}

/** The glyph instances' trees: the records rewritten in each run's tree order, and a tree a run. */
export interface GlyphTrees {
  records: ArrayBuffer;
  /** Node ranges count instances from the run's first. */
  runs: { run: number; nodes: Float64Array }[];
}

/** Arrays with fewer primitives than this are a few pieces anyway: no tree. */
export const TREE_MIN = 4096;

/** Trees of the scene's large batch arrays (a primitive's key is its first corner). */
export function batchTrees(scene: DecodedScene): ArrayTree[] {
  const out: ArrayTree[] = [];
  scene.batches.forEach((b, batch) => {
    for (const [kind, data, pairs] of [
      ['triangles', b.triangles, 3],
      ['lines', b.lines, 2],
      ['points', b.points, 1],
    ] as const) {
      const n = data.length / (pairs * 2);
      if (n < TREE_MIN) continue;
      const keys = new Float32Array(n * 2);
      const boxes = new Float32Array(n * 4);
      for (let p = 0; p < n; p++) {
        const o = p * pairs * 2;
        let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
        for (let v = 0; v < pairs * 2; v += 2) {
          const x = data[o + v] ?? 0;
          const y = data[o + v + 1] ?? 0;
          x0 = Math.min(x0, x);
          y0 = Math.min(y0, y);
          x1 = Math.max(x1, x);
          y1 = Math.max(y1, y);
        }
        keys[p * 2] = data[o] ?? 0;
        keys[p * 2 + 1] = data[o + 1] ?? 0;
        boxes.set([x0, y0, x1, y1], p * 4);
      }
      const { order, nodes } = buildQuadtree(n, keys, boxes);
      const indices = new Uint32Array(n * pairs);
      for (let k = 0; k < n; k++) for (let v = 0; v < pairs; v++) indices[k * pairs + v] = (order[k] ?? 0) * pairs + v;
      out.push({ batch, kind, indices, nodes });
    }
  });
  return out;
}

/**
 * Trees of the glyph runs with many instances, and the records rewritten so that each run's
 * instances follow its tree (an index buffer cannot reorder per-instance attributes). `reach` is
 * how far each mesh reaches from its origin, in em.
 */
export function glyphTrees(glyphs: DecodedGlyphs, reach: readonly number[]): GlyphTrees | null {
  const { instanceWords: words, instanceFloats: floats, runs } = glyphs;
  if (!runs.some((run) => run.count >= TREE_MIN / 4)) return null;
  const out = new Uint32Array(words);
  const trees: GlyphTrees['runs'] = [];
  runs.forEach((run, r) => {
    const n = run.count;
    if (n < TREE_MIN / 4) return;
    const keys = new Float32Array(n * 2);
    const boxes = new Float32Array(n * 4);
    const ems = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const o = (run.first + i) * 8;
      const size = instanceEm(floats, o);
      const x = floats[o + 4] ?? 0;
      const y = floats[o + 5] ?? 0;
      const radius = size * (reach[run.mesh] ?? 1) * Math.SQRT2;
      keys.set([x, y], i * 2);
      boxes.set([x - radius, y - radius, x + radius, y + radius], i * 4);
      ems[i] = size;
    }
    const { order, nodes } = buildQuadtree(n, keys, boxes, ems, GLYPH_LEAF_SIZE);
    for (let k = 0; k < n; k++) {
      const from = (run.first + (order[k] ?? 0)) * 8;
      out.set(words.subarray(from, from + 8), (run.first + k) * 8);
    }
    trees.push({ run: r, nodes });
  });
  return { records: out.buffer, runs: trees };
}
