//! Colours: AutoCAD Colour Index (ACI), true colours (group 420) and BYLAYER/BYBLOCK.

use serde::Serialize;

/// An entity's or layer's colour as the file states it; resolve BYLAYER/BYBLOCK when drawing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Color {
    #[default]
    ByLayer,
    ByBlock,
    /// ACI 1..=255; 7 is "white or black, the opposite of the background".
    Aci(u8),
    /// 0xRRGGBB (group 420).
    Rgb(u32),
}

impl Color {
    /// From group 62. 0 is BYBLOCK, 256 BYLAYER; a layer's negative colour means "layer off" and
    /// is handled by the layer reader, so only the magnitude matters here. Out-of-range values
    /// (-32768 and friends are in the wild) become BYLAYER rather than wrapping.
    pub fn from_aci_code(code: i64) -> Color {
        match code.unsigned_abs() {
            0 => Color::ByBlock,
            n @ 1..=255 => Color::Aci(n as u8),
            _ => Color::ByLayer,
        }
    }

    /// The RGB to draw with, for colours that name one (ACI or true colour).
    pub fn rgb(self) -> Option<u32> {
        match self {
            Color::Aci(i) => Some(ACI_RGB[usize::from(i)]),
            Color::Rgb(rgb) => Some(rgb & 0xFF_FFFF),
            Color::ByLayer | Color::ByBlock => None,
        }
    }
}

/// The backgrounds the outputs draw on: white (the light background of the viewer and of the
/// exports), black, `#1E1E1E` (the dark exports, [`crate::svg::Background::Dark`]) and `#1B1D21`
/// (the viewer's dark background, `ui/src/features/cad/viewer/colors.ts`).
pub const BACKGROUNDS_RGB: [u32; 4] = [0xFF_FFFF, 0x00_0000, 0x1E_1E1E, 0x1B_1D21];

/// How close to a background a colour may be before it is drawn in the contrasting colour: a
/// CIE 1976 colour difference ΔE\*ab of at most 8 (about three just-noticeable differences;
/// `#EBEBEB` on white is 7.0, `#E6E6E6` 8.7, ACI 254 `#BEBEBE` 23).
pub const BLENDS_WITHIN_DELTA_E: f64 = 8.0;

