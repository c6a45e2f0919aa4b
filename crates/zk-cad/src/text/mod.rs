//! Texts as glyphs, drawn from the outlines of the bundled fonts ([`fonts`]), triangulated once
//! per glyph ([`mesh`]).

pub mod fonts;
pub mod mesh;

/// Whether a character is East Asian (CJK ideographs, kana, Hangul, CJK punctuation, full-width
/// forms): such text wraps between any two characters and, in SHX styles, is sized as a big font.
pub fn is_east_asian(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x11FF | 0x2E80..=0x2FDF | 0x3000..=0x30FF | 0x3100..=0x31FF | 0x3200..=0x33FF
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xA960..=0xA97F | 0xAC00..=0xD7FF | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}
