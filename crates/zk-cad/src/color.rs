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
}