/// CIELAB (D65 white, sRGB primaries and transfer curve) of `0xRRGGBB`: L\*, a\*, b\*.
pub fn lab(rgb: u32) -> [f64; 3] {
    let linear = |shift: u32| {
        let c = f64::from((rgb >> shift) & 0xFF) / 255.0;
        if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let (r, g, b) = (linear(16), linear(8), linear(0));
    let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / 0.950_47;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
    let z = (0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b) / 1.088_83;
    let f = |t: f64| if t > 216.0 / 24389.0 { t.cbrt() } else { (24389.0 / 27.0 * t + 16.0) / 116.0 };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// The CIE 1976 colour difference ΔE\*ab: the distance between two colours in CIELAB.
pub fn delta_e(a: u32, b: u32) -> f64 {
    let (p, q) = (lab(a), lab(b));
    ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt()
}

/// True when `rgb` is within [`BLENDS_WITHIN_DELTA_E`] of one of the [`BACKGROUNDS_RGB`]: such a
/// colour is drawn as ACI 7 is, in the contrast to the background (a drawing made in true-colour
/// white stays visible on white; one in true-colour black on the dark background).
pub fn blends_with_background(rgb: u32) -> bool {
    BACKGROUNDS_RGB.iter().any(|&background| delta_e(rgb & 0xFF_FFFF, background) <= BLENDS_WITHIN_DELTA_E)
}

/// The standard ACI palette, computed once: 1–9 are named colours; 10–249 are 24 hues 15° apart,
/// each in five shades (255, 165, 127, 76, 38) of a full and a pale (half-saturated) version;
/// 250–255 are greys. Index 0 (BYBLOCK) has no colour of its own and maps to black.
pub static ACI_RGB: [u32; 256] = aci_palette();

const fn aci_palette() -> [u32; 256] {
    let mut table = [0u32; 256];
    let named = [0x000000, 0xFF0000, 0xFFFF00, 0x00FF00, 0x00FFFF, 0x0000FF, 0xFF00FF, 0xFFFFFF, 0x808080, 0xC0C0C0];
    let greys = [0x333333, 0x505050, 0x696969, 0x828282, 0xBEBEBE, 0xFFFFFF];
    let shades = [255, 165, 127, 76, 38];
    let mut i = 0;
    while i < 256 {
        table[i] = if i < 10 {
            named[i]
        } else if i >= 250 {
            greys[i - 250]
        } else {
            let hue = (i - 10) / 10; // 0..24, in steps of 15°
            let shade = shades[((i - 10) % 10) / 2];
            let pale = i % 2 == 1;
            // Each channel's share of the shade in quarters (0..=4), by the hue's 60° sector.
            let (sector, within) = (hue / 4, (hue % 4) as u32);
            let r = match sector {
                0 | 5 => 4,
                1 => 4 - within,
                4 => within,
                _ => 0,
            };
            let g = match sector {
                0 => within,
                1 | 2 => 4,
                3 => 4 - within,
                _ => 0,
            };
            let b = match sector {
                2 => within,
                3 | 4 => 4,
                5 => 4 - within,
                _ => 0,
            };
            (aci_channel(shade, r, pale) << 16) | (aci_channel(shade, g, pale) << 8) | aci_channel(shade, b, pale)
        };
        i += 1;
    }
    table
}

/// A channel with `quarters`/4 of the shade; pale colours sit halfway between the shade's grey and
/// the full colour.
const fn aci_channel(shade: u32, quarters: u32, pale: bool) -> u32 {
    if pale { shade * (4 + quarters) / 8 } else { shade * quarters / 4 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_aci_colours() {
        assert_eq!(Color::Aci(1).rgb(), Some(0xFF0000));
        assert_eq!(Color::Aci(5).rgb(), Some(0x0000FF));
        assert_eq!(Color::Aci(7).rgb(), Some(0xFFFFFF));
        assert_eq!(Color::Aci(250).rgb(), Some(0x333333));
    }

    #[test]
    fn computed_palette_matches_published_values() {
        // Spot checks against AutoCAD's published ACI table: full, pale, dark and pale-dark shades.
        for (index, rgb) in [
            (10, 0xFF0000),
            (11, 0xFF7F7F),
            (13, 0xA55252),
            (21, 0xFF9F7F),
            (23, 0xA56752),
            (25, 0x7F4F3F),
            (60, 0xBFFF00),
            (140, 0x00BFFF),
            (200, 0xBF00FF),
            (248, 0x260009),
        ] {
            assert_eq!(ACI_RGB[index], rgb, "ACI {index}");
        }
    }

    #[test]
    fn aci_codes_map_without_overflow() {
        assert_eq!(Color::from_aci_code(0), Color::ByBlock);
        assert_eq!(Color::from_aci_code(256), Color::ByLayer);
        assert_eq!(Color::from_aci_code(-3), Color::Aci(3), "a layer that is off keeps its colour");
        assert_eq!(Color::from_aci_code(-32768), Color::ByLayer);
        assert_eq!(Color::from_aci_code(i64::MIN), Color::ByLayer);
    }

    #[test]
    fn colour_difference_is_cie76_in_lab() {
        let close = |a: f64, b: f64| (a - b).abs() < 0.01;
        let [l, a, b] = lab(0xFF_FFFF);
        assert!(close(l, 100.0) && close(a, 0.0) && close(b, 0.0), "white is L* 100: {l} {a} {b}");
        let [l, a, b] = lab(0xFF_0000);
        assert!(close(l, 53.24) && close(a, 80.09) && close(b, 67.20), "sRGB red in CIELAB: {l} {a} {b}");
        assert!(close(delta_e(0xF0F0F0, 0xFF_FFFF), 5.20), "{}", delta_e(0xF0F0F0, 0xFF_FFFF));
        assert!(close(delta_e(0x000000, 0x1E_1E1E), 11.26), "{}", delta_e(0x000000, 0x1E_1E1E));
    }

    #[test]
    fn only_colours_close_to_a_background_blend_with_it() {
        for rgb in [0xFF_FFFF, 0xFE_FEFE, 0xF0_F0F0, 0xEB_EBEB, 0x00_0000, 0x10_1010, 0x1E_1E1E, 0x1B_1D21, 0x2A_2A2A] {
            assert!(blends_with_background(rgb), "{rgb:06X} is within ΔE 8 of a background");
        }
        for rgb in [0xE6_E6E6, 0xBE_BEBE, 0x33_3333, 0xFF_FF00, 0xFF_FFCC, 0x00_0026, 0x00_00FF, 0xFF_0000] {
            assert!(!blends_with_background(rgb), "{rgb:06X} keeps its colour (ACI 2 yellow, ACI 250 and 254 greys…)");
        }
        assert!(blends_with_background(0x7F_FFFFFF), "only the low 24 bits are the colour");
    }
}
