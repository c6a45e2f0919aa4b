/// <reference types="node" />
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeScene, parseTexts } from '../scene/decode';
import { buildScene, testLayer } from '../scene/testing';
import type { SceneText } from '../scene/types';
import { SceneIndex, normaliseForSearch, textBox } from './sceneIndex';

const ALL = new Uint8Array([1, 1, 1]);

function text(owner: number, value: string, position: [number, number], bounds: SceneText['bounds'] = null): SceneText {
  return { owner, layer: 1, text: value, position, height: 10, rotation: 0, bounds };
}

/** Layer 0: a square of four segments (owner 0) and a long diagonal (owner 1); layer 2: a fill and a point. */
function index(texts: SceneText[] = []) {
  const scene = decodeScene(
    buildScene({
      layers: [testLayer('Walls', 0xff0000), testLayer('Notes'), testLayer('Fill', 0x00ffff)],
      batches: [
        {
          layer: 0,
          ink: 0xff0000,
          lines: [0, 0, 100, 0, 100, 0, 100, 100, 100, 100, 0, 100, 0, 100, 0, 0, -1000, -1000, 1000, 1000],
          lineOwners: [0, 0, 0, 0, 1],
        },
        { layer: 2, ink: 0x00ffff, triangles: [200, 0, 300, 0, 200, 100], triangleOwners: [2], points: [500, 480], pointOwners: [3] },
      ],
      header: { bounds: [-1000, -1000, 1000, 1000], entityCount: 5 },
    }),
  );
  return new SceneIndex(scene, texts);
}

describe('SceneIndex.pick', () => {
  it('finds the nearest visible segment within the radius', () => {
    const idx = index();
    expect(idx.pick(50, 2, 5, ALL)).toMatchObject({ kind: 'segment', owner: 0, layer: 0 });
    expect(idx.pick(50, 2, 5, ALL)?.distance).toBeCloseTo(2);
    expect(idx.pick(50, 50, 5, ALL)).toMatchObject({ owner: 1 });
    expect(idx.pick(50, 30, 5, ALL)).toBeNull();
  });

  it('finds a long segment far from its ends (it is in every cell it crosses)', () => {
    expect(index().pick(-700, -699, 3, ALL)).toMatchObject({ owner: 1 });
    expect(index().pick(899, 900, 3, ALL)).toMatchObject({ owner: 1 });
  });

  it('skips hidden layers', () => {
    expect(index().pick(50, 2, 5, new Uint8Array([0, 1, 1]))).toBeNull();
  });

  it('picks a fill under the pointer when no line is near, and points by distance', () => {
    const idx = index();
    expect(idx.pick(220, 20, 1, ALL)).toMatchObject({ kind: 'triangle', owner: 2, layer: 2 });
    expect(idx.pick(290, 90, 1, ALL)).toBeNull();
    expect(idx.pick(503, 480, 5, ALL)).toMatchObject({ kind: 'point', owner: 3 });
  });

  it('picks a text by its box', () => {
    const idx = index([text(4, 'Kitchen', [-500, 300], [-500, 300, -430, 310])]);
    expect(idx.pick(-450, 305, 1, ALL)).toMatchObject({ kind: 'text', owner: 4, distance: 0 });
  });
});

describe('SceneIndex.snap', () => {
  it('snaps to the nearest segment end within the radius', () => {
    const idx = index();
    expect(idx.snap(97, 3, 10, ALL)).toEqual([100, 0]);
    expect(idx.snap(-995, -998, 10, ALL)).toEqual([-1000, -1000]);
    expect(idx.snap(50, 50, 10, ALL)).toBeNull();
  });

  it('snaps to points and ignores hidden layers', () => {
    const idx = index();
    expect(idx.snap(498, 479, 5, ALL)).toEqual([500, 480]);
    expect(idx.snap(498, 479, 5, new Uint8Array([1, 1, 0]))).toBeNull();
  });
});

describe('SceneIndex.search', () => {
  const idx = index([text(4, 'Kitchen', [0, 0]), text(5, '厨房 KITCHEN store', [0, 50]), text(6, 'Living room', [0, 100])]);

  it('finds texts regardless of case and width', () => {
    expect(idx.search('kitchen').hits.map((h) => h.owner)).toEqual([4, 5]);
    expect(idx.search('ＫＩＴ').hits.map((h) => h.owner)).toEqual([4, 5]);
    expect(idx.search('厨房').hits.map((h) => h.owner)).toEqual([5]);
    expect(idx.search('  ').total).toBe(0);
  });

  it('counts all hits but returns at most the limit', () => {
    expect(idx.search('i', 1)).toMatchObject({ total: 3, hits: [{ owner: 4 }] });
  });
});

describe('SceneIndex.geometryOf', () => {
  it('collects every primitive of an owner', () => {
    const idx = index([text(4, 'Kitchen', [0, 0], [0, 0, 70, 10])]);
    expect(idx.geometryOf(0).lines.length).toBe(16);
    expect(idx.geometryOf(0).layer).toBe(0);
    expect(idx.geometryOf(2).triangles.length).toBe(6);
    expect(Array.from(idx.geometryOf(4).boxes)).toEqual([0, 0, 70, 10]);
  });
});

describe('text boxes', () => {
  it('use the glyph bounds when there are any', () => {
    expect(textBox(text(1, 'AB', [0, 0], [1, 2, 3, 4]))).toEqual([1, 2, 3, 4]);
  });

  it('are estimated from the height and length otherwise, rotated with the text', () => {
    const [x0, y0, x1, y1] = textBox(text(1, 'ABCDE', [10, 20]));
    expect([x0, y0, y1]).toEqual([10, 20, 30]);
    expect(x1).toBeCloseTo(40);
    const rotated = textBox({ ...text(1, 'ABCDE', [0, 0]), rotation: Math.PI / 2 });
    expect(rotated[2]).toBeCloseTo(0);
    expect(rotated[3]).toBeCloseTo(30);
  });

  it('outline only texts without glyphs', () => {
    const idx = index([text(4, 'A', [0, 0]), text(5, 'B', [0, 0], [0, 0, 1, 1])]);
    const outlines = idx.textOutlines();
    expect(outlines).toHaveLength(1);
    expect(outlines[0]?.lines.length).toBe(16);
    expect(outlines[0]?.texts).toBe(1);
  });

  it('normalise for search', () => {
    expect(normaliseForSearch('ＡＢＣ Ab')).toBe('abc ab');
  });
});

describe('on the plan drawing', () => {
  const file = readFileSync(path.join(__dirname, '..', 'scene', 'fixtures', 'plan.zkscene'));
  const scene = decodeScene(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength));
  const idx = new SceneIndex(scene, parseTexts(scene.textBytes));
  const visible = new Uint8Array(scene.header.layers.length).fill(1);

  it('snaps to both ends of the GRID line, 5000 apart', () => {
    // (1000, 1000) and (4000, 5000) in the drawing; the scene's origin is (5000, 3000).
    const a = idx.snap(-3990, -1990, 50, visible);
    const b = idx.snap(-1010, 2010, 50, visible);
    expect(a).toEqual([-4000, -2000]);
    expect(b).toEqual([-1000, 2000]);
    expect(Math.hypot(-1000 - -4000, 2000 - -2000)).toBe(5000);
  });

  it('picks the GRID line in the middle', () => {
    const grid = scene.header.layers.findIndex((l) => l.name === 'GRID');
    expect(idx.pick(-2500, 0, 20, visible)).toMatchObject({ kind: 'segment', layer: grid });
  });
});
