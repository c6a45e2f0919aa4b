// The 2D camera: pure maths, no DOM. Screen coordinates are CSS pixels from the canvas's top-left
// corner, y down; scene coordinates are the scene's (relative to its origin), y up.

export interface Camera {
  /** The scene point at the centre of the view. */
  x: number;
  y: number;
  /** CSS pixels per scene unit. */
  scale: number;
}

export interface ViewSize {
  width: number;
  height: number;
}

export type Bounds = readonly [number, number, number, number];

/** How far one can zoom, relative to the scale that fits the drawing. */
export const MIN_ZOOM = 1e-3;
export const MAX_ZOOM = 1e6;

export function screenToScene(camera: Camera, view: ViewSize, sx: number, sy: number): [number, number] {
  return [camera.x + (sx - view.width / 2) / camera.scale, camera.y - (sy - view.height / 2) / camera.scale];
}

export function sceneToScreen(camera: Camera, view: ViewSize, x: number, y: number): [number, number] {
  return [(x - camera.x) * camera.scale + view.width / 2, view.height / 2 - (y - camera.y) * camera.scale];
}

/** Moves the view by a drag of (dx, dy) CSS pixels: the scene follows the pointer. */
export function pan(camera: Camera, dx: number, dy: number): Camera {
  return { ...camera, x: camera.x - dx / camera.scale, y: camera.y + dy / camera.scale };
}

/**
 * Zooms by `factor` (> 1 is in) about the screen point (sx, sy): the scene point under it stays
 * under it. The scale is kept within `limits` (CSS pixels per unit).
 */
export function zoomAt(camera: Camera, view: ViewSize, sx: number, sy: number, factor: number, limits?: readonly [number, number]): Camera {
  let scale = camera.scale * factor;
  if (limits) scale = Math.min(limits[1], Math.max(limits[0], scale));
  if (!Number.isFinite(scale) || scale <= 0) return camera;
  const [px, py] = screenToScene(camera, view, sx, sy);
  // After the zoom, (px, py) must map to (sx, sy) again.
  return {
    scale,
    x: px - (sx - view.width / 2) / scale,
    y: py + (sy - view.height / 2) / scale,
  };
}

/** The camera that shows `bounds` whole, centred, with `padding` CSS pixels around it. */
export function fit(bounds: Bounds, view: ViewSize, padding = 24): Camera {
  const [minX, minY, maxX, maxY] = bounds;
  const width = Math.max(maxX - minX, 1e-9);
  const height = Math.max(maxY - minY, 1e-9);
  const usableW = Math.max(1, view.width - 2 * padding);
  const usableH = Math.max(1, view.height - 2 * padding);
  let scale = Math.min(usableW / width, usableH / height);
  if (!Number.isFinite(scale) || scale <= 0) scale = 1;
  return { x: (minX + maxX) / 2, y: (minY + maxY) / 2, scale };
}

/** The scale limits for a drawing that fits at `fitScale`. */
export function zoomLimits(fitScale: number): [number, number] {
  return [fitScale * MIN_ZOOM, fitScale * MAX_ZOOM];
}

/**
 * The shader's transform from scene to clip coordinates, `clip = p * (sx, sy) + (tx, ty)`, as one
 * vec4. Computed in double precision here; the GPU then only multiplies and adds.
 */
export function clipTransform(camera: Camera, view: ViewSize): [number, number, number, number] {
  const sx = (2 * camera.scale) / Math.max(1, view.width);
  const sy = (2 * camera.scale) / Math.max(1, view.height);
  return [sx, sy, -camera.x * sx, -camera.y * sy];
}

/** What the view shows, in scene coordinates. */
export function visibleBounds(camera: Camera, view: ViewSize): [number, number, number, number] {
  const halfW = view.width / 2 / camera.scale;
  const halfH = view.height / 2 / camera.scale;
  return [camera.x - halfW, camera.y - halfH, camera.x + halfW, camera.y + halfH];
}

