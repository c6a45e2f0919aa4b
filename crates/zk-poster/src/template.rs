//! Templates: the layout of a poster as data. Frames are in percent of the trim box (so one
//! template fits every size of its orientation); lengths (font sizes, radii) are in `u`, a
//! hundredth of the trim box's shorter side.

use serde::{Deserialize, Serialize};

use crate::style::ColorRole;

/// A text in Simplified Chinese and in English.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    #[serde(rename = "zh-CN")]
    pub zh_cn: String,
    pub en: String,
}

impl Localized {
    pub fn get(&self, language: crate::Language) -> &str {
        match language {
            crate::Language::ZhCn => &self.zh_cn,
            crate::Language::En => &self.en,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    Portrait,
    Landscape,
    Square,
}

/// A rectangle in percent of the trim box: `[x, y, width, height]`.
pub type Frame = [f32; 4];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    #[default]
    Start,
    Center,
    End,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VAlign {
    #[default]
    Top,
    Middle,
    Bottom,
}

/// How an image fills its frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// Fill the frame, cropping around the focal point.
    #[default]
    Cover,
    /// Show the whole image inside the frame.
    Contain,
}

/// What a text slot is for: decides its face (titles take the style's title face) and weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextRole {
    Title,
    Subtitle,
    Body,
    Meta,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextSlot {
    pub role: TextRole,
    /// Font size in `u`.
    pub size: f32,
    /// Titles shrink down to this size (in `u`) before an ellipsis cuts them. Absent: no shrinking.
    #[serde(default)]
    pub min_size: Option<f32>,
    #[serde(default = "default_max_lines")]
    pub max_lines: u32,
    #[serde(default)]
    pub align: Align,
    #[serde(default)]
    pub valign: VAlign,
    pub color: ColorRole,
    /// Line height as a multiple of the font size.
    #[serde(default = "default_line_height")]
    pub line_height: f32,
    /// Extra space between characters, in em.
    #[serde(default)]
    pub tracking: f32,
    /// Shown when the document gives no value: sample text that makes the template readable.
    pub sample: Localized,
}

fn default_max_lines() -> u32 {
    3
}

fn default_line_height() -> f32 {
    1.3
}

fn default_opacity() -> f32 {
    1.0
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSlot {
    #[serde(default)]
    pub fit: Fit,
    /// Corner radius in `u`.
    #[serde(default)]
    pub radius: f32,
    #[serde(default = "default_opacity")]
    pub opacity: f32,
    /// Without an image the frame is filled with this decoration (so the template still reads as a
    /// poster offline); absent: nothing is drawn.
    #[serde(default)]
    pub placeholder: Option<Paint>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrSlot {
    pub color: ColorRole,
    pub background: ColorRole,
    /// Shown when the document gives no value.
    pub sample: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SlotKind {
    Text(TextSlot),
    Image(ImageSlot),
    Logo(ImageSlot),
    Qr(QrSlot),
}

// No deny_unknown_fields here: serde does not support it beside a flattened enum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    pub name: String,
    pub label: Localized,
    pub frame: Frame,
    #[serde(flatten)]
    pub kind: SlotKind,
}

/// Paint of a decoration or placeholder, by palette role.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Paint {
    Solid {
        color: ColorRole,
    },
    /// From `from` to `to` along `angle_deg` (0 = left to right, 90 = top to bottom).
    Linear {
        from: ColorRole,
        to: ColorRole,
        angle_deg: f32,
    },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    #[default]
    Rect,
    Ellipse,
}

/// A shape of the template's own background, drawn over the style's background in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decoration {
    pub frame: Frame,
    #[serde(default)]
    pub shape: Shape,
    /// Corner radius in `u` (rectangles).
    #[serde(default)]
    pub radius: f32,
    pub paint: Paint,
    #[serde(default = "default_opacity")]
    pub opacity: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: String,
    pub version: u32,
    pub name: Localized,
    /// event, launch, recruitment, architecture, exhibition, sale, festival, lecture…
    pub category: String,
    pub orientation: Orientation,
    /// Size ids this template is laid out for; the first is its default.
    pub sizes: Vec<String>,
    pub default_style: String,
    #[serde(default)]
    pub decorations: Vec<Decoration>,
    /// Drawn in order: later slots lie on top.
    pub slots: Vec<Slot>,
}

impl Template {
    pub fn default_size(&self) -> &str {
        self.sizes.first().map(String::as_str).unwrap_or("1080x1350")
    }

    pub fn slot(&self, name: &str) -> Option<&Slot> {
        self.slots.iter().find(|slot| slot.name == name)
    }

    pub fn from_json(json: &str) -> Result<Self, crate::PosterError> {
        serde_json::from_str(json).map_err(|error| crate::PosterError::Data(format!("template: {error}")))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
