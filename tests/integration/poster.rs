//! `zk-agent poster …`, black-box: the seeded templates, styles and sizes listed (text and JSON), a
//! template exported and checked for import, renders of a template and of a poster document to PNG
//! and PDF (the same bytes twice), and usage errors. No database, no network.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// `zk-agent poster ARGS…` with a clean environment rooted in `dir`.
fn poster(dir: &Path, args: &[&str]) -> Output {
    Command::new(zk_tests::process::zk_agent_binary())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("ZK_DATA_DIR", dir)
        .current_dir(dir)
        .arg("poster")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn templates_list_names_every_seeded_template_with_sizes_and_slots() {
    let dir = tempfile::tempdir().unwrap();
    let listed = poster(dir.path(), &["templates", "list", "--json"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let templates: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let templates = templates.as_array().unwrap();
    assert!(templates.len() >= 12, "{templates:?}");
    for template in templates {
        assert!(template["name"].is_string() && !template["sizes"].as_array().unwrap().is_empty());
        assert!(template["slots"].as_array().unwrap().iter().any(|slot| slot["name"] == "title"), "{template}");
    }
    let table = poster(dir.path(), &["templates", "list"]);
    assert!(text(&table.stdout).contains("architecture"), "{}", text(&table.stdout));
    let sizes = poster(dir.path(), &["sizes", "list"]);
    let sizes = text(&sizes.stdout);
    assert!(sizes.contains("A3") && sizes.contains("297×420 mm") && sizes.contains("3579×5031"), "{sizes}");
    assert!(sizes.contains("900x383"), "{sizes}");
    let styles = poster(dir.path(), &["styles", "list", "--json"]);
    assert!(serde_json::from_slice::<Value>(&styles.stdout).unwrap().as_array().unwrap().len() >= 8);
    // No database was made: posters need none.
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing written to the data directory");
}

#[test]
fn an_exported_template_checks_as_importable_and_a_broken_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lecture.json");
    let exported = poster(dir.path(), &["templates", "export", "lecture", "-o", file.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let checked = poster(dir.path(), &["templates", "import", file.to_str().unwrap()]);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(text(&checked.stdout).contains("template `lecture` version 1 is valid"));
    assert!(text(&checked.stderr).contains("poster store"), "says that storing is not there yet");

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, std::fs::read_to_string(&file).unwrap().replace("\"A4\"", "\"B7\"")).unwrap();
    let refused = poster(dir.path(), &["templates", "import", broken.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("unknown size `B7`"), "{}", text(&refused.stderr));
    let unknown = poster(dir.path(), &["templates", "export", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn a_template_renders_to_the_same_png_and_pdf_twice_and_a_document_renders_too() {
    let dir = tempfile::tempdir().unwrap();
    let render = |out: &str, extra: &[&str]| {
        let mut args =
            vec!["render", "--template", "event", "--size", "A5", "--set", "title=夏日音乐节 Summer", "-o", out];
        args.extend_from_slice(extra);
        let output = poster(dir.path(), &args);
        assert!(output.status.success(), "{}", text(&output.stderr));
        std::fs::read(dir.path().join(out)).unwrap()
    };
    let png = render("a.png", &["--scale", "0.2"]);
    assert!(png.starts_with(b"\x89PNG"));
    assert_eq!(png, render("b.png", &["--scale", "0.2"]), "the same flags give the same PNG");
    let pdf = render("a.pdf", &["--crop-marks"]);
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(pdf, render("b.pdf", &["--crop-marks"]), "the same flags give the same PDF");
    assert!(pdf.windows(b"/TrimBox".len()).any(|w| w == b"/TrimBox"));

    let spec = dir.path().join("poster.json");
    std::fs::write(
        &spec,
        r#"{"format_version": 1, "template": {"id": "sale", "version": 1}, "size": "1080x1080",
            "style": "midnight", "language": "en", "text": {"title": "Flash sale"}, "created": "2026-12-08T03:00:00Z"}"#,
    )
    .unwrap();
    let from_spec = poster(dir.path(), &["render", spec.to_str().unwrap(), "-o", "spec.png", "--scale", "0.25"]);
    assert!(from_spec.status.success(), "{}", text(&from_spec.stderr));
    assert!(std::fs::read(dir.path().join("spec.png")).unwrap().starts_with(b"\x89PNG"));
}

#[test]
fn usage_errors_exit_2_and_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["render", "--template", "event", "-o", "x.gif"], ".png or .pdf"),
        (&["render", "--template", "nope", "-o", "x.png"], "templates list"),
        (&["render", "--template", "event", "--size", "B7", "-o", "x.png"], "sizes list"),
        (&["render", "--template", "event", "--set", "nope=1", "-o", "x.png"], "no text slot `nope`"),
        (&["render", "--template", "event", "--set", "title", "-o", "x.png"], "SLOT=VALUE"),
    ];
    for (args, expected) in cases {
        let output = poster(dir.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output.stderr));
        assert!(text(&output.stderr).contains(expected), "{args:?}: {}", text(&output.stderr));
    }
    let bad_image = dir.path().join("bad.png");
    std::fs::write(&bad_image, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let refused = poster(
        dir.path(),
        &["render", "--template", "event", "--image", &format!("image={}", bad_image.display()), "-o", "x.png"],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("bad.png"), "{}", text(&refused.stderr));
}
