import { describe, expect, it } from 'vitest';
import { decodeScene } from '../scene/decode';
import { buildScene, testLayer } from '../scene/testing';
import { allLayersOn, initialVisibility, isIsolated, isolateLayer, layerUsage, toggleLayer, visibilityBytes } from './layers';

describe('layer visibility', () => {
  const layers = [testLayer('0'), { ...testLayer('Off'), on: false }, { ...testLayer('Frozen'), frozen: true }, testLayer('Walls')];

  it('starts as the drawing says: off and frozen layers hidden', () => {
    expect(initialVisibility(layers)).toEqual([true, false, false, true]);
  });

  it('toggles one layer', () => {
    expect(toggleLayer([true, false, true], 1)).toEqual([true, true, true]);
    expect(toggleLayer([true, false, true], 0)).toEqual([false, false, true]);
  });

  it('isolates one layer and turns all on again', () => {
    const isolated = isolateLayer([true, false, true], 2);
    expect(isolated).toEqual([false, false, true]);
    expect(isIsolated(isolated, 2)).toBe(true);
    expect(isIsolated(isolated, 0)).toBe(false);
    expect(allLayersOn(isolated)).toEqual([true, true, true]);
  });

  it('packs visibility as bytes for the worker and the GPU', () => {
    expect(Array.from(visibilityBytes([true, false, true]))).toEqual([1, 0, 1]);
  });

  it('counts what each layer draws', () => {
    const scene = decodeScene(
      buildScene({
        layers: [testLayer('0'), testLayer('A'), testLayer('B')],
        batches: [{ layer: 1, lines: [0, 0, 1, 1, 1, 1, 2, 2], lineOwners: [0, 0], points: [3, 3], pointOwners: [1] }],
        glyphs: {
          vertices: [0, 0, 1, 0, 0, 1],
          meshes: [{ first: 0, count: 3 }],
          instances: [{ mesh: 0, transform: [1, 0, 0, 1, 0, 0], layer: 2, ink: 0, owner: 2 }],
        },
      }),
    );
    expect(layerUsage(scene)).toEqual([0, 3, 1]);
  });
});
