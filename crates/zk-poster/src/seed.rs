//! The seeded templates and styles, as data: `seed/templates/*.json` and `seed/styles.json`,
//! embedded at build time.

use crate::{PosterError, Style, Template};

const TEMPLATES: &[(&str, &str)] = &[
    ("event", include_str!("../seed/templates/event.json")),
    ("product-launch", include_str!("../seed/templates/product-launch.json")),
    ("recruitment", include_str!("../seed/templates/recruitment.json")),
    ("architecture", include_str!("../seed/templates/architecture.json")),
    ("exhibition", include_str!("../seed/templates/exhibition.json")),
    ("sale", include_str!("../seed/templates/sale.json")),
    ("festival", include_str!("../seed/templates/festival.json")),
    ("lecture", include_str!("../seed/templates/lecture.json")),
    ("wechat-cover", include_str!("../seed/templates/wechat-cover.json")),
    ("conference", include_str!("../seed/templates/conference.json")),
    ("note-card", include_str!("../seed/templates/note-card.json")),
    ("workshop", include_str!("../seed/templates/workshop.json")),
];

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

/// The seeded template with this id.
pub fn template(id: &str) -> Result<Option<Template>, PosterError> {
    Ok(templates()?.into_iter().find(|template| template.id == id))
}

/// The seeded style with this id.
pub fn style(id: &str) -> Result<Option<Style>, PosterError> {
    Ok(styles()?.into_iter().find(|style| style.id == id))
}

/// A document for `template` that shows its samples in `language` at its default size and style.
pub fn sample_document(template: &Template, language: crate::Language) -> crate::PosterDocument {
    crate::PosterDocument {
        format_version: crate::FORMAT_VERSION,
        template: crate::TemplateRef { id: template.id.clone(), version: template.version },
        size: template.default_size().to_string(),
        style: template.default_style.clone(),
        language,
        text: Default::default(),
        images: Default::default(),
        crop_marks: false,
        created: "2026-01-01T00:00:00Z".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::SlotKind;

    #[test]
    fn the_seed_has_twelve_templates_and_eight_styles_that_fit_together() {
        let templates = templates().unwrap_or_else(|error| panic!("{error}"));
        let styles = styles().unwrap_or_else(|error| panic!("{error}"));
        assert!(templates.len() >= 12, "at least 12 templates, got {}", templates.len());
        assert!(styles.len() >= 8, "at least 8 styles, got {}", styles.len());
        for template in &templates {
            assert!(template.slot("title").is_some(), "{} has a title slot", template.id);
            assert!(styles.iter().any(|style| style.id == template.default_style), "{}'s style exists", template.id);
            for size in &template.sizes {
                assert!(crate::PosterSize::find(size).is_some(), "{} names size {size}", template.id);
            }
            for slot in &template.slots {
                assert!(
                    !matches!(&slot.kind, SlotKind::Text(text) if text.sample.zh_cn.is_empty() || text.sample.en.is_empty()),
                    "{}.{} has samples in both languages",
                    template.id,
                    slot.name
                );
            }
        }
        let with_image =
            templates.iter().filter(|t| t.slots.iter().any(|s| matches!(s.kind, SlotKind::Image(_)))).count();
        let with_logo = templates.iter().filter(|t| t.slot("logo").is_some()).count();
        assert!(
            with_image * 2 > templates.len() && with_logo * 2 > templates.len(),
            "most have an image and a logo slot"
        );
    }
}
