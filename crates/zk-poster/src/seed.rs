//! The seeded templates and styles, as data: `seed/templates/*.json` and `seed/styles.json`,
//! embedded at build time.

use crate::{PosterError, Style, Template};

const TEMPLATES: &[(&str, &str)] = &[];

const STYLES: &str = include_str!("../seed/styles.json");

/// Every seeded template, in catalogue order.
pub fn templates() -> Result<Vec<Template>, PosterError> {
    TEMPLATES
        .iter()
        .map(|(name, json)| Template::from_json(json).map_err(|error| PosterError::Data(format!("{name}: {error}"))))
        .collect()
}

/// Every seeded style.
pub fn styles() -> Result<Vec<Style>, PosterError> {
    serde_json::from_str(STYLES).map_err(|error| PosterError::Data(format!("seed/styles.json: {error}")))
}
