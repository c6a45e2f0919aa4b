//! Renders the event template at A3 (300 dpi, with a 2048×1536 image) to PNG and PDF files, for
//! measuring peak memory: `/usr/bin/time -v cargo run --release -p zk-poster --example render_a3 -- /tmp/a3`.
//! (The crate itself writes no files; this example does.)
#![allow(clippy::unwrap_used)]

use std::io::Cursor;

use zk_poster::{ImageLimits, ImageRef, ImageSet, Language, PdfOptions, Typesetter, compose, render_pdf, seed};

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "/tmp/poster-a3".into());
    let mut image = image::RgbImage::new(2048, 1536);
    for (x, y, pixel) in image.enumerate_pixels_mut() {
        *pixel = image::Rgb([(x / 8) as u8, (y / 6) as u8, ((x ^ y) & 0xff) as u8]);
    }
    let mut png = Vec::new();
    image.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    let template = seed::template("event").unwrap().unwrap();
    let style = seed::style(&template.default_style).unwrap().unwrap();
    let mut document = seed::sample_document(&template, Language::ZhCn);
    document.size = "A3".into();
    let mut images = ImageSet::new();
    let hash = images.add(&png, &ImageLimits::default()).unwrap();
    document.images.insert("image".into(), ImageRef { sha256: hash, focal: None });
    let mut typesetter = Typesetter::new();
    let started = std::time::Instant::now();
    let composition = compose(&mut typesetter, &document, &template, &style, &images).unwrap();
    let composed = started.elapsed();
    let pixmap = zk_poster::raster::render_pixmap(&composition.display, 1.0).unwrap();
    let rasterized = started.elapsed();
    let png = zk_poster::raster::encode_png(&pixmap).unwrap();
    let png_done = started.elapsed();
    let pdf = render_pdf(&composition.display, &PdfOptions { crop_marks: true }).unwrap();
    let pdf_done = started.elapsed();
    let mut offline = document.clone();
    offline.images.clear();
    let without_image = compose(&mut typesetter, &offline, &template, &style, &images).unwrap();
    let pdf_started = std::time::Instant::now();
    let _ = render_pdf(&without_image.display, &PdfOptions { crop_marks: true }).unwrap();
    println!(
        "compose {composed:?}, rasterize {:?}, encode {:?}, pdf {:?} (without the image {:?})",
        rasterized - composed,
        png_done - rasterized,
        pdf_done - png_done,
        pdf_started.elapsed()
    );
    std::fs::write(format!("{out}.png"), &png).unwrap();
    std::fs::write(format!("{out}.pdf"), &pdf).unwrap();
    println!(
        "compose+png {png_done:?}, total {:?}; PNG {} bytes, PDF {} bytes; warnings: {:?}",
        started.elapsed(),
        png.len(),
        pdf.len(),
        composition.warnings.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
}
