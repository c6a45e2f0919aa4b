import { describe, expect, it } from 'vitest';
import {
  IDENTITY,
  affineMat3,
  applyAffine,
  clipTransform,
  compose,
  fit,
  pan,
  sceneToScreen,
  screenToScene,
  viewAffine,
  viewportAffine,
  visibleBounds,
  wheelFactor,
  zoomAt,
  zoomLimits,
  type Camera,
} from './camera';

const view = { width: 800, height: 600 };

describe('camera', () => {
  it('maps the view centre to the camera point and y up to screen y down', () => {
    const camera: Camera = { x: 100, y: 50, scale: 2 };
    expect(screenToScene(camera, view, 400, 300)).toEqual([100, 50]);
    expect(screenToScene(camera, view, 402, 298)).toEqual([101, 51]);
    expect(sceneToScreen(camera, view, 101, 51)).toEqual([402, 298]);
  });

  it('keeps the scene point under the cursor when zooming in and out', () => {
    const camera: Camera = { x: -37.5, y: 1200, scale: 0.37 };
    for (const [sx, sy, factor] of [
      [10, 20, 1.2],
      [799, 1, 1 / 1.2],
      [400, 300, 8],
      [123.4, 567.8, 0.01],
    ] as const) {
      const before = screenToScene(camera, view, sx, sy);
      const zoomed = zoomAt(camera, view, sx, sy, factor);
      const after = screenToScene(zoomed, view, sx, sy);
      expect(zoomed.scale).toBeCloseTo(camera.scale * factor, 12);
      expect(after[0]).toBeCloseTo(before[0], 9);
      expect(after[1]).toBeCloseTo(before[1], 9);
    }
  });

  it('clamps the zoom to its limits and still keeps the point under the cursor', () => {
    const camera: Camera = { x: 0, y: 0, scale: 1 };
    const zoomed = zoomAt(camera, view, 100, 100, 1e9, zoomLimits(1));
    expect(zoomed.scale).toBe(1e6);
    const [x, y] = screenToScene(zoomed, view, 100, 100);
    const [x0, y0] = screenToScene(camera, view, 100, 100);
    expect(x).toBeCloseTo(x0, 6);
    expect(y).toBeCloseTo(y0, 6);
  });

  it('pans so that the scene follows the pointer', () => {
    const camera: Camera = { x: 0, y: 0, scale: 4 };
    const grabbed = screenToScene(camera, view, 200, 200);
    const moved = pan(camera, 40, -20);
    expect(screenToScene(moved, view, 240, 180)).toEqual(grabbed);
  });

  it('fits bounds with padding, centred, keeping the aspect ratio', () => {
    const camera = fit([0, 0, 10000, 6000], view, 20);
    expect(camera.x).toBe(5000);
    expect(camera.y).toBe(3000);
    expect(camera.scale).toBeCloseTo(760 / 10000);
    const [minX, minY, maxX, maxY] = visibleBounds(camera, view);
    expect(minX).toBeLessThan(0);
    expect(maxX).toBeGreaterThan(10000);
    expect(minY).toBeLessThan(0);
    expect(maxY).toBeGreaterThan(6000);
  });

  it('fits a single point without dividing by zero', () => {
    const camera = fit([5, 5, 5, 5], view);
    expect(Number.isFinite(camera.scale)).toBe(true);
    expect(camera.x).toBe(5);
  });

  it('gives the clip transform that puts the view centre at (0, 0) and its edges at ±1', () => {
    const camera: Camera = { x: 10, y: 20, scale: 2 };
    const [sx, sy, tx, ty] = clipTransform(camera, view);
    expect(10 * sx + tx).toBeCloseTo(0);
    expect(20 * sy + ty).toBeCloseTo(0);
    const [right] = screenToScene(camera, view, 800, 0);
    expect(right * sx + tx).toBeCloseTo(1);
  });

  it('turns wheel notches into a bounded zoom factor', () => {
    expect(wheelFactor(-100, 0)).toBeGreaterThan(1);
    expect(wheelFactor(100, 0)).toBeLessThan(1);
    expect(wheelFactor(-3, 1)).toBeCloseTo(wheelFactor(-120, 0));
    expect(wheelFactor(-1e6, 0)).toBe(wheelFactor(-300, 0));
  });
});

describe('affine maps', () => {
  it('compose in order: inner first', () => {
    const scale = [2, 0, 0, 2, 0, 0] as const;
    const shift = [1, 0, 0, 1, 10, 0] as const;
    expect(applyAffine(compose(shift, scale), 1, 1)).toEqual([12, 2]);
    expect(applyAffine(compose(scale, shift), 1, 1)).toEqual([22, 2]);
  });

  it('map the view centre of a viewport to its frame centre, scaled to its height', () => {
    // Model scene origin (5000, 3000); the viewport shows 6600 units high around (5000, 3000) in a
    // 220-unit-high frame centred on (200, 160).
    const m = viewportAffine({ center: [200, 160], height: 220, viewCenter: [5000, 3000], viewHeight: 6600, twistDeg: 0 }, [5000, 3000]);
    expect(applyAffine(m, 0, 0)).toEqual([200, 160]);
    const [x, y] = applyAffine(m, 3300, 0);
    expect(x).toBeCloseTo(310);
    expect(y).toBeCloseTo(160);
  });

  it('turn by the twist angle', () => {
    const m = viewportAffine({ center: [0, 0], height: 1, viewCenter: [0, 0], viewHeight: 1, twistDeg: 90 }, [0, 0]);
    const [x, y] = applyAffine(m, 1, 0);
    expect(x).toBeCloseTo(0);
    expect(y).toBeCloseTo(1);
  });

  it('give a column-major mat3', () => {
    expect(Array.from(affineMat3([1, 2, 3, 4, 5, 6]))).toEqual([1, 2, 0, 3, 4, 0, 5, 6, 1]);
    expect(applyAffine(compose(viewAffine({ x: 0, y: 0, scale: 1 }, { width: 2, height: 2 }), IDENTITY), 1, 1)).toEqual([1, 1]);
  });
});
