import type { GlyphRange, GlyphRun, SceneBatch, SceneGlyphs, SceneHeader, SceneLayer, SceneShortfall, SceneText, SceneViewport, Slice } from './types';

/** The first eight bytes of every scene: "ZKSCENE1". */
export const MAGIC = 'ZKSCENE1';
/** The header `version` this viewer reads. */
export const FORMAT_VERSION = 1;
/** The payload's ink for "the foreground colour" (ACI 7). */
export const INK_FOREGROUND = 0xffffffff;
/** Words per glyph instance: a b c d tx ty (f32), layer, ink (u32). */
export const INSTANCE_WORDS = 8;

/** Why a scene could not be read: a stable code for the UI and a sentence naming the problem. */
export type SceneErrorCode = 'magic' | 'truncated' | 'header' | 'version' | 'slice';

export class SceneFormatError extends Error {
  readonly code: SceneErrorCode;
  constructor(code: SceneErrorCode, message: string) {
    super(message);
    this.name = 'SceneFormatError';
    this.code = code;
  }
}

/** A batch's arrays: views into the scene's buffer, never copies. */
export interface DecodedBatch {
  layer: number;
  ink: number | null;
  /** x0 y0 x1 y1 per segment (scene coordinates). */
  lines: Float32Array;
  lineOwners: Uint32Array;
  /** Three corners (x, y) per triangle. */
  triangles: Float32Array;
  triangleOwners: Uint32Array;
  points: Float32Array;
  pointOwners: Uint32Array;
}

export interface DecodedGlyphs {
  /** Corners (x, y) in em units, three a triangle. */
  vertices: Float32Array;
  meshes: GlyphRange[];
  /** `INSTANCE_WORDS` words per instance: the transform as floats… */
  instanceFloats: Float32Array;
  /** …and the same memory as words, for the layer and ink. */
  instanceWords: Uint32Array;
  instanceCount: number;
  instanceOwners: Uint32Array;
  runs: GlyphRun[];
}

export interface DecodedScene {
  header: SceneHeader;
  /** The whole document; every view below lies in it. */
  buffer: ArrayBuffer;
  batches: DecodedBatch[];
  glyphs: DecodedGlyphs;
  /** The UTF-8 JSON of `SceneText[]`; parse with `parseTexts` when needed. */
  textBytes: Uint8Array;
  /** Totals, for the status line and benchmarks. */
  counts: { segments: number; triangles: number; points: number; glyphs: number };
}

// ---- reading the header's JSON defensively ---------------------------------------------------

type Json = Record<string, unknown>;

function fail(where: string, problem: string): never {
  throw new SceneFormatError('header', `the scene header's ${where} ${problem}`);
}

function record(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, 'is not an object');
  return value as Json;
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) fail(where, 'is not a list');
  return value;
}

function count(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    fail(where, 'is not a whole number from 0 to 2^32-1');
  }
  return value;
}

function finite(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(where, 'is not a finite number');
  return value;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string') fail(where, 'is not a string');
  return value;
}

function flag(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') fail(where, 'is not true or false');
  return value;
}

function optional<T>(value: unknown, read: (v: unknown) => T): T | null {
  return value === null || value === undefined ? null : read(value);
}

function pair(value: unknown, where: string): [number, number] {
  const items = list(value, where);
  if (items.length !== 2) fail(where, 'does not have two numbers');
  return [finite(items[0], `${where}[0]`), finite(items[1], `${where}[1]`)];
}

function quad(value: unknown, where: string): [number, number, number, number] {
  const items = list(value, where);
  if (items.length !== 4) fail(where, 'does not have four numbers');
  return [finite(items[0], where), finite(items[1], where), finite(items[2], where), finite(items[3], where)];
}

function slice(value: unknown, where: string): Slice {
  const r = record(value, where);
  return { offset: count(r['offset'], `${where}.offset`), count: count(r['count'], `${where}.count`) };
}

