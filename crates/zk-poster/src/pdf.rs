//! Display list → PDF with krilla: one page whose MediaBox, BleedBox and TrimBox come from the
//! size, fonts embedded and subset, text as real text (selectable, searchable), optional crop
//! marks. Dates come from the document, so the same document gives the same bytes.

use std::collections::HashMap;
use std::sync::Arc;

use krilla::color::rgb;
use krilla::geom::{Path, PathBuilder, Point, Rect, Size, Transform};
use krilla::image::{BitsPerComponent, CustomImage, Image, ImageColorspace};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, LinearGradient, Paint as PdfPaint, SpreadMethod, Stop, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{Data, Document, SerializeSettings};

use crate::PosterError;
use crate::display::{self, DisplayList, Item, Paint, Pixels, Segment, ShapeKind};
use crate::document::parse_utc;
use crate::fonts::Face;

/// Room around the bleed box for crop marks, in millimetres.
const MARK_MARGIN_MM: f32 = 10.0;
/// Crop marks start this far outside the trim corner (past the bleed) and run this long.
const MARK_GAP_MM: f32 = 3.5;
const MARK_LENGTH_MM: f32 = 5.0;

#[derive(Clone, Copy, Debug, Default)]
pub struct PdfOptions {
    /// Print crop marks at the trim corners (the page grows to make room for them).
    pub crop_marks: bool,
}

pub fn render_pdf(display: &DisplayList, options: &PdfOptions) -> Result<Vec<u8>, PosterError> {
    let geometry = display.geometry;
    let pt = geometry.pt_per_px();
    let mm = 72.0 / 25.4;
    let margin = if options.crop_marks { MARK_MARGIN_MM * mm } else { 0.0 };
    let bleed_w = geometry.canvas_w as f32 * pt;
    let bleed_h = geometry.canvas_h as f32 * pt;
    let page_size = Size::from_wh(bleed_w + 2.0 * margin, bleed_h + 2.0 * margin)
        .ok_or_else(|| PosterError::Pdf("the page has no area".into()))?;
    let bleed_box = Rect::from_xywh(margin, margin, bleed_w, bleed_h);
    let trim_box = Rect::from_xywh(
        margin + geometry.trim.x * pt,
        margin + geometry.trim.y * pt,
        geometry.trim.w * pt,
        geometry.trim.h * pt,
    );

    let mut document = Document::new_with(SerializeSettings { enable_tagging: false, ..SerializeSettings::default() });
    let mut metadata = Metadata::new().title(display.title.clone()).language(display.language.tag().to_string());
    if let Some((year, month, day, hour, minute, second)) = parse_utc(&display.created) {
        let date =
            DateTime::new(year).month(month).day(day).hour(hour).minute(minute).second(second).utc_offset_hour(0);
        metadata = metadata.creation_date(date);
    }
    document.set_metadata(metadata);
    {
        let settings = PageSettings::new(page_size).with_bleed_box(bleed_box).with_trim_box(trim_box);
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        surface.push_transform(&Transform::from_row(pt, 0.0, 0.0, pt, margin, margin));
        let mut fonts = HashMap::new();
        for item in &display.items {
            draw_item(&mut surface, item, &mut fonts);
        }
        surface.pop();
        if let Some(trim) = trim_box {
            draw_crop_marks(&mut surface, trim, options.crop_marks, mm);
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|error| PosterError::Pdf(format!("{error:?}")))
}

fn draw_item(surface: &mut Surface<'_>, item: &Item, fonts: &mut HashMap<Face, Option<Font>>) {
    match item {
        Item::Shape { bounds, kind, paint, opacity } => {
            if let Some(path) = path_of(&display::outline(bounds, *kind)) {
                surface.set_fill(Some(Fill {
                    paint: pdf_paint(paint),
                    opacity: normalized(*opacity),
                    rule: FillRule::NonZero,
                }));
                surface.set_stroke(None);
                surface.draw_path(&path);
            }
        }
        Item::Image { pixels, placed, clip, radius, opacity } => {
            let Some(clip_path) = path_of(&display::outline(clip, ShapeKind::Rect { radius: *radius })) else { return };
            let Some(size) = Size::from_wh(placed.w, placed.h) else { return };
            let Some(image) = pdf_image(pixels) else { return };
            surface.push_clip_path(&clip_path, &FillRule::NonZero);
            surface.push_opacity(normalized(*opacity));
            surface.push_transform(&Transform::from_translate(placed.x, placed.y));
            surface.draw_image(image, size);
            surface.pop();
            surface.pop();
            surface.pop();
        }
        Item::Text { face, size, color, text, glyphs } => {
            let Some(first) = glyphs.first() else { return };
            let font =
                fonts.entry(*face).or_insert_with(|| Font::new(Data::from(Arc::new(face.bytes().to_vec())), 0)).clone();
            let Some(font) = font else { return };
            let em = size.max(f32::MIN_POSITIVE);
            // Our positions are absolute; krilla places glyphs by advances, so each glyph's advance is
            // the distance to the next one (the last keeps its own), and a vertical shift is an offset.
            let placed: Vec<KrillaGlyph> = glyphs
                .iter()
                .enumerate()
                .map(|(index, glyph)| {
                    let advance = glyphs.get(index + 1).map(|next| next.x - glyph.x).unwrap_or(glyph.advance);
                    KrillaGlyph::new(
                        GlyphId::new(glyph.id),
                        advance / em,
                        0.0,
                        (glyph.y - first.y) / em,
                        0.0,
                        glyph.text_range.clone(),
                        None,
                    )
                })
                .collect();
            surface.set_fill(Some(Fill {
                paint: rgb::Color::new(color.r, color.g, color.b).into(),
                opacity: normalized(f32::from(color.a) / 255.0),
                rule: FillRule::NonZero,
            }));
            surface.set_stroke(None);
            surface.draw_glyphs(Point::from_xy(first.x, first.y), &placed, font, text, *size, false);
        }
        Item::Modules { origin, module, width, modules, color } => {
            let mut builder = PathBuilder::new();
            let mut any = false;
            for rect in display::module_rects(*origin, *module, *width, modules) {
                if let Some(rect) = Rect::from_xywh(rect.x, rect.y, rect.w, rect.h) {
                    builder.push_rect(rect);
                    any = true;
                }
            }
            if any && let Some(path) = builder.finish() {
                surface.set_fill(Some(Fill {
                    paint: rgb::Color::new(color.r, color.g, color.b).into(),
                    opacity: NormalizedF32::ONE,
                    rule: FillRule::NonZero,
                }));
                surface.set_stroke(None);
                surface.draw_path(&path);
            }
        }
    }
}

/// The image for krilla: a JPEG as it came, otherwise the pixels with an alpha mask only when some
/// pixel is not opaque.
fn pdf_image(pixels: &Pixels) -> Option<Image> {
    if let Some(jpeg) = &pixels.jpeg
        && let Ok(image) = Image::from_jpeg(Data::from(jpeg.clone()), true)
    {
        return Some(image);
    }
    let color: Vec<u8> = pixels.rgba.chunks_exact(4).flat_map(|pixel| [pixel[0], pixel[1], pixel[2]]).collect();
    let alpha = (!pixels.opaque).then(|| pixels.rgba.chunks_exact(4).map(|pixel| pixel[3]).collect());
    let image =
        RgbPixels { color: Arc::new(color), alpha: alpha.map(Arc::new), width: pixels.width, height: pixels.height };
    Image::from_custom(image, true).ok()
}

/// Decoded pixels as krilla's custom image: RGB bytes and an optional alpha channel.
#[derive(Clone, Hash)]
struct RgbPixels {
    color: Arc<Vec<u8>>,
    alpha: Option<Arc<Vec<u8>>>,
    width: u32,
    height: u32,
}

impl CustomImage for RgbPixels {
    fn color_channel(&self) -> &[u8] {
        &self.color
    }
    fn alpha_channel(&self) -> Option<&[u8]> {
        self.alpha.as_deref().map(Vec::as_slice)
    }
    fn bits_per_component(&self) -> BitsPerComponent {
        BitsPerComponent::Eight
    }
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
    fn icc_profile(&self) -> Option<&[u8]> {
        None
    }
    fn color_space(&self) -> ImageColorspace {
        ImageColorspace::Rgb
    }
}

/// Thin black lines at each trim corner, outside the bleed, as print shops expect.
fn draw_crop_marks(surface: &mut Surface<'_>, trim: Rect, enabled: bool, mm: f32) {
    if !enabled {
        return;
    }
    let gap = MARK_GAP_MM * mm;
    let length = MARK_LENGTH_MM * mm;
    let mut builder = PathBuilder::new();
    for (x, y, dx, dy) in [
        (trim.left(), trim.top(), -1.0, -1.0),
        (trim.right(), trim.top(), 1.0, -1.0),
        (trim.left(), trim.bottom(), -1.0, 1.0),
        (trim.right(), trim.bottom(), 1.0, 1.0),
    ] {
        // A horizontal mark on the trim's horizontal edge line, a vertical one on the vertical.
        builder.move_to(x + dx * gap, y);
        builder.line_to(x + dx * (gap + length), y);
        builder.move_to(x, y + dy * gap);
        builder.line_to(x, y + dy * (gap + length));
    }
    let Some(path) = builder.finish() else { return };
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke { paint: rgb::Color::new(0, 0, 0).into(), width: 0.25, ..Stroke::default() }));
    surface.draw_path(&path);
    surface.set_stroke(None);
}

