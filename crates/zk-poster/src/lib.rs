//! Posters: a versioned [`PosterDocument`] (template, size, style, slot values, image hashes) is
//! composed into one [`DisplayList`], which becomes a PNG ([`render_png`]) and a PDF ([`render_pdf`]).
//! Both outputs come from the same list, so they agree glyph for glyph.
//!
//! Pure: no files, no network, no async, no database. The caller passes image bytes in
//! ([`ImageSet`]); text is set with the bundled fonts only ([`fonts`]), never system fonts, so
//! the same document gives the same bytes on every machine.
#![forbid(unsafe_code)]

pub mod color;
pub mod compose;
pub mod display;
pub mod document;
mod error;
pub mod fonts;
pub mod images;
pub mod pdf;
pub mod preflight;
pub mod raster;
pub mod seed;
pub mod size;
pub mod style;
pub mod template;
pub mod text;

pub use color::Rgba;
pub use compose::{Composition, compose};
pub use display::DisplayList;
pub use document::{FORMAT_VERSION, ImageRef, Language, PosterDocument, TemplateRef};
pub use error::PosterError;
pub use images::{DecodedImage, ImageLimits, ImageSet, decode_image};
pub use pdf::{PdfOptions, render_pdf};
pub use preflight::Warning;
pub use raster::render_png;
pub use size::{PosterSize, SizeKind};
pub use style::Style;
pub use template::Template;
pub use text::Typesetter;
