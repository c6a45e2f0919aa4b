//! The bundled fonts: subsets of Noto Sans CJK SC (regular, bold) and Noto Serif CJK SC (bold) made
//! from Debian's fonts-noto-cjk (see `fonts/README.md`). They cover GB2312, CJK punctuation,
//! full-width forms, ASCII and Latin-1, so one face sets Chinese and Latin alike. Nothing else is
//! ever looked up: a poster looks the same on every OS.

use std::sync::Arc;

use serde::Serialize;

const SANS_REGULAR: &[u8] = include_bytes!("../fonts/NotoSansSC-Regular.otf");
const SANS_BOLD: &[u8] = include_bytes!("../fonts/NotoSansSC-Bold.otf");
const SERIF_BOLD: &[u8] = include_bytes!("../fonts/NotoSerifSC-Bold.otf");

/// Family names the faces are registered under (overriding the names inside the files, so a
/// template never depends on how a font calls itself).
pub const SANS_FAMILY: &str = "ZK Poster Sans";
pub const SERIF_FAMILY: &str = "ZK Poster Serif";

/// One bundled face.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Face {
    SansRegular,
    SansBold,
    SerifBold,
}

impl Face {
    pub const ALL: [Face; 3] = [Face::SansRegular, Face::SansBold, Face::SerifBold];

    pub fn bytes(self) -> &'static [u8] {
        match self {
            Face::SansRegular => SANS_REGULAR,
            Face::SansBold => SANS_BOLD,
            Face::SerifBold => SERIF_BOLD,
        }
    }

    pub(crate) fn family(self) -> &'static str {
        match self {
            Face::SansRegular | Face::SansBold => SANS_FAMILY,
            Face::SerifBold => SERIF_FAMILY,
        }
    }

    pub(crate) fn weight(self) -> f32 {
        match self {
            Face::SansRegular => 400.0,
            Face::SansBold | Face::SerifBold => 700.0,
        }
    }

    /// The file and version a poster's lineage records.
    pub fn file_name(self) -> &'static str {
        match self {
            Face::SansRegular => "NotoSansSC-Regular.otf",
            Face::SansBold => "NotoSansSC-Bold.otf",
            Face::SerifBold => "NotoSerifSC-Bold.otf",
        }
    }

    pub(crate) fn blob(self) -> parley::fontique::Blob<u8> {
        parley::fontique::Blob::new(Arc::new(self.bytes()))
    }
}

/// Total bytes of the bundled fonts (what they add to a binary).
pub fn bundled_bytes() -> usize {
    Face::ALL.iter().map(|face| face.bytes().len()).sum()
}
