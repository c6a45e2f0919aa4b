//! What a poster should fix before it is printed or posted. Composing never fails for these: the
//! poster renders and the warnings travel with it.

use std::fmt;

use serde::Serialize;

/// Under this many pixels per inch at the printed size an image looks soft; print shops ask 300.
pub const MIN_PRINT_DPI: f32 = 150.0;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// An image slot's picture has fewer than [`MIN_PRINT_DPI`] pixels per inch at the print size.
    LowImageResolution { slot: String, dpi: f32 },
    /// Text reaches out of the safe area (where trimming may cut it).
    TextOutsideSafeArea { slot: String },
    /// A text was longer than its box and was cut with an ellipsis.
    TextCut { slot: String },
    /// Characters the bundled fonts do not have (outside GB2312 and the kept symbols): they show as
    /// empty boxes.
    MissingGlyphs { slot: String, characters: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::LowImageResolution { slot, dpi } => write!(
                f,
                "image `{slot}` prints at {dpi:.0} dpi, under the {MIN_PRINT_DPI:.0} dpi a print needs: use a larger image or a smaller size"
            ),
            Warning::TextOutsideSafeArea { slot } => {
                write!(f, "text `{slot}` reaches outside the safe area and may be trimmed: shorten it")
            }
            Warning::TextCut { slot } => write!(f, "text `{slot}` does not fit its box and was cut: shorten it"),
            Warning::MissingGlyphs { slot, characters } => write!(
                f,
                "text `{slot}` uses characters the bundled fonts lack ({characters}): they show as boxes; replace them"
            ),
        }
    }
}
