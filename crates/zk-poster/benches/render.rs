//! Render and layout timings (see bench/README.md, "Posters"): A3 at 300 dpi to PNG and PDF, a
//! 1080×1350 social poster to PNG, and a 2,000-character Chinese body set by our typesetter
//! (kinsoku, fitting) against parley's own plain layout of the same text with the same font.
#![allow(clippy::unwrap_used)]

use std::borrow::Cow;
use std::hint::black_box;
use std::io::Cursor;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use parley::{FontContext, FontFamily, FontFamilyName, LayoutContext, StyleProperty};
use zk_poster::fonts::Face;
use zk_poster::template::Align;
use zk_poster::text::TextRequest;
use zk_poster::{
    ImageLimits, ImageRef, ImageSet, Language, PdfOptions, Typesetter, compose, render_pdf, render_png, seed,
};

/// A 2048×1536 image (the size an image model answers) with a hard-to-compress texture, as PNG or
/// JPEG bytes.
fn hero(format: image::ImageFormat) -> Vec<u8> {
    let mut image = image::RgbImage::new(2048, 1536);
    for (x, y, pixel) in image.enumerate_pixels_mut() {
        *pixel = image::Rgb([(x / 8) as u8, (y / 6) as u8, ((x ^ y) & 0xff) as u8]);
    }
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), format).unwrap();
    bytes
}

fn composition(size: &str) -> zk_poster::Composition {
    composition_with(size, image::ImageFormat::Png)
}

fn composition_with(size: &str, format: image::ImageFormat) -> zk_poster::Composition {
    let template = seed::template("event").unwrap().unwrap();
    let style = seed::style(&template.default_style).unwrap().unwrap();
    let mut document = seed::sample_document(&template, Language::ZhCn);
    document.size = size.to_string();
    let mut images = ImageSet::new();
    let hash = images.add(&hero(format), &ImageLimits::default()).unwrap();
    document.images.insert("image".into(), ImageRef { sha256: hash, focal: None });
    compose(&mut Typesetter::new(), &document, &template, &style, &images).unwrap()
}

/// 2,000 characters of Chinese running text with punctuation.
pub fn chinese_body() -> String {
    let sentence = "城市更新不是推倒重来，而是在保留街巷肌理的同时，让公共空间重新回到居民的日常生活中。";
    sentence.chars().cycle().take(2000).collect()
}

fn renders(c: &mut Criterion) {
    let mut group = c.benchmark_group("poster");
    group.sample_size(10);
    let a3 = composition("A3");
    group.bench_function("a3_300dpi_png", |b| b.iter(|| render_png(black_box(&a3.display), 1.0).unwrap()));
    group.bench_function("a3_pdf", |b| {
        b.iter(|| render_pdf(black_box(&a3.display), &PdfOptions { crop_marks: true }).unwrap())
    });
    let a3_jpeg = composition_with("A3", image::ImageFormat::Jpeg);
    group.bench_function("a3_pdf_jpeg_image", |b| {
        b.iter(|| render_pdf(black_box(&a3_jpeg.display), &PdfOptions { crop_marks: true }).unwrap())
    });
    let mut a3_offline = a3.display.clone();
    a3_offline.items.retain(|item| !matches!(item, zk_poster::display::Item::Image { .. }));
    group.bench_function("a3_pdf_no_image", |b| {
        b.iter(|| render_pdf(black_box(&a3_offline), &PdfOptions { crop_marks: true }).unwrap())
    });
    let social = composition("1080x1350");
    group.bench_function("social_1080x1350_png", |b| b.iter(|| render_png(black_box(&social.display), 1.0).unwrap()));
    let template = seed::template("event").unwrap().unwrap();
    let style = seed::style(&template.default_style).unwrap().unwrap();
    let document = seed::sample_document(&template, Language::ZhCn);
    let mut typesetter = Typesetter::new();
    group.bench_function("compose_1080x1350_offline", |b| {
        b.iter(|| compose(&mut typesetter, black_box(&document), &template, &style, &ImageSet::new()).unwrap())
    });
    group.finish();
}

fn layout(c: &mut Criterion) {
    let text = chinese_body();
    let mut group = c.benchmark_group("layout_2000_chinese_chars");
    let mut typesetter = Typesetter::new();
    let request = TextRequest {
        text: &text,
        face: Face::SansRegular,
        size_px: 32.0,
        min_size_px: None,
        max_lines: 1000,
        line_height: 1.6,
        tracking_em: 0.0,
        width: 960.0,
        height: 100_000.0,
        align: Align::Start,
        language: Language::ZhCn,
    };
    group.bench_function("zk_poster_typesetter", |b| b.iter(|| typesetter.set(black_box(&request))));

    // Baseline: parley's plain layout (no kinsoku override, no glyph extraction, no fitting).
    let mut fonts = FontContext {
        collection: parley::fontique::Collection::new(parley::fontique::CollectionOptions {
            shared: false,
            system_fonts: false,
        }),
        source_cache: Default::default(),
    };
    fonts.collection.register_fonts(parley::fontique::Blob::new(Arc::new(Face::SansRegular.bytes())), None);
    let family = fonts.collection.family_names().next().unwrap().to_string();
    let mut layouts: LayoutContext<()> = LayoutContext::new();
    let families = [FontFamilyName::Named(Cow::Owned(family))];
    group.bench_function("parley_plain_layout", |b| {
        b.iter(|| {
            let mut builder = layouts.ranged_builder(&mut fonts, &text, 1.0, false);
            builder.push_default(StyleProperty::FontFamily(FontFamily::List(Cow::Borrowed(&families))));
            builder.push_default(StyleProperty::FontSize(32.0));
            let mut built = builder.build(&text);
            built.break_all_lines(Some(960.0));
            black_box(built.height())
        })
    });
    group.finish();
}

criterion_group!(benches, renders, layout);
criterion_main!(benches);