/** Wheel `deltaY` (pixels, or lines when `deltaMode` is 1) to a zoom factor; a notch ≈ 1.2×. */
export function wheelFactor(deltaY: number, deltaMode: number): number {
  const pixels = deltaMode === 1 ? deltaY * 40 : deltaMode === 2 ? deltaY * 800 : deltaY;
  const clamped = Math.max(-300, Math.min(300, pixels));
  return Math.exp(-clamped * 0.0018);
}

/**
 * A 2D affine map `[a, b, c, d, e, f]`: x' = a·x + c·y + e, y' = b·x + d·y + f (the layout of a
 * glyph instance's transform and of SVG's matrix()).
 */
export type Affine = readonly [number, number, number, number, number, number];

export const IDENTITY: Affine = [1, 0, 0, 1, 0, 0];

/** Scene → clip coordinates for the camera. */
export function viewAffine(camera: Camera, view: ViewSize): Affine {
  const [sx, sy, tx, ty] = clipTransform(camera, view);
  return [sx, 0, 0, sy, tx, ty];
}

/** `outer ∘ inner`: first `inner`, then `outer`. */
export function compose(outer: Affine, inner: Affine): Affine {
  const [a1, b1, c1, d1, e1, f1] = outer;
  const [a2, b2, c2, d2, e2, f2] = inner;
  return [a1 * a2 + c1 * b2, b1 * a2 + d1 * b2, a1 * c2 + c1 * d2, b1 * c2 + d1 * d2, a1 * e2 + c1 * f2 + e1, b1 * e2 + d1 * f2 + f1];
}

export function applyAffine(m: Affine, x: number, y: number): [number, number] {
  return [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];
}

/** The column-major mat3 of an affine map, for `uniformMatrix3fv`. */
export function affineMat3(m: Affine): Float32Array {
  return Float32Array.of(m[0], m[1], 0, m[2], m[3], 0, m[4], m[5], 1);
}

/** What a paper-space viewport shows, as a map from model-scene to paper-scene coordinates. */
export interface ViewportView {
  /** Frame centre and height on the sheet (paper scene coordinates). */
  center: readonly [number, number];
  height: number;
  /** Model-space view centre (drawing coordinates) and height (drawing units). */
  viewCenter: readonly [number, number];
  viewHeight: number;
  twistDeg: number;
}

/**
 * Model-scene coordinates (relative to `modelOrigin`) → paper-scene coordinates: the view centre
 * lands on the frame's centre, scaled so that the view height fills the frame, turned by the twist.
 */
export function viewportAffine(viewport: ViewportView, modelOrigin: readonly [number, number]): Affine {
  const k = viewport.viewHeight > 0 ? viewport.height / viewport.viewHeight : 1;
  const angle = (viewport.twistDeg * Math.PI) / 180;
  const cos = Math.cos(angle) * k;
  const sin = Math.sin(angle) * k;
  // p = C + R·k·(m + O − V)
  const dx = modelOrigin[0] - viewport.viewCenter[0];
  const dy = modelOrigin[1] - viewport.viewCenter[1];
  return [cos, sin, -sin, cos, viewport.center[0] + cos * dx - sin * dy, viewport.center[1] + sin * dx + cos * dy];
}

/** The inverse map, or null when `m` squashes the plane (determinant 0). */
export function invertAffine(m: Affine): Affine | null {
  const [a, b, c, d, e, f] = m;
  const det = a * d - b * c;
  if (!Number.isFinite(det) || det === 0) return null;
  return [d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det];
}

/** The scene rectangle whose image under `toClip` covers the clip square [-1, 1]² (what is on screen). */
export function clipRectInScene(toClip: Affine): [number, number, number, number] | null {
  const inverse = invertAffine(toClip);
  if (!inverse) return null;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of [
    [-1, -1],
    [1, -1],
    [1, 1],
    [-1, 1],
  ] as const) {
    const [px, py] = applyAffine(inverse, x, y);
    minX = Math.min(minX, px);
    minY = Math.min(minY, py);
    maxX = Math.max(maxX, px);
    maxY = Math.max(maxY, py);
  }
  return [minX, minY, maxX, maxY];
}
