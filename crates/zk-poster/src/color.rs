//! Colours as they appear in templates and styles: `"#RRGGBB"` or `"#RRGGBBAA"`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A straight (not premultiplied) sRGB colour with alpha.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rgba {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

impl Rgba {
    pub const fn rgb(r: u8, g: u8, b: u8) -> Self {
        Self { r, g, b, a: 255 }
    }

    pub const WHITE: Rgba = Rgba::rgb(255, 255, 255);
    pub const BLACK: Rgba = Rgba::rgb(0, 0, 0);

    /// Parses `#RRGGBB` or `#RRGGBBAA`.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix('#')?;
        if !(hex.len() == 6 || hex.len() == 8) || !hex.is_ascii() {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        let a = if hex.len() == 8 { byte(6)? } else { 255 };
        Some(Self { r: byte(0)?, g: byte(2)?, b: byte(4)?, a })
    }

    pub fn with_alpha(self, a: u8) -> Self {
        Self { a, ..self }
    }
}

impl fmt::Display for Rgba {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.r, self.g, self.b)?;
        if self.a != 255 {
            write!(f, "{:02x}", self.a)?;
        }
        Ok(())
    }
}

impl Serialize for Rgba {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rgba {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Rgba::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a colour: write #RRGGBB or #RRGGBBAA")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_hex_colours() {
        assert_eq!(Rgba::parse("#ff8000"), Some(Rgba::rgb(255, 128, 0)));
        assert_eq!(Rgba::parse("#ff800080").map(|c| c.a), Some(128));
        assert_eq!(Rgba::parse("ff8000"), None, "the # is required");
        assert_eq!(Rgba::parse("#ff80"), None);
        assert_eq!(Rgba::rgb(1, 2, 3).to_string(), "#010203");
    }
}
