/// <reference types="node" />
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { INK_FOREGROUND, SceneFormatError, decodeScene, parseTexts } from './decode';
import { buildScene, encodeDocument, testLayer } from './testing';
import type { SceneViewport } from './types';

/** A real scene: `cad_read --wire plan.zkscene ui/e2e/fixtures/plan.dxf` (see make_plan.py). */
function planScene(): ArrayBuffer {
  const file = readFileSync(path.join(__dirname, 'fixtures', 'plan.zkscene'));
  return file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
}

function errorOf(run: () => unknown): SceneFormatError {
  try {
    run();
  } catch (error) {
    if (error instanceof SceneFormatError) return error;
    throw error;
  }
  throw new Error('expected a SceneFormatError');
}

describe('decodeScene on a scene written by zk-cad', () => {
  const buffer = planScene();
  const scene = decodeScene(buffer);

  it('reads the header', () => {
    expect(scene.header.layout).toBe('Model');
    expect(scene.header.paperSpace).toBe(false);
    expect(scene.header.origin).toEqual([5000, 3000]);
    expect(scene.header.bounds).toEqual([0, 0, 10000, 6000]);
    expect(scene.header.units).toBe('millimeters');
    expect(scene.header.layers.map((l) => l.name)).toContain('GRID');
    expect(scene.header.layers.find((l) => l.name === 'WALLS')?.color).toBe(0xff0000);
    expect(scene.header.layers.find((l) => l.name === 'NOTES')?.color).toBeNull();
  });

  it('gives the GRID line relative to the origin, as a view of the downloaded buffer', () => {
    const grid = scene.header.layers.findIndex((l) => l.name === 'GRID');
    const batch = scene.batches.find((b) => b.layer === grid && b.lines.length > 0);
    expect(batch).toBeDefined();
    expect(Array.from(batch?.lines ?? [])).toEqual([-4000, -2000, -1000, 2000]);
    expect(batch?.lines.buffer).toBe(buffer);
    expect(batch?.lineOwners.length).toBe(1);
    expect(batch?.ink).toBe(0x0000ff);
  });

  it('counts primitives and reads the texts', () => {
    expect(scene.counts.segments).toBeGreaterThan(80);
    expect(scene.counts.triangles).toBe(2);
    const texts = parseTexts(scene.textBytes);
    expect(texts.map((t) => t.text)).toEqual(['Kitchen', 'Living room', '厨房 Kitchen store']);
    expect(texts[0]?.position[0]).toBeCloseTo(2000);
  });

  it('refuses every truncation of the document with a SceneFormatError, never a crash', () => {
    const whole = new Uint8Array(buffer);
    for (let length = 0; length < whole.length; length += 7) {
      const cut = whole.slice(0, length).buffer;
      const error = errorOf(() => decodeScene(cut));
      expect(['truncated', 'slice', 'header', 'magic']).toContain(error.code);
    }
  });
});

