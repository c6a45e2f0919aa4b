//! Display list → PNG with tiny-skia (deterministic, the same pixels on every platform).

use std::collections::HashMap;

use skrifa::instance::{LocationRef, Size};
use skrifa::outline::{DrawSettings, OutlinePen};
use skrifa::{FontRef, GlyphId, MetadataProvider};
use tiny_skia::{
    Color, FillRule, FilterQuality, GradientStop, LinearGradient, Paint as SkiaPaint, Path, PathBuilder, Pattern,
    Pixmap, Point, Shader, SpreadMode, Transform,
};

use crate::PosterError;
use crate::display::{self, DisplayList, Item, Paint, Pixels, Segment, ShapeKind};
use crate::fonts::Face;
use crate::size::BoxPx;

/// Renders `display` to PNG bytes, `scale` canvas pixels to one output pixel (1.0 for the full
/// resolution; 0.25 for a thumbnail).
pub fn render_png(display: &DisplayList, scale: f32) -> Result<Vec<u8>, PosterError> {
    let pixmap = render_pixmap(display, scale)?;
    encode_png(&pixmap)
}

/// Up to this many pixels a PNG gets the default (smaller, slower) deflate level.
const SMALL_PNG_PIXELS: u64 = 1_000_000;

/// PNG bytes of `pixmap`: RGB when every pixel is opaque (a poster's background covers the canvas),
/// else RGBA (a quarter less to compress, and no demultiplying copy). Above a megapixel, fast
/// deflate: at A3 it encodes in about a quarter of the default level's time; files of flat colour
/// stay small, a noisy photo grows (bench/README.md, "Posters"). No time stamps or other chunks that change between runs.
pub fn encode_png(pixmap: &Pixmap) -> Result<Vec<u8>, PosterError> {
    let opaque = pixmap.pixels().iter().all(|pixel| pixel.alpha() == 255);
    let data: Vec<u8> = if opaque {
        pixmap.data().chunks_exact(4).flat_map(|pixel| [pixel[0], pixel[1], pixel[2]]).collect()
    } else {
        pixmap
            .pixels()
            .iter()
            .flat_map(|pixel| {
                let color = pixel.demultiply();
                [color.red(), color.green(), color.blue(), color.alpha()]
            })
            .collect()
    };
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, pixmap.width(), pixmap.height());
    encoder.set_color(if opaque { png::ColorType::Rgb } else { png::ColorType::Rgba });
    encoder.set_depth(png::BitDepth::Eight);
    // Thumbnails and previews compress well and quickly; a full-size poster is encoded fast.
    let pixels = u64::from(pixmap.width()) * u64::from(pixmap.height());
    encoder.set_compression(if pixels <= SMALL_PNG_PIXELS {
        png::Compression::Balanced
    } else {
        png::Compression::Fast
    });
    let mut writer = encoder.write_header().map_err(|error| PosterError::PngEncode(error.to_string()))?;
    writer.write_image_data(&data).map_err(|error| PosterError::PngEncode(error.to_string()))?;
    writer.finish().map_err(|error| PosterError::PngEncode(error.to_string()))?;
    Ok(bytes)
}

/// Renders `display` to pixels (premultiplied RGBA) without encoding.
pub fn render_pixmap(display: &DisplayList, scale: f32) -> Result<Pixmap, PosterError> {
    let width = ((display.geometry.canvas_w as f32 * scale).round() as u32).max(1);
    let height = ((display.geometry.canvas_h as f32 * scale).round() as u32).max(1);
    let mut pixmap = Pixmap::new(width, height).ok_or(PosterError::Canvas { width, height })?;
    let base = Transform::from_scale(scale, scale);
    let mut glyphs = GlyphCache::default();
    for item in &display.items {
        match item {
            Item::Shape { bounds, kind, paint, opacity } => {
                if let Some(path) = path_of(&display::outline(bounds, *kind)) {
                    let paint = skia_paint(paint, *opacity);
                    pixmap.fill_path(&path, &paint, FillRule::Winding, base, None);
                }
            }
            Item::Image { pixels, placed, clip, radius, opacity } => {
                draw_image(&mut pixmap, base, pixels, placed, clip, *radius, *opacity, scale);
            }
            Item::Text { face, size, color, glyphs: placed, .. } => {
                let mut paint = SkiaPaint::default();
                paint.set_color_rgba8(color.r, color.g, color.b, color.a);
                paint.anti_alias = true;
                let (outlines, units_per_em) = glyphs.face(*face);
                let em = size / units_per_em;
                for glyph in placed {
                    let Some(path) = outlines.outline(glyph.id) else { continue };
                    // Font units are y-up; the canvas is y-down.
                    let transform = base.pre_translate(glyph.x, glyph.y).pre_scale(em, -em);
                    pixmap.fill_path(path, &paint, FillRule::Winding, transform, None);
                }
            }
            Item::Modules { origin, module, width, modules, color } => {
                let mut builder = PathBuilder::new();
                for rect in display::module_rects(*origin, *module, *width, modules) {
                    if let Some(rect) = tiny_skia::Rect::from_xywh(rect.x, rect.y, rect.w, rect.h) {
                        builder.push_rect(rect);
                    }
                }
                if let Some(path) = builder.finish() {
                    let mut paint = SkiaPaint::default();
                    paint.set_color_rgba8(color.r, color.g, color.b, color.a);
                    // Modules sit on whole pixels at full size; no smoothing keeps their edges sharp.
                    paint.anti_alias = scale != 1.0;
                    pixmap.fill_path(&path, &paint, FillRule::Winding, base, None);
                }
            }
        }
    }
    Ok(pixmap)
}

