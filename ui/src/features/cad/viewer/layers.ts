import type { DecodedScene } from '../scene/decode';
import type { SceneLayer } from '../scene/types';

/** Which layers are drawn, by the scene's layer index. */
export type Visibility = readonly boolean[];

/** As the drawing says: a layer is shown when it is on and not frozen. */
export function initialVisibility(layers: readonly SceneLayer[]): boolean[] {
  return layers.map((layer) => layer.on && !layer.frozen);
}

export function toggleLayer(visibility: Visibility, index: number): boolean[] {
  return visibility.map((on, i) => (i === index ? !on : on));
}

/** Only `index` shown. */
export function isolateLayer(visibility: Visibility, index: number): boolean[] {
  return visibility.map((_, i) => i === index);
}

export function allLayersOn(visibility: Visibility): boolean[] {
  return visibility.map(() => true);
}

/** True when only `index` is shown. */
export function isIsolated(visibility: Visibility, index: number): boolean {
  return visibility.every((on, i) => on === (i === index));
}

/** The visibility as one byte a layer (1 shown), for the worker and the GPU. */
export function visibilityBytes(visibility: Visibility): Uint8Array {
  return Uint8Array.from(visibility, (on) => (on ? 1 : 0));
}

/** Primitives a layer holds in the scene (segments, triangles, points and glyphs). */
export function layerUsage(scene: DecodedScene): number[] {
  const usage = scene.header.layers.map(() => 0);
  for (const batch of scene.batches) {
    usage[batch.layer] = (usage[batch.layer] ?? 0) + batch.lineOwners.length + batch.triangleOwners.length + batch.pointOwners.length;
  }
  const { instanceWords, instanceCount } = scene.glyphs;
  for (let i = 0; i < instanceCount; i++) {
    const layer = instanceWords[i * 8 + 6] ?? 0;
    if (layer < usage.length) usage[layer] = (usage[layer] ?? 0) + 1;
  }
  return usage;
}
