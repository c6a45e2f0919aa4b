//! Every seeded template rendered with its samples, in zh-CN and en, at its default size and style,
//! compared with the PNG pinned in `tests/snapshots/` (checked by eye when pinned). Re-pin with
//! `ZK_UPDATE_SNAPSHOTS=1 cargo test -p zk-poster --test snapshots`.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use zk_poster::{ImageSet, Language, Typesetter, compose, render_png, seed};

/// Snapshots are about 270 px wide: enough to see a layout, small enough for the repository.
const SNAPSHOT_WIDTH: f32 = 270.0;

#[test]
fn every_seeded_template_matches_its_pinned_snapshot_in_both_languages() {
    let update = std::env::var_os("ZK_UPDATE_SNAPSHOTS").is_some();
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    std::fs::create_dir_all(&folder).unwrap();
    let mut typesetter = Typesetter::new();
    let mut failures = Vec::new();
    for template in seed::templates().unwrap() {
        let style = seed::style(&template.default_style).unwrap().unwrap();
        for language in [Language::ZhCn, Language::En] {
            let document = seed::sample_document(&template, language);
            let composition = compose(&mut typesetter, &document, &template, &style, &ImageSet::new()).unwrap();
            // The samples show what the template is for: they fit, inside the safe area, in fonts we have.
            for warning in &composition.warnings {
                failures.push(format!("{} {}: {warning}", template.id, language.tag()));
            }
            let scale = SNAPSHOT_WIDTH / composition.display.geometry.canvas_w as f32;
            let png = render_png(&composition.display, scale).unwrap();
            let path = folder.join(format!("{}.{}.png", template.id, language.tag()));
            if update {
                std::fs::write(&path, &png).unwrap();
                continue;
            }
            match std::fs::read(&path) {
                Ok(pinned) if pinned == png => {}
                Ok(_) => failures
                    .push(format!("{} differs (re-pin with ZK_UPDATE_SNAPSHOTS=1 after looking)", path.display())),
                Err(_) => failures.push(format!("{} is missing", path.display())),
            }
        }
    }
    assert!(failures.is_empty(), "snapshots:\n{}", failures.join("\n"));
}
