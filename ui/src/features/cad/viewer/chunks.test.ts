import { describe, expect, it } from 'vitest';
import { glyphPiece, meshReach, overlaps, pieceBounds, spatialOrder } from './chunks';
import { applyAffine, clipRectInScene, invertAffine, viewAffine } from './camera';

describe('pieces', () => {
  it('bound consecutive segments, a piece at a time', () => {
    const lines = Float32Array.of(0, 0, 1, 1, 5, 5, 6, 4, -2, 3, -1, 3);
    expect(Array.from(pieceBounds(lines, 2, 2))).toEqual([0, 0, 6, 5, -2, 3, -1, 3]);
    expect(pieceBounds(new Float32Array(), 2).length).toBe(0);
  });

  it('bound glyph instances by their placement, size and the mesh’s reach', () => {
    const vertices = Float32Array.of(0, 0, 1, 0, 0, 1.2);
    expect(meshReach(vertices, 0, 3)).toBeCloseTo(1.2);
    // Two instances 10 units high at x = 0 and x = 100.
    const floats = Float32Array.of(10, 0, 0, 10, 0, 0, 0, 0, 10, 0, 0, 10, 100, 0, 0, 0);
    const { bounds, em } = glyphPiece(floats, 0, 2, 1);
    expect(em).toBe(10);
    expect(bounds[0]).toBeLessThanOrEqual(-10);
    expect(bounds[2]).toBeGreaterThanOrEqual(110);
  });

  it('overlap tests rectangles, edges included', () => {
    expect(overlaps([0, 0, 1, 1], [1, 1, 2, 2])).toBe(true);
    expect(overlaps([0, 0, 1, 1], [1.1, 0, 2, 1])).toBe(false);
  });
});

describe('what is on screen', () => {
  it('inverts an affine map', () => {
    const m = [2, 1, -1, 3, 5, -7] as const;
    const inverse = invertAffine(m);
    expect(inverse).not.toBeNull();
    const [x, y] = applyAffine(m, 3, 4);
    const back = applyAffine(inverse ?? m, x, y);
    expect(back[0]).toBeCloseTo(3);
    expect(back[1]).toBeCloseTo(4);
    expect(invertAffine([1, 2, 2, 4, 0, 0])).toBeNull();
  });

  it('gives the scene rectangle a camera shows', () => {
    const rect = clipRectInScene(viewAffine({ x: 100, y: 50, scale: 2 }, { width: 800, height: 600 }));
    expect(rect?.map((v) => Math.round(v))).toEqual([-100, -100, 300, 200]);
  });
});

describe('spatial order', () => {
  it('groups primitives by grid cell, every one exactly once, each piece bounding its own', () => {
    // Segments alternating between two far corners: file order is spatially useless.
    const segments: number[] = [];
    for (let i = 0; i < 100; i++) {
      const x = i % 2 === 0 ? 0 : 1000;
      segments.push(x + i * 0.1, 0, x + i * 0.1 + 1, 1);
    }
    const { indices, pieces } = spatialOrder(Float32Array.from(segments), 2, 25);
    expect(indices.length).toBe(200);
    expect(new Set(indices).size).toBe(200);
    for (let k = 0; k < indices.length; k += 2) expect(indices[k + 1]).toBe((indices[k] ?? 0) + 1);
    const bounds: number[][] = [];
    let covered = 0;
    for (let p = 0; p < pieces.length; p += 6) {
      covered += pieces[p + 1] ?? 0;
      bounds.push(Array.from(pieces.subarray(p + 2, p + 6)));
    }
    expect(covered).toBe(200);
    // No piece spans both corners.
    expect(bounds.every(([x0, , x1]) => (x1 ?? 0) - (x0 ?? 0) < 500)).toBe(true);
  });
});