describe('decodeScene refuses bad documents', () => {
  it('wrong magic', () => {
    const bytes = new Uint8Array(buildScene({}));
    bytes[0] = 'X'.charCodeAt(0);
    const error = errorOf(() => decodeScene(bytes.buffer));
    expect(error.code).toBe('magic');
    expect(error.message).toMatch(/not a ZK-Agent scene/);
  });

  it('a DXF file instead of a scene', () => {
    const dxf = new TextEncoder().encode('0\nSECTION\n2\nENTITIES\n0\nENDSEC\n0\nEOF\n');
    expect(errorOf(() => decodeScene(dxf.buffer)).code).toBe('magic');
  });

  it('a header longer than the document', () => {
    const bytes = new Uint8Array(buildScene({}));
    new DataView(bytes.buffer).setUint32(8, 1_000_000, true);
    const error = errorOf(() => decodeScene(bytes.buffer));
    expect(error.code).toBe('truncated');
    expect(error.message).toMatch(/cut short/);
  });

  it('a header that is not JSON', () => {
    const bytes = new Uint8Array(buildScene({}));
    bytes[12] = '!'.charCodeAt(0);
    expect(errorOf(() => decodeScene(bytes.buffer)).code).toBe('header');
  });

  it('the layers a viewport freezes, and none for a scene written before they were', () => {
    const viewport: Omit<SceneViewport, 'frozenLayers'> = { owner: 0, center: [0, 0], width: 10, height: 10, viewCenter: [0, 0], viewHeight: 10, twistDeg: 0 };
    const layers = [testLayer('0'), testLayer('Notes')];
    const frozen = decodeScene(buildScene({ layers, header: { paperSpace: true, viewports: [{ ...viewport, frozenLayers: [1] }] } }));
    expect(frozen.header.viewports[0]?.frozenLayers).toEqual([1]);
    const before = decodeScene(buildScene({ layers, header: { paperSpace: true, viewports: [viewport as never] } }));
    expect(before.header.viewports[0]?.frozenLayers).toEqual([]);
    const bad = buildScene({ layers, header: { viewports: [{ ...viewport, frozenLayers: [-1] }] as never } });
    expect(errorOf(() => decodeScene(bad)).message).toMatch(/viewports\[0\]\.frozenLayers\[0\]/);
  });

  it('how much of a layout over a budget was drawn, and nothing for a whole scene', () => {
    const shortfall = { instancesDrawn: 1048576, instancesTotal: 1073676289, message: '1048576 of 1073676289 instances drawn: over the budget' };
    const partial = decodeScene(buildScene({ header: { truncated: true, shortfall } }));
    expect(partial.header.shortfall).toEqual(shortfall);
    expect(decodeScene(buildScene({})).header.shortfall).toBeUndefined();
    const bad = buildScene({ header: { truncated: true, shortfall: { ...shortfall, instancesTotal: 'many' } as never } });
    expect(errorOf(() => decodeScene(bad)).message).toMatch(/shortfall\.instancesTotal/);
  });

  it('another format version', () => {
    const error = errorOf(() => decodeScene(buildScene({ header: { version: 2 } })));
    expect(error.code).toBe('version');
    expect(error.message).toMatch(/version 2/);
  });

  it('a header field of the wrong type, named in the message', () => {
    const bad = { ...JSON.parse(JSON.stringify({ version: 1 })), layout: 7 } as unknown;
    const error = errorOf(() => decodeScene(encodeDocument(bad, new Uint8Array())));
    expect(error.code).toBe('header');
    expect(error.message).toMatch(/layout is not a string/);
  });

  it('a slice past the payload', () => {
    const good = buildScene({ batches: [{ layer: 0, lines: [0, 0, 1, 1], lineOwners: [0] }] });
    const scene = decodeScene(good);
    const header = { ...scene.header, batches: [{ ...scene.header.batches[0], lines: { offset: 0, count: 1000 }, lineOwners: { offset: 16, count: 1000 } }] };
    const payload = new Uint8Array(good, Math.ceil((12 + new DataView(good, 8, 4).getUint32(0, true)) / 8) * 8);
    const error = errorOf(() => decodeScene(encodeDocument(header, payload)));
    expect(error.code).toBe('slice');
    expect(error.message).toMatch(/batch 0's lines needs bytes 0\.\.16000/);
  });

  it('a slice at an offset that is not 4-byte aligned', () => {
    const good = buildScene({ batches: [{ layer: 0, lines: [0, 0, 1, 1], lineOwners: [0] }] });
    const scene = decodeScene(good);
    const header = { ...scene.header, batches: [{ ...scene.header.batches[0], lineOwners: { offset: 2, count: 1 } }] };
    expect(errorOf(() => decodeScene(encodeDocument(header, new Uint8Array(64)))).message).toMatch(/not a multiple of 4/);
  });

  it('owners that do not match their primitives', () => {
    const scene = buildScene({ batches: [{ layer: 0, lines: [0, 0, 1, 1, 2, 2, 3, 3], lineOwners: [0] }] });
    expect(errorOf(() => decodeScene(scene)).message).toMatch(/2 elements but their owners has 1/);
  });

  it('a batch on a layer that does not exist', () => {
    const scene = buildScene({ batches: [{ layer: 3, lines: [0, 0, 1, 1], lineOwners: [0] }] });
    expect(errorOf(() => decodeScene(scene)).message).toMatch(/layer 3, but the scene has 1 layers/);
  });

  it('a glyph run beyond its instances', () => {
    const good = buildScene({
      glyphs: { vertices: [0, 0, 1, 0, 0, 1], meshes: [{ first: 0, count: 3 }], instances: [{ mesh: 0, transform: [1, 0, 0, 1, 0, 0], layer: 0, ink: 0, owner: 0 }] },
    });
    const scene = decodeScene(good);
    const header = { ...scene.header, glyphs: { ...scene.header.glyphs, runs: [{ mesh: 0, first: 0, count: 5 }] } };
    const payload = new Uint8Array(good, Math.ceil((12 + new DataView(good, 8, 4).getUint32(0, true)) / 8) * 8);
    expect(errorOf(() => decodeScene(encodeDocument(header, payload))).message).toMatch(/glyph run 0 covers instances 0\.\.5 of 1/);
  });
});

describe('glyph instances', () => {
  it('reads the transform as floats and the layer and ink as words of the same memory', () => {
    const buffer = buildScene({
      layers: [testLayer('0'), testLayer('Notes', 0x00ff00)],
      glyphs: {
        vertices: [0, 0, 1, 0, 0, 1],
        meshes: [{ first: 0, count: 3 }],
        instances: [
          { mesh: 0, transform: [2, 0, 0, 2, 10, 20], layer: 1, ink: INK_FOREGROUND, owner: 4 },
          { mesh: 0, transform: [2, 0, 0, 2, 12, 20], layer: 1, ink: 0xff0000, owner: 4 },
        ],
      },
    });
    const { glyphs, counts } = decodeScene(buffer);
    expect(counts.glyphs).toBe(2);
    expect(glyphs.runs).toEqual([{ mesh: 0, first: 0, count: 2 }]);
    expect(Array.from(glyphs.instanceFloats.subarray(8, 14))).toEqual([2, 0, 0, 2, 12, 20]);
    expect(glyphs.instanceWords[6]).toBe(1);
    expect(glyphs.instanceWords[7]).toBe(INK_FOREGROUND);
    expect(glyphs.instanceWords[15]).toBe(0xff0000);
    expect(Array.from(glyphs.instanceOwners)).toEqual([4, 4]);
    expect(glyphs.instanceWords.buffer).toBe(buffer);
  });
});

describe('parseTexts', () => {
  it('drops a malformed entry and keeps the others', () => {
    const json = JSON.stringify([
      { owner: 1, layer: 0, text: 'A', position: [0, 0], height: 1, rotation: 0, bounds: null },
      { owner: 'x' },
    ]);
    expect(parseTexts(new TextEncoder().encode(json)).map((t) => t.text)).toEqual(['A']);
  });

  it('refuses texts that are not JSON', () => {
    expect(() => parseTexts(new TextEncoder().encode('[{'))).toThrow(SceneFormatError);
  });
});
