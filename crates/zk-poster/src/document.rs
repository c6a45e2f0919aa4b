//! The poster document: everything that makes a poster, so that rendering it again gives the same
//! bytes. Image bytes are not inside: the document names each image by its SHA-256 and the caller
//! passes the bytes in ([`crate::ImageSet`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::PosterError;

/// The document format this build writes and reads. A change that old readers would misread
/// raises it.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Language {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Language {
    pub fn tag(self) -> &'static str {
        match self {
            Language::ZhCn => "zh-CN",
            Language::En => "en",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateRef {
    pub id: String,
    pub version: u32,
}

/// An image placed in an image or logo slot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRef {
    /// SHA-256 of the image file's bytes, lower-case hex.
    pub sha256: String,
    /// The point of the image (0..1 from the left and top) kept in view when it is cropped to
    /// cover its frame. Absent: the centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focal: Option<[f32; 2]>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PosterDocument {
    pub format_version: u32,
    pub template: TemplateRef,
    /// A size id of [`crate::size::SIZES`]: `A3`, `1080x1350`…
    pub size: String,
    /// A style id.
    pub style: String,
    #[serde(default)]
    pub language: Language,
    /// Text slot values (and the QR slot's content), by slot name. A slot left out shows the
    /// template's sample text; an empty value leaves the slot empty.
    #[serde(default)]
    pub text: BTreeMap<String, String>,
    /// Images by slot name.
    #[serde(default)]
    pub images: BTreeMap<String, ImageRef>,
    /// Draw printer's crop marks around the trim box in the PDF.
    #[serde(default)]
    pub crop_marks: bool,
    /// When the poster was made (RFC 3339, UTC): the PDF's creation date comes from here, never from
    /// the clock, so rendering again gives the same bytes.
    pub created: String,
}

impl PosterDocument {
    pub fn from_json(json: &str) -> Result<Self, PosterError> {
        let document: PosterDocument =
            serde_json::from_str(json).map_err(|error| PosterError::Data(format!("poster document: {error}")))?;
        if document.format_version != FORMAT_VERSION {
            return Err(PosterError::UnsupportedFormat { found: document.format_version, supported: FORMAT_VERSION });
        }
        Ok(document)
    }

    pub fn to_json(&self) -> String {
        // A struct of strings, numbers and maps always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// `created` as (year, month, day, hour, minute, second), if it is an RFC 3339 UTC timestamp.
pub(crate) fn parse_utc(created: &str) -> Option<(u16, u8, u8, u8, u8, u8)> {
    let bytes = created.as_bytes();
    if bytes.len() < 19 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[10] != b'T' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| created.get(range)?.parse::<u16>().ok();
    Some((
        number(0..4)?,
        u8::try_from(number(5..7)?).ok()?,
        u8::try_from(number(8..10)?).ok()?,
        u8::try_from(number(11..13)?).ok()?,
        u8::try_from(number(14..16)?).ok()?,
        u8::try_from(number(17..19)?).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_survives_json_and_refuses_other_versions() {
        let document = PosterDocument {
            format_version: FORMAT_VERSION,
            template: TemplateRef { id: "event".into(), version: 1 },
            size: "A3".into(),
            style: "ink".into(),
            language: Language::En,
            text: BTreeMap::from([("title".into(), "Hello".into())]),
            images: BTreeMap::new(),
            crop_marks: true,
            created: "2026-12-08T03:00:00Z".into(),
        };
        let back = PosterDocument::from_json(&document.to_json());
        assert_eq!(back.ok(), Some(document.clone()));
        let newer = document.to_json().replace("\"format_version\": 1", "\"format_version\": 9");
        assert!(matches!(PosterDocument::from_json(&newer), Err(PosterError::UnsupportedFormat { found: 9, .. })));
    }

    #[test]
    fn created_is_read_as_utc_parts() {
        assert_eq!(parse_utc("2026-12-08T03:04:05Z"), Some((2026, 12, 8, 3, 4, 5)));
        assert_eq!(parse_utc("yesterday"), None);
    }
}