#[allow(clippy::too_many_arguments)]
fn draw_image(
    pixmap: &mut Pixmap,
    base: Transform,
    pixels: &Pixels,
    placed: &BoxPx,
    clip: &BoxPx,
    radius: f32,
    opacity: f32,
    scale: f32,
) {
    let Some(source) = premultiplied(pixels) else { return };
    let Some(clip_path) = path_of(&display::outline(clip, ShapeKind::Rect { radius })) else { return };
    let image_to_canvas = Transform::from_row(
        placed.w / pixels.width.max(1) as f32,
        0.0,
        0.0,
        placed.h / pixels.height.max(1) as f32,
        placed.x,
        placed.y,
    );
    // Shrinking a large picture a lot: bicubic keeps it from shimmering; enlarging: bilinear is enough.
    let quality = if placed.w * scale < pixels.width as f32 { FilterQuality::Bicubic } else { FilterQuality::Bilinear };
    let paint = SkiaPaint {
        shader: Pattern::new(source.as_ref(), SpreadMode::Pad, quality, opacity.clamp(0.0, 1.0), image_to_canvas),
        anti_alias: true,
        ..SkiaPaint::default()
    };
    pixmap.fill_path(&clip_path, &paint, FillRule::Winding, base, None);
}

fn premultiplied(pixels: &Pixels) -> Option<Pixmap> {
    let mut data = Vec::with_capacity(pixels.rgba.len());
    for pixel in pixels.rgba.chunks_exact(4) {
        let alpha = u16::from(pixel[3]);
        let multiply = |channel: u8| ((u16::from(channel) * alpha + 127) / 255) as u8;
        data.extend_from_slice(&[multiply(pixel[0]), multiply(pixel[1]), multiply(pixel[2]), pixel[3]]);
    }
    Pixmap::from_vec(data, tiny_skia::IntSize::from_wh(pixels.width, pixels.height)?)
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

fn skia_color(color: crate::Rgba, opacity: f32) -> Color {
    Color::from_rgba8(color.r, color.g, color.b, (f32::from(color.a) * opacity.clamp(0.0, 1.0)).round() as u8)
}

fn skia_paint(paint: &Paint, opacity: f32) -> SkiaPaint<'static> {
    let shader = match paint {
        Paint::Solid(color) => Shader::SolidColor(skia_color(*color, opacity)),
        Paint::Linear { start, end, stops } => {
            let stops =
                stops.iter().map(|(offset, color)| GradientStop::new(*offset, skia_color(*color, opacity))).collect();
            LinearGradient::new(
                Point::from_xy(start.0, start.1),
                Point::from_xy(end.0, end.1),
                stops,
                SpreadMode::Pad,
                Transform::identity(),
            )
            .unwrap_or(Shader::SolidColor(Color::TRANSPARENT))
        }
    };
    SkiaPaint { shader, anti_alias: true, ..SkiaPaint::default() }
}

/// Glyph outlines in font units, made once per face and glyph.
#[derive(Default)]
struct GlyphCache {
    faces: HashMap<Face, (FaceOutlines, f32)>,
}

impl GlyphCache {
    fn face(&mut self, face: Face) -> (&mut FaceOutlines, f32) {
        let (outlines, units_per_em) = self.faces.entry(face).or_insert_with(|| {
            let font = FontRef::from_index(face.bytes(), 0).ok();
            let units_per_em = font
                .as_ref()
                .map(|font| font.metrics(Size::unscaled(), LocationRef::default()).units_per_em)
                .unwrap_or(1000);
            (FaceOutlines { font, paths: HashMap::new() }, f32::from(units_per_em.max(1)))
        });
        (outlines, *units_per_em)
    }
}

struct FaceOutlines {
    font: Option<FontRef<'static>>,
    paths: HashMap<u32, Option<Path>>,
}

impl FaceOutlines {
    fn outline(&mut self, id: u32) -> Option<&Path> {
        let font = self.font.as_ref()?;
        self.paths
            .entry(id)
            .or_insert_with(|| {
                let glyph = font.outline_glyphs().get(GlyphId::new(id))?;
                let mut pen = SkiaPen(PathBuilder::new());
                glyph.draw(DrawSettings::unhinted(Size::unscaled(), LocationRef::default()), &mut pen).ok()?;
                pen.0.finish()
            })
            .as_ref()
    }
}

struct SkiaPen(PathBuilder);

impl OutlinePen for SkiaPen {
    fn move_to(&mut self, x: f32, y: f32) {
        self.0.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.0.line_to(x, y);
    }
    fn quad_to(&mut self, cx0: f32, cy0: f32, x: f32, y: f32) {
        self.0.quad_to(cx0, cy0, x, y);
    }
    fn curve_to(&mut self, cx0: f32, cy0: f32, cx1: f32, cy1: f32, x: f32, y: f32) {
        self.0.cubic_to(cx0, cy0, cx1, cy1, x, y);
    }
    fn close(&mut self) {
        self.0.close();
    }
}