function ink(value: unknown, where: string): number | null {
  return optional(value, (v) => {
    const n = count(v, where);
    if (n > 0xffffff) fail(where, 'is not a 0xRRGGBB colour');
    return n;
  });
}

function layer(value: unknown, index: number): SceneLayer {
  const where = `layers[${index}]`;
  const r = record(value, where);
  return {
    name: text(r['name'], `${where}.name`),
    color: ink(r['color'], `${where}.color`),
    aci: optional(r['aci'], (v) => count(v, `${where}.aci`)),
    on: flag(r['on'], `${where}.on`),
    frozen: flag(r['frozen'], `${where}.frozen`),
    locked: flag(r['locked'], `${where}.locked`),
    linetype: optional(r['linetype'], (v) => text(v, `${where}.linetype`)),
    lineweight: finite(r['lineweight'], `${where}.lineweight`),
  };
}

function batch(value: unknown, index: number): SceneBatch {
  const where = `batches[${index}]`;
  const r = record(value, where);
  return {
    layer: count(r['layer'], `${where}.layer`),
    ink: ink(r['ink'], `${where}.ink`),
    lines: slice(r['lines'], `${where}.lines`),
    lineOwners: slice(r['lineOwners'], `${where}.lineOwners`),
    triangles: slice(r['triangles'], `${where}.triangles`),
    triangleOwners: slice(r['triangleOwners'], `${where}.triangleOwners`),
    points: slice(r['points'], `${where}.points`),
    pointOwners: slice(r['pointOwners'], `${where}.pointOwners`),
  };
}

function range(value: unknown, where: string): GlyphRange {
  const r = record(value, where);
  return { first: count(r['first'], `${where}.first`), count: count(r['count'], `${where}.count`) };
}

function glyphs(value: unknown): SceneGlyphs {
  const r = record(value, 'glyphs');
  return {
    vertices: slice(r['vertices'], 'glyphs.vertices'),
    meshes: list(r['meshes'], 'glyphs.meshes').map((m, i) => range(m, `glyphs.meshes[${i}]`)),
    instances: slice(r['instances'], 'glyphs.instances'),
    instanceOwners: slice(r['instanceOwners'], 'glyphs.instanceOwners'),
    runs: list(r['runs'], 'glyphs.runs').map((v, i) => {
      const where = `glyphs.runs[${i}]`;
      const run = record(v, where);
      return { mesh: count(run['mesh'], `${where}.mesh`), ...range(v, where) };
    }),
  };
}

function viewport(value: unknown, index: number): SceneViewport {
  const where = `viewports[${index}]`;
  const r = record(value, where);
  return {
    owner: count(r['owner'], `${where}.owner`),
    center: pair(r['center'], `${where}.center`),
    width: finite(r['width'], `${where}.width`),
    height: finite(r['height'], `${where}.height`),
    viewCenter: pair(r['viewCenter'], `${where}.viewCenter`),
    viewHeight: finite(r['viewHeight'], `${where}.viewHeight`),
    twistDeg: finite(r['twistDeg'], `${where}.twistDeg`),
    // Added within version 1: a scene written before it freezes no layer in its viewports.
    frozenLayers: optional(r['frozenLayers'], (v) => list(v, `${where}.frozenLayers`).map((l, i) => count(l, `${where}.frozenLayers[${i}]`))) ?? [],
  };
}

/** How much of a layout over a budget was drawn (added within version 1: absent when whole). */
function shortfall(value: unknown): SceneShortfall {
  const r = record(value, 'shortfall');
  return {
    instancesDrawn: finite(r['instancesDrawn'], 'shortfall.instancesDrawn'),
    instancesTotal: finite(r['instancesTotal'], 'shortfall.instancesTotal'),
    message: text(r['message'], 'shortfall.message'),
  };
}

