//! Styles: a palette, the fonts, the background treatment and what to add to an image prompt.
//! Data (serde), seeded in `seed/styles.json`, editable by admins later.

use serde::{Deserialize, Serialize};

use crate::Rgba;
use crate::template::Localized;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Palette {
    /// The page behind everything.
    pub background: Rgba,
    /// Panels and image placeholders.
    pub surface: Rgba,
    /// The strong colour: bands, titles on light pages.
    pub primary: Rgba,
    /// Highlights: rules, dates, small shapes.
    pub accent: Rgba,
    /// Text on the background.
    pub text: Rgba,
    /// Text on `primary`.
    pub on_primary: Rgba,
    /// Secondary text.
    pub muted: Rgba,
}

/// A colour of the palette, by role: templates speak of roles, styles give the colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColorRole {
    Background,
    Surface,
    Primary,
    Accent,
    Text,
    OnPrimary,
    Muted,
}

impl Palette {
    pub fn get(&self, role: ColorRole) -> Rgba {
        match role {
            ColorRole::Background => self.background,
            ColorRole::Surface => self.surface,
            ColorRole::Primary => self.primary,
            ColorRole::Accent => self.accent,
            ColorRole::Text => self.text,
            ColorRole::OnPrimary => self.on_primary,
            ColorRole::Muted => self.muted,
        }
    }
}

/// The page's background.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Background {
    Solid,
    /// From `from` to `to` along `angle_deg` (0 = left to right, 90 = top to bottom).
    Linear {
        from: ColorRole,
        to: ColorRole,
        angle_deg: f32,
    },
}

/// Which bundled face a text uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Typeface {
    Sans,
    Serif,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Style {
    pub id: String,
    pub version: u32,
    pub name: Localized,
    pub palette: Palette,
    pub background: Background,
    /// The face of titles; body text is always the sans.
    pub title_face: Typeface,
    /// Appended to the image prompt of a poster in this style (the image model draws no text).
    pub prompt_suffix: String,
}
