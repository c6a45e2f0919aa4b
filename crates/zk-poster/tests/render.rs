//! Rendering a poster document to PNG and PDF: same bytes every time, PDF with real text and boxes,
//! images placed and refused, preflight warnings.
#![allow(clippy::unwrap_used)]

use std::io::Cursor;
use std::time::{Duration, Instant};

use zk_poster::preflight::Warning;
use zk_poster::{
    ImageLimits, ImageRef, ImageSet, Language, PdfOptions, PosterError, Typesetter, compose, decode_image, render_pdf,
    render_png, seed,
};

fn png_bytes(width: u32, height: u32) -> Vec<u8> {
    let mut image = image::RgbaImage::new(width, height);
    for (x, y, pixel) in image.enumerate_pixels_mut() {
        *pixel = image::Rgba([(x * 255 / width.max(1)) as u8, (y * 255 / height.max(1)) as u8, 160, 255]);
    }
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    bytes
}

fn event_document(language: Language) -> (zk_poster::PosterDocument, zk_poster::Template, zk_poster::Style) {
    let template = seed::template("event").unwrap().unwrap();
    let style = seed::style(&template.default_style).unwrap().unwrap();
    (seed::sample_document(&template, language), template, style)
}

#[test]
fn the_same_document_renders_to_the_same_png_and_pdf_bytes() {
    let (mut document, template, style) = event_document(Language::ZhCn);
    document.size = "A5".into();
    document.crop_marks = true;
    let mut images = ImageSet::new();
    let hash = images.add(&png_bytes(64, 48), &ImageLimits::default()).unwrap();
    document.images.insert("image".into(), ImageRef { sha256: hash, focal: Some([0.3, 0.5]) });
    let render = |typesetter: &mut Typesetter| {
        let composition = compose(typesetter, &document, &template, &style, &images).unwrap();
        (
            render_png(&composition.display, 0.2).unwrap(),
            render_pdf(&composition.display, &PdfOptions { crop_marks: true }).unwrap(),
        )
    };
    let first = render(&mut Typesetter::new());
    // A fresh typesetter and a used one give the same bytes.
    let mut typesetter = Typesetter::new();
    let _ = render(&mut typesetter);
    let second = render(&mut typesetter);
    assert!(first.0 == second.0, "PNG bytes are the same");
    assert!(first.1 == second.1, "PDF bytes are the same");
    assert!(first.0.starts_with(b"\x89PNG"));
}

#[test]
fn the_pdf_holds_the_text_as_text_and_the_print_boxes() {
    let (mut document, template, style) = event_document(Language::ZhCn);
    document.size = "A4".into();
    document.text.insert("title".into(), "城市夜跑 Night Run".into());
    let composition = compose(&mut Typesetter::new(), &document, &template, &style, &ImageSet::new()).unwrap();
    let pdf = render_pdf(&composition.display, &PdfOptions { crop_marks: true }).unwrap();
    let parsed = lopdf::Document::load_mem(&pdf).unwrap();
    let text = parsed.extract_text(&[1]).unwrap();
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(compact.contains("城市夜跑NightRun"), "the title is extractable text: {text:?}");
    assert!(compact.contains("滨江公园北门集合"), "the place is extractable text: {text:?}");

    let page_id = *parsed.get_pages().get(&1).unwrap();
    let page = parsed.get_dictionary(page_id).unwrap();
    let rect = |name: &[u8]| -> Vec<f32> {
        page.get(name)
            .unwrap_or_else(|_| panic!("{} present", String::from_utf8_lossy(name)))
            .as_array()
            .unwrap()
            .iter()
            .map(|number| number.as_float().unwrap())
            .collect()
    };
    let (media, bleed, trim) = (rect(b"MediaBox"), rect(b"BleedBox"), rect(b"TrimBox"));
    let mm = |points: f32| points / 72.0 * 25.4;
    assert!((mm(trim[2] - trim[0]) - 210.0).abs() < 0.1, "trim is 210 mm wide: {trim:?}");
    assert!((mm(trim[3] - trim[1]) - 297.0).abs() < 0.1, "trim is 297 mm high: {trim:?}");
    assert!((mm(bleed[2] - bleed[0]) - 216.0).abs() < 0.2, "3 mm bleed each side: {bleed:?}");
    assert!(media[2] - media[0] > bleed[2] - bleed[0], "room for crop marks outside the bleed: {media:?}");
    // Fonts are embedded (a FontFile3 for CFF outlines) and subset (a tag before the name).
    let fonts: Vec<String> = parsed
        .objects
        .values()
        .filter_map(|object| object.as_dict().ok())
        .filter(|dict| dict.get(b"Type").and_then(|t| t.as_name()).ok() == Some(b"FontDescriptor".as_slice()))
        .map(|dict| {
            assert!(dict.has(b"FontFile3") || dict.has(b"FontFile2"), "the font program is embedded");
            String::from_utf8_lossy(dict.get(b"FontName").unwrap().as_name().unwrap()).to_string()
        })
        .collect();
    assert!(!fonts.is_empty(), "fonts are embedded");
    assert!(fonts.iter().all(|name| name.len() > 7 && name.as_bytes()[6] == b'+'), "subset fonts: {fonts:?}");
    assert!(pdf.len() < 400_000, "subset fonts keep the PDF small: {} bytes", pdf.len());
}