/** Reads and checks the header's JSON; throws SceneFormatError naming the first bad field. */
export function readHeader(json: unknown): SceneHeader {
  const r = record(json, 'root');
  const version = count(r['version'], 'version');
  if (version !== FORMAT_VERSION) {
    throw new SceneFormatError('version', `the scene is format version ${version}; this viewer reads version ${FORMAT_VERSION}: update the app`);
  }
  const partial = optional(r['shortfall'], shortfall);
  return {
    version,
    layout: text(r['layout'], 'layout'),
    paperSpace: flag(r['paperSpace'], 'paperSpace'),
    origin: pair(r['origin'], 'origin'),
    bounds: optional(r['bounds'], (v) => quad(v, 'bounds')),
    units: optional(r['units'], (v) => text(v, 'units')),
    tolerance: finite(r['tolerance'], 'tolerance'),
    truncated: flag(r['truncated'], 'truncated'),
    ...(partial ? { shortfall: partial } : {}),
    entityCount: count(r['entityCount'], 'entityCount'),
    layers: list(r['layers'], 'layers').map(layer),
    batches: list(r['batches'], 'batches').map(batch),
    glyphs: glyphs(r['glyphs']),
    texts: slice(r['texts'], 'texts'),
    viewports: list(r['viewports'], 'viewports').map(viewport),
  };
}

// ---- the payload -------------------------------------------------------------------------------

/** Views of the payload, each checked against its end before it is made. */
class Payload {
  constructor(
    private readonly buffer: ArrayBuffer,
    private readonly start: number,
    private readonly length: number,
  ) {}

  /** The byte range of `s` with `bytesPer` bytes an element, checked. */
  private place(s: Slice, bytesPer: number, align: number, where: string): number {
    if (s.offset % align !== 0) {
      throw new SceneFormatError('slice', `${where} starts at byte ${s.offset} of the payload, not a multiple of ${align}`);
    }
    const bytes = s.count * bytesPer;
    if (s.offset + bytes > this.length) {
      throw new SceneFormatError(
        'slice',
        `${where} needs bytes ${s.offset}..${s.offset + bytes} of the payload, which has ${this.length}: the scene is cut short or corrupt`,
      );
    }
    return this.start + s.offset;
  }

  floats(s: Slice, per: number, where: string): Float32Array {
    return new Float32Array(this.buffer, this.place(s, per * 4, 4, where), s.count * per);
  }

  words(s: Slice, per: number, where: string): Uint32Array {
    return new Uint32Array(this.buffer, this.place(s, per * 4, 4, where), s.count * per);
  }

  bytes(s: Slice, where: string): Uint8Array {
    return new Uint8Array(this.buffer, this.place(s, 1, 1, where), s.count);
  }
}

function sameCount(a: Slice, b: Slice, what: string, owners: string) {
  if (a.count !== b.count) {
    throw new SceneFormatError('slice', `${what} has ${a.count} elements but ${owners} has ${b.count}`);
  }
}

/**
 * Reads a scene document. Checks the magic, the header's length, JSON and version, and that every
 * array lies within the payload with its owners matching; returns views into `buffer` (no copy).
 * Any problem is a SceneFormatError that says what is wrong; nothing is read out of bounds.
 *
 * `buffer` is the whole document (the payload's arrays must be 4-byte aligned in it, which they
 * are when the document starts at byte 0 of its buffer, as a downloaded one does).
 */
