// The viewer's scene format (crates/zk-cad/src/wire.rs), as the header's JSON spells it. These
// mirror the Rust types field by field; `decode.ts` checks every value it relies on.

/** Where an array lies in the payload: bytes from the payload's start (a multiple of 4), elements. */
export interface Slice {
  offset: number;
  count: number;
}

export interface SceneLayer {
  name: string;
  /** 0xRRGGBB, or null for the foreground colour (ACI 7). */
  color: number | null;
  aci: number | null;
  on: boolean;
  frozen: boolean;
  locked: boolean;
  linetype: string | null;
  lineweight: number;
}

export interface SceneBatch {
  layer: number;
  /** 0xRRGGBB, or null for the foreground colour. */
  ink: number | null;
  lines: Slice;
  lineOwners: Slice;
  triangles: Slice;
  triangleOwners: Slice;
  points: Slice;
  pointOwners: Slice;
}

export interface GlyphRange {
  first: number;
  count: number;
}

export interface GlyphRun {
  mesh: number;
  first: number;
  count: number;
}

export interface SceneGlyphs {
  vertices: Slice;
  meshes: GlyphRange[];
  instances: Slice;
  instanceOwners: Slice;
  runs: GlyphRun[];
}

export interface SceneViewport {
  owner: number;
  /** The frame on the sheet, scene coordinates. */
  center: [number, number];
  width: number;
  height: number;
  /** The model-space view, drawing coordinates. */
  viewCenter: [number, number];
  viewHeight: number;
  twistDeg: number;
}

export interface SceneHeader {
  version: number;
  layout: string;
  paperSpace: boolean;
  /** Drawing coordinates of the scene's (0, 0). */
  origin: [number, number];
  /** Drawing coordinates: min x, min y, max x, max y. */
  bounds: [number, number, number, number] | null;
  units: string | null;
  tolerance: number;
  truncated: boolean;
  entityCount: number;
  layers: SceneLayer[];
  batches: SceneBatch[];
  glyphs: SceneGlyphs;
  texts: Slice;
  viewports: SceneViewport[];
}

/** One text of the layout (the payload's `texts` JSON). */
export interface SceneText {
  owner: number;
  layer: number;
  text: string;
  /** The anchor, scene coordinates. */
  position: [number, number];
  height: number;
  /** Radians, counter-clockwise. */
  rotation: number;
  /** What its glyphs cover, scene coordinates; null when it has no glyphs. */
  bounds: [number, number, number, number] | null;
}