#[test]
fn a_small_image_across_a3_gets_a_resolution_warning_and_a_large_one_does_not() {
    let (mut document, template, style) = event_document(Language::En);
    document.size = "A3".into();
    let mut images = ImageSet::new();
    let small = images.add(&png_bytes(1536, 1024), &ImageLimits::default()).unwrap();
    document.images.insert("image".into(), ImageRef { sha256: small, focal: None });
    let composition = compose(&mut Typesetter::new(), &document, &template, &style, &images).unwrap();
    let low: Vec<_> = composition
        .warnings
        .iter()
        .filter_map(|warning| match warning {
            Warning::LowImageResolution { slot, dpi } => Some((slot.clone(), *dpi)),
            _ => None,
        })
        .collect();
    assert_eq!(low.len(), 1, "{:?}", composition.warnings);
    // 1024 px over 58 % of 426 mm (the frame reaches into the bleed) is about 105 dpi.
    assert!(low[0].1 > 80.0 && low[0].1 < 130.0, "dpi {}", low[0].1);

    document.size = "1080x1350".into();
    let social = compose(&mut Typesetter::new(), &document, &template, &style, &images).unwrap();
    assert!(social.warnings.is_empty(), "screen sizes have no print resolution: {:?}", social.warnings);
}

#[test]
fn text_outside_the_safe_area_and_cut_text_are_reported() {
    let (mut document, mut template, style) = event_document(Language::En);
    document.size = "A4".into();
    // Move the place line onto the trim edge.
    let place = template.slots.iter_mut().find(|slot| slot.name == "place").unwrap();
    place.frame = [0.0, 96.0, 60.0, 4.0];
    document.text.insert("subtitle".into(), "A subtitle far too long for its two lines ".repeat(8));
    // 𠀀 (U+20000) and 😀 are not in the GB2312 subsets.
    document.text.insert("date".into(), "16 May 𠀀😀".into());
    let composition = compose(&mut Typesetter::new(), &document, &template, &style, &ImageSet::new()).unwrap();
    assert!(
        composition.warnings.contains(&Warning::TextOutsideSafeArea { slot: "place".into() }),
        "{:?}",
        composition.warnings
    );
    assert!(composition.warnings.contains(&Warning::TextCut { slot: "subtitle".into() }), "{:?}", composition.warnings);
    assert!(
        !composition.warnings.iter().any(|w| matches!(w, Warning::TextOutsideSafeArea { slot } if slot == "title"))
    );
    assert!(
        composition.warnings.contains(&Warning::MissingGlyphs { slot: "date".into(), characters: "𠀀😀".into() }),
        "{:?}",
        composition.warnings
    );
}