export function decodeScene(buffer: ArrayBuffer): DecodedScene {
  const total = buffer.byteLength;
  if (total < 12) throw new SceneFormatError('truncated', `the scene is ${total} bytes, too short to hold its header`);
  const head = new Uint8Array(buffer, 0, 12);
  const magic = String.fromCharCode(...head.subarray(0, 8));
  if (magic !== MAGIC) {
    throw new SceneFormatError('magic', 'this is not a ZK-Agent scene (it does not start with ZKSCENE1)');
  }
  const headerLength = new DataView(buffer, 8, 4).getUint32(0, true);
  if (12 + headerLength > total) {
    throw new SceneFormatError('truncated', `the scene's header claims ${headerLength} bytes but only ${total - 12} follow: the download was cut short`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(buffer, 12, headerLength)));
  } catch (error) {
    throw new SceneFormatError('header', `the scene's header is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const header = readHeader(json);
  const start = Math.ceil((12 + headerLength) / 8) * 8;
  const payload = new Payload(buffer, Math.min(start, total), Math.max(0, total - start));

  const counts = { segments: 0, triangles: 0, points: 0, glyphs: 0 };
  const batches = header.batches.map((b, i): DecodedBatch => {
    const where = `batch ${i}`;
    if (b.layer >= header.layers.length) {
      throw new SceneFormatError('slice', `${where} is on layer ${b.layer}, but the scene has ${header.layers.length} layers`);
    }
    sameCount(b.lines, b.lineOwners, `${where}'s lines`, 'their owners');
    sameCount(b.triangles, b.triangleOwners, `${where}'s triangles`, 'their owners');
    sameCount(b.points, b.pointOwners, `${where}'s points`, 'their owners');
    counts.segments += b.lines.count;
    counts.triangles += b.triangles.count;
    counts.points += b.points.count;
    return {
      layer: b.layer,
      ink: b.ink,
      lines: payload.floats(b.lines, 4, `${where}'s lines`),
      lineOwners: payload.words(b.lineOwners, 1, `${where}'s line owners`),
      triangles: payload.floats(b.triangles, 6, `${where}'s triangles`),
      triangleOwners: payload.words(b.triangleOwners, 1, `${where}'s triangle owners`),
      points: payload.floats(b.points, 2, `${where}'s points`),
      pointOwners: payload.words(b.pointOwners, 1, `${where}'s point owners`),
    };
  });

  const g = header.glyphs;
  const vertexCount = g.vertices.count;
  g.meshes.forEach((m, i) => {
    if (m.first + m.count > vertexCount) {
      throw new SceneFormatError('slice', `glyph mesh ${i} uses corners ${m.first}..${m.first + m.count} of ${vertexCount}`);
    }
  });
  g.runs.forEach((run, i) => {
    if (run.mesh >= g.meshes.length) throw new SceneFormatError('slice', `glyph run ${i} draws mesh ${run.mesh} of ${g.meshes.length}`);
    if (run.first + run.count > g.instances.count) {
      throw new SceneFormatError('slice', `glyph run ${i} covers instances ${run.first}..${run.first + run.count} of ${g.instances.count}`);
    }
  });
  sameCount(g.instances, g.instanceOwners, 'the glyph instances', 'their owners');
  const instanceWords = payload.words(g.instances, INSTANCE_WORDS, 'the glyph instances');
  counts.glyphs = g.instances.count;
  const decodedGlyphs: DecodedGlyphs = {
    vertices: payload.floats(g.vertices, 2, 'the glyph corners'),
    meshes: g.meshes,
    instanceFloats: new Float32Array(instanceWords.buffer, instanceWords.byteOffset, instanceWords.length),
    instanceWords,
    instanceCount: g.instances.count,
    instanceOwners: payload.words(g.instanceOwners, 1, 'the glyph owners'),
    runs: g.runs,
  };

  return { header, buffer, batches, glyphs: decodedGlyphs, textBytes: payload.bytes(header.texts, 'the texts'), counts };
}

/** The scene's texts (the payload's JSON); malformed entries are dropped, a malformed list is an error. */
export function parseTexts(bytes: Uint8Array): SceneText[] {
  if (bytes.length === 0) return [];
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8').decode(bytes));
  } catch (error) {
    throw new SceneFormatError('slice', `the scene's texts are not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(json)) throw new SceneFormatError('slice', "the scene's texts are not a list");
  const out: SceneText[] = [];
  for (const item of json) {
    try {
      const r = record(item, 'text');
      out.push({
        owner: count(r['owner'], 'owner'),
        layer: count(r['layer'], 'layer'),
        text: text(r['text'], 'text'),
        position: pair(r['position'], 'position'),
        height: finite(r['height'], 'height'),
        rotation: finite(r['rotation'], 'rotation'),
        bounds: optional(r['bounds'], (v) => quad(v, 'bounds')),
      });
    } catch {
      // One odd text does not hide the others from search.
    }
  }
  return out;
}
