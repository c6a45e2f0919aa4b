// Batches and glyph runs cut into pieces of consecutive primitives, each with its bounding box, so
// that a frame draws only the pieces in view and a large scene can be drawn a few pieces a frame.
// CAD files list an entity's primitives together and neighbouring entities mostly near each other,
// so consecutive primitives make compact pieces; where they do not, a piece is merely large.

/** Primitives (segments, triangles, points) a piece holds at most. */
export const PIECE_PRIMITIVES = 16_384;
/** Glyph instances a piece holds at most. */
export const PIECE_INSTANCES = 4_096;

export type Rect = [number, number, number, number];

/**
 * Bounds of each piece of `data` (x, y pairs, `pairsPer` of them a primitive), as min x, min y,
 * max x, max y per piece of `perPiece` primitives.
 */
export function pieceBounds(data: Float32Array, pairsPer: number, perPiece = PIECE_PRIMITIVES): Float32Array {
  const floatsPer = pairsPer * 2;
  const primitives = Math.floor(data.length / floatsPer);
  const pieces = Math.ceil(primitives / perPiece);
  const out = new Float32Array(pieces * 4);
  for (let p = 0; p < pieces; p++) {
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    const end = Math.min(primitives, (p + 1) * perPiece) * floatsPer;
    for (let i = p * perPiece * floatsPer; i < end; i += 2) {
      const x = data[i] ?? 0;
      const y = data[i + 1] ?? 0;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    out.set([minX, minY, maxX, maxY], p * 4);
  }
  return out;
}

/** How far from its origin a glyph mesh reaches, in em units (for the bounds of its instances). */
export function meshReach(vertices: Float32Array, first: number, count: number): number {
  let reach = 0;
  for (let v = first; v < first + count; v++) {
    reach = Math.max(reach, Math.abs(vertices[v * 2] ?? 0), Math.abs(vertices[v * 2 + 1] ?? 0));
  }
  return reach;
}

/** The em size (scene units) of the glyph instance whose record starts at float `o`: its longer axis. */
export function instanceEm(floats: Float32Array, o: number): number {
  return Math.max(Math.hypot(floats[o] ?? 0, floats[o + 1] ?? 0), Math.hypot(floats[o + 2] ?? 0, floats[o + 3] ?? 0));
}

/**
 * Bounds and the largest em size (scene units) of the glyph instances `first .. first + count`
 * (records of 8 words: a b c d tx ty layer ink), for a mesh reaching `reach` em from its origin.
 */
export function glyphPiece(floats: Float32Array, first: number, count: number, reach: number): { bounds: Rect; em: number } {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  let em = 0;
  for (let i = first; i < first + count; i++) {
    const o = i * 8;
    const size = instanceEm(floats, o);
    const r = size * reach * Math.SQRT2;
    const x = floats[o + 4] ?? 0;
    const y = floats[o + 5] ?? 0;
    if (x - r < minX) minX = x - r;
    if (x + r > maxX) maxX = x + r;
    if (y - r < minY) minY = y - r;
    if (y + r > maxY) maxY = y + r;
    if (size > em) em = size;
  }
  return { bounds: [minX, minY, maxX, maxY], em };
}

export function overlaps(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return (a[0] ?? 0) <= (b[2] ?? 0) && (b[0] ?? 0) <= (a[2] ?? 0) && (a[1] ?? 0) <= (b[3] ?? 0) && (b[1] ?? 0) <= (a[3] ?? 0);
}

/** Primitives a spatially ordered piece holds on average. */
export const ORDERED_PIECE = 512;

/** Fields of one ordered piece in `SpatialOrder.pieces`: first index, index count, then its bounds. */
export const ORDERED_FIELDS = 6;

export interface SpatialOrder {
  /** Vertex indices (an element buffer), the primitives grouped by the grid cell they start in. */
  indices: Uint32Array;
  /** Per piece: first index, index count, min x, min y, max x, max y. */
  pieces: Float32Array;
}

/**
 * The primitives of `data` (x, y pairs, `pairsPer` a primitive) in the order of a grid of about
 * `target` primitives a cell, as vertex indices with a piece per non-empty cell (split when one holds
 * more than PIECE_PRIMITIVES): the texts' outlines are grouped so. Counting sort: two passes, no
 * comparisons.
 */
export function spatialOrder(data: Float32Array, pairsPer: number, target = ORDERED_PIECE): SpatialOrder {
  const floatsPer = pairsPer * 2;
  const n = Math.floor(data.length / floatsPer);
  const all = pieceBounds(data, pairsPer, Number.MAX_SAFE_INTEGER);
  const [minX, minY, maxX, maxY] = [all[0] ?? 0, all[1] ?? 0, all[2] ?? 0, all[3] ?? 0];
  const width = Math.max(maxX - minX, 1e-9);
  const height = Math.max(maxY - minY, 1e-9);
  const cells = Math.max(1, Math.ceil(n / target));
  const gx = Math.max(1, Math.min(4096, Math.round(Math.sqrt((cells * width) / height))));
  const gy = Math.max(1, Math.min(4096, Math.ceil(cells / gx)));
  const cellOf = new Uint32Array(n);
  const counts = new Uint32Array(gx * gy + 1);
  for (let p = 0; p < n; p++) {
    const x = Math.min(gx - 1, Math.floor((((data[p * floatsPer] ?? 0) - minX) / width) * gx));
    const y = Math.min(gy - 1, Math.floor((((data[p * floatsPer + 1] ?? 0) - minY) / height) * gy));
    const cell = Math.max(0, y) * gx + Math.max(0, x);
    cellOf[p] = cell;
    counts[cell + 1] = (counts[cell + 1] ?? 0) + 1;
  }
  for (let c = 1; c < counts.length; c++) counts[c] = (counts[c] ?? 0) + (counts[c - 1] ?? 0);
  const starts = counts.slice(0, counts.length - 1);
  const order = new Uint32Array(n);
  for (let p = 0; p < n; p++) {
    const cell = cellOf[p] ?? 0;
    const at = starts[cell] ?? 0;
    order[at] = p;
    starts[cell] = at + 1;
  }
  const indices = new Uint32Array(n * pairsPer);
  for (let k = 0; k < n; k++) {
    const p = order[k] ?? 0;
    for (let v = 0; v < pairsPer; v++) indices[k * pairsPer + v] = p * pairsPer + v;
  }
  const pieces: number[] = [];
  for (let c = 0; c < gx * gy; c++) {
    const from = counts[c] ?? 0;
    const to = counts[c + 1] ?? 0;
    for (let start = from; start < to; start += PIECE_PRIMITIVES) {
      const end = Math.min(to, start + PIECE_PRIMITIVES);
      let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
      for (let k = start; k < end; k++) {
        const o = (order[k] ?? 0) * floatsPer;
        for (let v = 0; v < floatsPer; v += 2) {
          const x = data[o + v] ?? 0;
          const y = data[o + v + 1] ?? 0;
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
      }
      pieces.push(start * pairsPer, (end - start) * pairsPer, x0, y0, x1, y1);
    }
  }
  return { indices, pieces: Float32Array.from(pieces) };
}