#[test]
fn an_image_is_cropped_around_its_focal_point_and_a_missing_image_is_an_error() {
    let (mut document, template, style) = event_document(Language::En);
    let mut images = ImageSet::new();
    // A wide image in a wider-than-tall frame of 1080×783: cover crops the sides.
    let wide = images.add(&png_bytes(400, 100), &ImageLimits::default()).unwrap();
    let placed_x = |focal: [f32; 2], document: &mut zk_poster::PosterDocument| {
        document.images.insert("image".into(), ImageRef { sha256: wide.clone(), focal: Some(focal) });
        let composition = compose(&mut Typesetter::new(), document, &template, &style, &images).unwrap();
        composition
            .display
            .items
            .iter()
            .find_map(|item| match item {
                zk_poster::display::Item::Image { placed, clip, .. } => Some((placed.x, placed.w, clip.w)),
                _ => None,
            })
            .unwrap()
    };
    let (left_x, width, clip_w) = placed_x([0.0, 0.5], &mut document);
    let (right_x, _, _) = placed_x([1.0, 0.5], &mut document);
    let (centre_x, _, _) = placed_x([0.5, 0.5], &mut document);
    assert_eq!(left_x, 0.0, "focal at the left edge shows the left edge");
    assert!((right_x - (clip_w - width)).abs() < 0.01, "focal at the right edge shows the right edge");
    assert!(right_x < centre_x && centre_x < left_x);

    document.images.insert("image".into(), ImageRef { sha256: "00".repeat(32), focal: None });
    let missing = compose(&mut Typesetter::new(), &document, &template, &style, &images);
    assert!(matches!(missing, Err(PosterError::MissingImage { .. })));
}

#[test]
fn the_files_of_bad_inputs_are_refused_quickly() {
    let folder = std::path::Path::new("/work/shared/bad-inputs/images");
    let Ok(entries) = std::fs::read_dir(folder) else {
        eprintln!("{} is not on this machine; skipped", folder.display());
        return;
    };
    let mut checked = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let started = Instant::now();
        let result = decode_image(&bytes, &ImageLimits::default());
        let took = started.elapsed();
        let Err(PosterError::Image(reason)) = result else { panic!("{} must be refused", path.display()) };
        assert!(took < Duration::from_millis(50), "{} took {took:?}", path.display());
        assert!(!reason.is_empty());
        checked += 1;
    }
    assert!(checked >= 5, "the bad inputs were found");
}

#[test]
fn formats_other_than_png_jpeg_and_webp_are_refused_by_name() {
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    let Err(PosterError::Image(reason)) = decode_image(gif, &ImageLimits::default()) else { panic!("GIF refused") };
    assert!(reason.contains("Gif") && reason.contains("PNG, JPEG or WebP"), "{reason}");
    let Err(PosterError::Image(_)) = decode_image(b"hello", &ImageLimits::default()) else { panic!("text refused") };
    let limits = ImageLimits { max_width: 100, ..ImageLimits::default() };
    assert!(decode_image(&png_bytes(200, 10), &limits).is_err(), "wider than the limit");
}

#[test]
fn the_qr_slot_draws_a_readable_matrix_and_refuses_what_does_not_fit() {
    let template = seed::template("lecture").unwrap().unwrap();
    let style = seed::style(&template.default_style).unwrap().unwrap();
    let mut document = seed::sample_document(&template, Language::ZhCn);
    let composition = compose(&mut Typesetter::new(), &document, &template, &style, &ImageSet::new()).unwrap();
    let modules = composition.display.items.iter().find_map(|item| match item {
        zk_poster::display::Item::Modules { width, modules, .. } => Some((*width, modules.clone())),
        _ => None,
    });
    let (width, modules) = modules.unwrap();
    assert_eq!(modules.len(), width * width);
    // The three finder patterns: the top-left 7×7 has a dark ring.
    assert!(modules[0] && modules[6] && modules[6 * width] && !modules[width + 1]);
    document.text.insert("qr".into(), "x".repeat(5000));
    let too_long = compose(&mut Typesetter::new(), &document, &template, &style, &ImageSet::new());
    assert!(matches!(too_long, Err(PosterError::Qr { .. })));
}
