// Colours of the drawing on its background. ACI 7 ("the foreground", null in the scene) is black
// on the light background and white on the dark one, as in CAD programs.

export type Background = 'light' | 'dark';

export const BACKGROUND_RGB: Record<Background, number> = { light: 0xffffff, dark: 0x1b1d21 };
export const FOREGROUND_RGB: Record<Background, number> = { light: 0x000000, dark: 0xffffff };
/** The picked entity and the current search hit. */
export const HIGHLIGHT_RGB: Record<Background, number> = { light: 0xff6a00, dark: 0xffb000 };
/** Search hits other than the current one, and the measure line. */
export const ACCENT_RGB: Record<Background, number> = { light: 0x0a66d8, dark: 0x4ea1ff };

/** The colour a scene ink stands for on `background`. */
export function inkRgb(ink: number | null, background: Background): number {
  return ink === null || ink === 0xffffffff ? FOREGROUND_RGB[background] : ink & 0xffffff;
}

/** 0xRRGGBB → [r, g, b] in 0..1. */
export function rgbUnit(rgb: number): [number, number, number] {
  return [((rgb >> 16) & 0xff) / 255, ((rgb >> 8) & 0xff) / 255, (rgb & 0xff) / 255];
}

/** 0xRRGGBB → "#rrggbb". */
export function cssColor(rgb: number): string {
  return `#${(rgb & 0xffffff).toString(16).padStart(6, '0')}`;
}