fn normalized(value: f32) -> NormalizedF32 {
    NormalizedF32::new(value.clamp(0.0, 1.0)).unwrap_or(NormalizedF32::ONE)
}

fn pdf_paint(paint: &Paint) -> PdfPaint {
    match paint {
        Paint::Solid(color) => rgb::Color::new(color.r, color.g, color.b).into(),
        Paint::Linear { start, end, stops } => LinearGradient {
            x1: start.0,
            y1: start.1,
            x2: end.0,
            y2: end.1,
            transform: Transform::identity(),
            spread_method: SpreadMethod::Pad,
            stops: stops
                .iter()
                .map(|(offset, color)| Stop {
                    offset: normalized(*offset),
                    color: rgb::Color::new(color.r, color.g, color.b).into(),
                    opacity: normalized(f32::from(color.a) / 255.0),
                })
                .collect(),
            anti_alias: true,
        }
        .into(),
    }
}

fn path_of(segments: &[Segment]) -> Option<Path> {
    let mut builder = PathBuilder::new();
    for segment in segments {
        match *segment {
            Segment::Move(x, y) => builder.move_to(x, y),
            Segment::Line(x, y) => builder.line_to(x, y),
            Segment::Cubic(x1, y1, x2, y2, x, y) => builder.cubic_to(x1, y1, x2, y2, x, y),
            Segment::Close => builder.close(),
        }
    }
    builder.finish()
}
