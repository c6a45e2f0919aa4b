// Tests only: writes scene documents the way crates/zk-cad/src/wire.rs does, so that tests can make
// the exact scene they need (and break it on purpose).
import type { SceneHeader, SceneLayer, SceneText, Slice } from './types';

export interface BatchInput {
  layer: number;
  ink?: number | null;
  lines?: number[];
  lineOwners?: number[];
  triangles?: number[];
  triangleOwners?: number[];
  points?: number[];
  pointOwners?: number[];
}

export interface GlyphInput {
  /** Corners (x, y) in em units. */
  vertices: number[];
  meshes: { first: number; count: number }[];
  /** Already sorted by mesh, as the encoder writes them. */
  instances: { mesh: number; transform: [number, number, number, number, number, number]; layer: number; ink: number; owner: number }[];
}

export interface SceneInput {
  layers?: SceneLayer[];
  batches?: BatchInput[];
  glyphs?: GlyphInput;
  texts?: SceneText[];
  header?: Partial<SceneHeader>;
}

export function testLayer(name: string, color: number | null = null): SceneLayer {
  return { name, color, aci: null, on: true, frozen: false, locked: false, linetype: null, lineweight: -3 };
}

class PayloadWriter {
  bytes: number[] = [];

  private align() {
    while (this.bytes.length % 4 !== 0) this.bytes.push(0);
  }

  raw(data: Uint8Array, count: number): Slice {
    this.align();
    const offset = this.bytes.length;
    for (const b of data) this.bytes.push(b);
    return { offset, count };
  }

  floats(values: number[], per: number): Slice {
    return this.raw(new Uint8Array(new Float32Array(values).buffer), values.length / per);
  }

  words(values: number[]): Slice {
    return this.raw(new Uint8Array(new Uint32Array(values).buffer), values.length);
  }
}

/** A scene document from the parts given; what is not given is empty. */
export function buildScene(input: SceneInput): ArrayBuffer {
  const payload = new PayloadWriter();
  const layers = input.layers ?? [testLayer('0')];
  const batches = (input.batches ?? []).map((b) => ({
    layer: b.layer,
    ink: b.ink ?? null,
    lines: payload.floats(b.lines ?? [], 4),
    lineOwners: payload.words(b.lineOwners ?? []),
    triangles: payload.floats(b.triangles ?? [], 6),
    triangleOwners: payload.words(b.triangleOwners ?? []),
    points: payload.floats(b.points ?? [], 2),
    pointOwners: payload.words(b.pointOwners ?? []),
  }));
  const g = input.glyphs ?? { vertices: [], meshes: [], instances: [] };
  const records = new ArrayBuffer(g.instances.length * 32);
  const f = new Float32Array(records);
  const w = new Uint32Array(records);
  const runs: { mesh: number; first: number; count: number }[] = [];
  g.instances.forEach((instance, i) => {
    f.set(instance.transform, i * 8);
    w[i * 8 + 6] = instance.layer;
    w[i * 8 + 7] = instance.ink;
    const last = runs[runs.length - 1];
    if (last?.mesh === instance.mesh) last.count += 1;
    else runs.push({ mesh: instance.mesh, first: i, count: 1 });
  });
  const glyphs = {
    vertices: payload.floats(g.vertices, 2),
    meshes: g.meshes,
    instances: payload.raw(new Uint8Array(records), g.instances.length),
    instanceOwners: payload.words(g.instances.map((i) => i.owner)),
    runs,
  };
  const textJson = new TextEncoder().encode(JSON.stringify(input.texts ?? []));
  const texts = payload.raw(textJson, textJson.length);
  const header: SceneHeader = {
    version: 1,
    layout: 'Model',
    paperSpace: false,
    origin: [0, 0],
    bounds: null,
    units: 'millimeters',
    tolerance: 1,
    truncated: false,
    entityCount: 0,
    layers,
    batches,
    glyphs,
    texts,
    viewports: [],
    ...input.header,
  };
  return encodeDocument(header, new Uint8Array(payload.bytes));
}

/** Magic, header length, header, padding to 8, payload. */
export function encodeDocument(header: unknown, payload: Uint8Array): ArrayBuffer {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((12 + json.length) / 8) * 8;
  const out = new Uint8Array(start + payload.length);
  out.set(new TextEncoder().encode('ZKSCENE1'), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(payload, start);
  return out.buffer;
}
