//! A tessellated scene as a PNG (thumbnails and exports), rasterised by tiny-skia: segments as
//! anti-aliased hairlines, triangles filled, points as small squares, one colour per batch, the
//! same framing as [`crate::svg`] (2 % margin, Y flipped) and ACI 7 swapped with the background.
//! Texts are filled from their glyphs' outlines (curves, not the viewer's triangles); glyphs under
//! [`GREEK_BELOW_PX`] pixels are filled as faint boxes, which is what they would look like. Pure:
//! returns bytes.

use tiny_skia::{Color, FillRule, Mask, Paint, PathBuilder, Pixmap, Rect, Stroke, Transform};

use crate::diagnostics::Diagnostic;
use crate::model::{Drawing, LayerId, Layout};
use crate::sheet::{Sheet, prepare};
use crate::svg::Background;
use crate::tessellate::{GlyphSet, Ink, Scene, TessellateError, TessellateOptions};
use crate::text::fonts::PathOp;
use crate::text::glyph_outline;

/// Glyphs whose body is shorter than this many pixels are drawn as boxes of their ink's
/// average coverage instead of outlines.
pub const GREEK_BELOW_PX: f32 = 2.5;

/// The largest width or height of a raster, in pixels (a 16384 × 16384 image is 1 GiB of RGBA).
pub const MAX_RASTER_SIDE: u32 = 8192;

/// Primitives drawn as one path: large enough that the corpus's batches are one path each (a
/// triangle fill split in two could show a seam), small enough to bound a path's memory (~17 MB).
const PATH_CHUNK: usize = 1 << 20;

#[derive(Clone, Copy, Debug)]
pub struct RasterOptions {
    /// Width of the image in pixels (1 to [`MAX_RASTER_SIDE`]); the height follows the drawing's
    /// aspect ratio, within the same limit.
    pub width: u32,
    pub background: Background,
    /// The most pixels the image may have: a larger one is narrowed to fit (a pixmap is 4 bytes a
    /// pixel, and encoding copies it once more: 8192 × 8192 pixels are 512 MB).
    pub max_pixels: u64,
}

impl Default for RasterOptions {
    fn default() -> Self {
        RasterOptions { width: 1200, background: Background::Light, max_pixels: MAX_RASTER_PIXELS }
    }
}

/// The default of [`RasterOptions::max_pixels`]: every image within [`MAX_RASTER_SIDE`].
pub const MAX_RASTER_PIXELS: u64 = MAX_RASTER_SIDE as u64 * MAX_RASTER_SIDE as u64;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RasterError {
    #[error("an image of {width} × {height} pixels cannot be allocated")]
    Size { width: u32, height: u32 },
    #[error("the image could not be encoded as PNG: {0}")]
    Encode(String),
}

fn background_color(background: Background) -> Color {
    match background {
        Background::Light => Color::from_rgba8(0xFF, 0xFF, 0xFF, 0xFF),
        Background::Dark => Color::from_rgba8(0x1E, 0x1E, 0x1E, 0xFF),
    }
}

fn ink_color(ink: Ink, background: Background) -> Color {
    match (ink, background) {
        // ACI 7 is the opposite of the background.
        (Ink::Foreground, Background::Light) => Color::from_rgba8(0, 0, 0, 0xFF),
        (Ink::Foreground, Background::Dark) => Color::from_rgba8(0xFF, 0xFF, 0xFF, 0xFF),
        (Ink::Rgb(rgb), _) => Color::from_rgba8((rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8, 0xFF),
    }
}

fn paint(color: Color) -> Paint<'static> {
    let mut paint = Paint::default();
    paint.set_color(color);
    paint.anti_alias = true;
    paint
}

/// Maps scene coordinates (relative to [`Scene::origin`]) to pixels: `[a, b, c, d, e, f]`,
/// `px = a·x + c·y + e`, `py = b·x + d·y + f`.
#[derive(Clone, Copy)]
struct Frame([f64; 6]);

impl Frame {
    /// The whole layout in the image: y flipped, `scale` pixels per unit from `(min_x, max_y)`.
    fn fitted(min_x: f64, max_y: f64, scale: f64) -> Frame {
        Frame([scale, 0.0, 0.0, -scale, -min_x * scale, max_y * scale])
    }

    fn pixel(&self, x: f32, y: f32) -> Option<(f32, f32)> {
        let [a, b, c, d, e, f] = self.0;
        let (x, y) = (f64::from(x), f64::from(y));
        let px = (a * x + c * y + e) as f32;
        let py = (b * x + d * y + f) as f32;
        (px.is_finite() && py.is_finite()).then_some((px, py))
    }

    /// `inner` (another scene's coordinates → this frame's scene coordinates), then this frame.
    fn after(&self, inner: &[f64; 6]) -> Frame {
        let [a, b, c, d, e, f] = self.0;
        let [p, q, r, s, t, u] = *inner;
        Frame([a * p + c * q, b * p + d * q, a * r + c * s, b * r + d * s, a * t + c * u + e, b * t + d * u + f])
    }
}

/// The size of the image and the frame that maps the scene (its geometry and its glyphs, which
/// the scene's bounds include) onto it: `width` pixels across, unless the drawing is so tall that
/// its height would pass [`MAX_RASTER_SIDE`], or the image would have more than `max_pixels`:
/// then it is narrowed to fit.
fn frame(scene: &Scene, width: u32, max_pixels: u64) -> (u32, u32, Frame) {
    let fit = |width| crate::sheet::fit(scene.bounds, scene.origin, width, MAX_RASTER_SIDE, MAX_RASTER_SIDE);
    let (mut rect, (mut w, mut h), mut scale) = fit(width);
    let pixels = u64::from(w) * u64::from(h);
    if pixels > max_pixels.max(1) {
        // Both sides shrink with the width: by the square root of the excess, then rounded down.
        let mut narrower = (f64::from(w) * (max_pixels.max(1) as f64 / pixels as f64).sqrt()).floor().max(1.0) as u32;
        (rect, (w, h), scale) = fit(narrower);
        // The height is rounded: a pixel narrower at a time until it fits (a step or two).
        while u64::from(w) * u64::from(h) > max_pixels.max(1) && narrower > 1 {
            narrower -= 1;
            (rect, (w, h), scale) = fit(narrower);
        }
    }
    (w, h, Frame::fitted(rect[0], rect[1] + rect[3], scale))
}

/// Rasterises `scene` into a pixmap.
pub fn scene_to_pixmap(scene: &Scene, options: &RasterOptions) -> Result<Pixmap, RasterError> {
    let (width, height, frame) = frame(scene, options.width, options.max_pixels);
    let mut pixmap = Pixmap::new(width, height).ok_or(RasterError::Size { width, height })?;
    pixmap.fill(background_color(options.background));
    draw_scene(&mut pixmap, scene, &frame, &|layer| scene.shows(layer), None, options.background);
    Ok(pixmap)
}

/// Rasterises a [`Sheet`]: the layout's scene, then model space through each viewport, clipped
/// to the viewport's rectangle.
pub fn sheet_to_pixmap(sheet: &Sheet, options: &RasterOptions) -> Result<Pixmap, RasterError> {
    let scene = &sheet.scene;
    let (width, height, frame) = frame(scene, options.width, options.max_pixels);
    let mut pixmap = Pixmap::new(width, height).ok_or(RasterError::Size { width, height })?;
    pixmap.fill(background_color(options.background));
    draw_scene(&mut pixmap, scene, &frame, &|layer| scene.shows(layer), None, options.background);
    let Some(model) = &sheet.model else { return Ok(pixmap) };
    for view in &sheet.views {
        let [x0, y0, x1, y1] = view.clip;
        let rectangle = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
        let outline = view.outline.as_deref().unwrap_or(&rectangle);
        let mut path = PathBuilder::new();
        for (i, corner) in outline.iter().enumerate() {
            let Some((x, y)) = frame.pixel(corner[0] as f32, corner[1] as f32) else { continue };
            if i == 0 { path.move_to(x, y) } else { path.line_to(x, y) }
        }
        path.close();
        let (Some(path), Some(mut mask)) = (path.finish(), Mask::new(width, height)) else { continue };
        mask.fill_path(&path, FillRule::Winding, true, Transform::identity());
        let through = frame.after(&view.affine);
        draw_scene(&mut pixmap, model, &through, &|layer| view.shows(model, layer), Some(&mask), options.background);
    }
    Ok(pixmap)
}

/// Draws the batches and glyphs of `scene` on the layers `shows` lets through, mapped by `frame`
/// and clipped by `mask`.
fn draw_scene(
    pixmap: &mut Pixmap,
    scene: &Scene,
    frame: &Frame,
    shows: &dyn Fn(LayerId) -> bool,
    mask: Option<&Mask>,
    background: Background,
) {
    // Width 0 is a hairline: one anti-aliased pixel whatever the scale.
    let hairline = Stroke { width: 0.0, ..Stroke::default() };
    let identity = Transform::identity();

    // Layers that are off or frozen draw nothing (the batches of a frozen insert's content are on
    // its layer).
    for batch in scene.batches.iter().filter(|b| shows(b.layer)) {
        let paint = paint(ink_color(batch.ink, background));
        // A path per chunk of primitives, not per batch: a path costs about 17 bytes a segment, and
        // a batch can hold millions (a path per batch took 340 MB for 20 M segments).
        for triangles in batch.triangles.chunks(6 * PATH_CHUNK) {
            let mut path = PathBuilder::new();
            for t in triangles.chunks_exact(6) {
                let (Some(a), Some(b), Some(c)) =
                    (frame.pixel(t[0], t[1]), frame.pixel(t[2], t[3]), frame.pixel(t[4], t[5]))
                else {
                    continue;
                };
                // One orientation for every triangle, so that overlapping triangles never cancel
                // out under the non-zero rule.
                let cross = (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0);
                let (b, c) = if cross < 0.0 { (c, b) } else { (b, c) };
                path.move_to(a.0, a.1);
                path.line_to(b.0, b.1);
                path.line_to(c.0, c.1);
                path.close();
            }
            if let Some(path) = path.finish() {
                pixmap.fill_path(&path, &paint, FillRule::Winding, identity, mask);
                // Hairline edges close the seams between neighbouring triangles.
                pixmap.stroke_path(&path, &paint, &hairline, identity, mask);
            }
        }
        for lines in batch.lines.chunks(4 * PATH_CHUNK) {
            let mut path = PathBuilder::new();
            for s in lines.chunks_exact(4) {
                if let (Some(a), Some(b)) = (frame.pixel(s[0], s[1]), frame.pixel(s[2], s[3])) {
                    path.move_to(a.0, a.1);
                    path.line_to(b.0, b.1);
                }
            }
            if let Some(path) = path.finish() {
                pixmap.stroke_path(&path, &paint, &hairline, identity, mask);
            }
        }
        for p in batch.points.chunks_exact(2) {
            if let Some((x, y)) = frame.pixel(p[0], p[1])
                && let Some(rect) = Rect::from_xywh(x - 1.0, y - 1.0, 2.0, 2.0)
            {
                match mask {
                    None => pixmap.fill_rect(rect, &paint, identity, None),
                    Some(mask) => {
                        pixmap.fill_path(&PathBuilder::from_rect(rect), &paint, FillRule::Winding, identity, Some(mask))
                    }
                }
            }
        }
    }
    draw_glyphs(pixmap, scene, frame, shows, mask, background);
}

/// A glyph mesh as the renderer needs it: its outline (em units) and the box its triangles cover.
struct GlyphShape {
    outline: Vec<PathOp>,
    bounds: [f32; 4],
}

fn glyph_shape(set: &GlyphSet, mesh: usize) -> Option<GlyphShape> {
    let m = set.meshes.get(mesh)?;
    let bounds = set.mesh_bounds(m)?;
    let mut outline = Vec::new();
    glyph_outline(m.source, &mut outline).then_some(GlyphShape { outline, bounds })
}

/// The path builder of an ink, in first-use order (scenes have a handful of inks).
fn builder_for(paths: &mut Vec<(Ink, PathBuilder)>, ink: Ink) -> &mut PathBuilder {
    let index = match paths.iter().position(|(i, _)| *i == ink) {
        Some(index) => index,
        None => {
            paths.push((ink, PathBuilder::new()));
            paths.len() - 1
        }
    };
    &mut paths[index].1
}

/// Fills every glyph instance of a text on a shown layer: its outline through its transform, or a
/// faint box when tiny.
fn draw_glyphs(
    pixmap: &mut Pixmap,
    scene: &Scene,
    frame: &Frame,
    shows: &dyn Fn(LayerId) -> bool,
    mask: Option<&Mask>,
    background: Background,
) {
    let set = &scene.glyphs;
    let shown: Vec<bool> = scene.texts.iter().map(|t| shows(t.layer)).collect();
    let mut shapes: Vec<Option<Option<GlyphShape>>> = Vec::new();
    shapes.resize_with(set.meshes.len(), || None);
    let mut outlines: Vec<(Ink, PathBuilder)> = Vec::new();
    let mut boxes: Vec<(Ink, PathBuilder)> = Vec::new();
    let [fa, fb, fc, fd, _, _] = frame.0.map(|v| v as f32);
    for instance in &set.instances {
        if !shown.get(instance.text as usize).copied().unwrap_or(false) {
            continue;
        }
        let Some(slot) = shapes.get_mut(instance.mesh as usize) else { continue };
        let Some(shape) = slot.get_or_insert_with(|| glyph_shape(set, instance.mesh as usize)) else { continue };
        let [a, b, c, d, tx, ty] = instance.transform;
        let Some((ox, oy)) = frame.pixel(tx, ty) else { continue };
        // Em units to pixels (y down).
        let (a, b, c, d) = (fa * a + fc * b, fb * a + fd * b, fa * c + fc * d, fb * c + fd * d);
        let to_pixel = |x: f32, y: f32| (a * x + c * y + ox, b * x + d * y + oy);
        let [x0, y0, x1, y1] = shape.bounds;
        let tall = (c * (y1 - y0)).hypot(d * (y1 - y0));
        if !(tall.is_finite() && a.is_finite() && b.is_finite()) {
            continue;
        }
        if tall < GREEK_BELOW_PX {
            let path = builder_for(&mut boxes, instance.ink);
            let corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)].map(|(x, y)| to_pixel(x, y));
            path.move_to(corners[0].0, corners[0].1);
            for p in &corners[1..] {
                path.line_to(p.0, p.1);
            }
            path.close();
            continue;
        }
        let path = builder_for(&mut outlines, instance.ink);
        for op in &shape.outline {
            match *op {
                PathOp::Move(x, y) => {
                    let p = to_pixel(x, y);
                    path.move_to(p.0, p.1);
                }
                PathOp::Line(x, y) => {
                    let p = to_pixel(x, y);
                    path.line_to(p.0, p.1);
                }
                PathOp::Quad(cx, cy, x, y) => {
                    let (q, p) = (to_pixel(cx, cy), to_pixel(x, y));
                    path.quad_to(q.0, q.1, p.0, p.1);
                }
                PathOp::Cubic(c1x, c1y, c2x, c2y, x, y) => {
                    let (q, r, p) = (to_pixel(c1x, c1y), to_pixel(c2x, c2y), to_pixel(x, y));
                    path.cubic_to(q.0, q.1, r.0, r.1, p.0, p.1);
                }
                PathOp::Close => path.close(),
            }
        }
    }
    let identity = Transform::identity();
    for (ink, path) in outlines {
        if let Some(path) = path.finish() {
            pixmap.fill_path(&path, &paint(ink_color(ink, background)), FillRule::Winding, identity, mask);
        }
    }
    for (ink, path) in boxes {
        if let Some(path) = path.finish() {
            // About the share of a glyph's box its strokes cover.
            let mut color = ink_color(ink, background);
            color.set_alpha(0.35);
            pixmap.fill_path(&path, &paint(color), FillRule::Winding, identity, mask);
        }
    }
}

/// Renders a layout of `drawing` as a PNG file's bytes, as an export should: curves within a
/// quarter of a pixel at this size, and a paper layout with model space through its viewports
/// (see [`crate::sheet`]). Returns the scene drawn (for its `truncated` flag) and the diagnostics.
pub fn render_png(
    drawing: &Drawing,
    layout: &Layout,
    tessellate: &TessellateOptions<'_>,
    options: &RasterOptions,
) -> Result<(Vec<u8>, Sheet, Vec<Diagnostic>), RenderError> {
    let (sheet, diagnostics) = prepare(drawing, layout, tessellate, options.width, (MAX_RASTER_SIDE, MAX_RASTER_SIDE))?;
    let png = sheet_to_pixmap(&sheet, options)?.encode_png().map_err(|e| RasterError::Encode(e.to_string()))?;
    Ok((png, sheet, diagnostics))
}

/// Why [`render_png`] drew nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Tessellate(#[from] TessellateError),
    #[error(transparent)]
    Raster(#[from] RasterError),
}

/// Renders `scene` as a PNG file's bytes.
pub fn scene_to_png(scene: &Scene, options: &RasterOptions) -> Result<Vec<u8>, RasterError> {
    scene_to_pixmap(scene, options)?.encode_png().map_err(|e| RasterError::Encode(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{ReadOptions, TessellateOptions, read, tessellate};

    fn scene(dxf: &str) -> Scene {
        let (drawing, _) = read(dxf.as_bytes(), &ReadOptions::default()).unwrap();
        tessellate(&drawing, &drawing.layouts[0], &TessellateOptions::default()).unwrap().0
    }

    #[test]
    fn a_red_line_and_a_foreground_fill_on_both_backgrounds() {
        let dxf = "0\nSECTION\n2\nENTITIES\n0\nLINE\n62\n1\n10\n0\n20\n0\n11\n10\n21\n0\n0\nSOLID\n10\n0\n20\n5\n11\n10\n21\n5\n12\n0\n22\n10\n13\n10\n23\n10\n0\nENDSEC\n0\nEOF\n";
        let scene = scene(dxf);
        for (background, fill) in [(Background::Light, [0u8, 0, 0]), (Background::Dark, [0xFF, 0xFF, 0xFF])] {
            let pixmap =
                scene_to_pixmap(&scene, &RasterOptions { width: 200, background, ..Default::default() }).unwrap();
            assert_eq!((pixmap.width(), pixmap.height()), (200, 200), "square drawing, square image");
            // The solid covers the upper half: its centre is in the foreground colour.
            let p = pixmap.pixel(100, 50).unwrap();
            assert_eq!([p.red(), p.green(), p.blue()], fill, "{background:?}");
            // The red line runs along the bottom edge, inside the margin.
            let red =
                (0..200).filter_map(|y| pixmap.pixel(100, y)).any(|p| u16::from(p.red()) > u16::from(p.green()) + 60);
            assert!(red, "the red line is drawn");
        }
        let png = scene_to_png(&scene, &RasterOptions::default()).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    }

    /// Layers `Shown` (green), `Off` (red, colour -1) and `Frozen` (blue, 70 = 1), a line on each,
    /// a block of a blue-layer circle inserted on the frozen layer, and a true-colour white solid.
    const LAYERED: &str = "0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nLAYER\n\
0\nLAYER\n2\nShown\n70\n0\n62\n3\n0\nLAYER\n2\nOff\n70\n0\n62\n-1\n0\nLAYER\n2\nFrozen\n70\n1\n62\n5\n\
0\nLAYER\n2\nBlue\n70\n0\n62\n5\n0\nENDTAB\n0\nENDSEC\n\
0\nSECTION\n2\nBLOCKS\n0\nBLOCK\n2\nB\n0\nCIRCLE\n8\nBlue\n10\n5\n20\n5\n40\n4\n0\nENDBLK\n0\nENDSEC\n\
0\nSECTION\n2\nENTITIES\n0\nLINE\n8\nShown\n10\n0\n20\n0\n11\n10\n21\n0\n\
0\nLINE\n8\nOff\n10\n0\n20\n3\n11\n10\n21\n3\n0\nLINE\n8\nFrozen\n10\n0\n20\n6\n11\n10\n21\n6\n\
0\nINSERT\n8\nFrozen\n2\nB\n0\nSOLID\n8\nShown\n420\n16777215\n10\n0\n20\n8\n11\n10\n21\n8\n12\n0\n22\n10\n13\n10\n23\n10\n\
0\nENDSEC\n0\nEOF\n";

    #[test]
    fn hidden_layers_are_not_drawn_and_white_is_drawn_black_on_light() {
        let pixmap = scene_to_pixmap(
            &scene(LAYERED),
            &RasterOptions { width: 200, background: Background::Light, ..Default::default() },
        )
        .unwrap();
        let pixels: Vec<[u8; 3]> = pixmap.pixels().iter().map(|p| [p.red(), p.green(), p.blue()]).collect();
        let reddish = pixels.iter().filter(|p| p[0] > 128 && p[1] < 100 && p[2] < 100).count();
        let bluish = pixels.iter().filter(|p| p[2] > 128 && p[0] < 100 && p[1] < 100).count();
        let greenish = pixels.iter().filter(|p| p[1] > 100 && p[0] < 100 && p[2] < 100).count();
        assert_eq!(
            (reddish, bluish),
            (0, 0),
            "neither the off layer's line nor the frozen layer's nor the frozen insert's circle"
        );
        assert!(greenish > 50, "the shown layer's line is drawn ({greenish} pixels)");
        let black = pixels.iter().filter(|p| p.iter().all(|c| *c < 30)).count();
        assert!(black > 1000, "the true-colour white solid is drawn black on white ({black} pixels)");
        let dark = scene_to_pixmap(
            &scene(LAYERED),
            &RasterOptions { width: 200, background: Background::Dark, ..Default::default() },
        )
        .unwrap();
        let white = dark.pixels().iter().filter(|p| p.red() > 240 && p.green() > 240 && p.blue() > 240).count();
        assert!(white > 1000, "and white on the dark background ({white} pixels)");
    }

    #[test]
    fn an_image_over_its_pixel_budget_is_narrowed_to_fit() {
        let dxf = "0\nSECTION\n2\nENTITIES\n0\nLINE\n10\n0\n20\n0\n11\n100\n21\n100\n0\nENDSEC\n0\nEOF\n";
        let square = scene(dxf);
        let whole = scene_to_pixmap(&square, &RasterOptions { width: 400, ..Default::default() }).unwrap();
        assert_eq!((whole.width(), whole.height()), (400, 400));
        let capped = RasterOptions { width: 400, max_pixels: 10_000, ..Default::default() };
        let narrowed = scene_to_pixmap(&square, &capped).unwrap();
        assert!(u64::from(narrowed.width()) * u64::from(narrowed.height()) <= 10_000, "within the budget");
        assert!(narrowed.width() >= 99, "as wide as the budget allows: {}", narrowed.width());
    }

    #[test]
    fn an_empty_scene_is_a_blank_image() {
        let scene = scene("0\nSECTION\n2\nENTITIES\n0\nENDSEC\n0\nEOF\n");
        let pixmap =
            scene_to_pixmap(&scene, &RasterOptions { width: 0, background: Background::Dark, ..Default::default() })
                .unwrap();
        assert_eq!(pixmap.width(), 1, "width clamped to at least one pixel");
        let huge = scene_to_pixmap(
            &scene,
            &RasterOptions { width: u32::MAX, background: Background::Light, ..Default::default() },
        )
        .unwrap();
        assert!(huge.width() <= MAX_RASTER_SIDE && huge.height() <= MAX_RASTER_SIDE);
    }

    #[test]
    fn texts_are_filled_glyphs() {
        let inked = |dxf: &str| {
            let pixmap = scene_to_pixmap(
                &scene(dxf),
                &RasterOptions { width: 400, background: Background::Light, ..Default::default() },
            )
            .unwrap();
            pixmap.pixels().iter().filter(|p| p.red() < 200).count()
        };
        let line = "0\nLINE\n10\n0\n20\n0\n11\n100\n21\n100\n";
        let text = "0\nTEXT\n1\nHELLO WORLD\n10\n10\n20\n80\n40\n5\n";
        let without = inked(&format!("0\nSECTION\n2\nENTITIES\n{line}0\nENDSEC\n0\nEOF\n"));
        let with = inked(&format!("0\nSECTION\n2\nENTITIES\n{line}{text}0\nENDSEC\n0\nEOF\n"));
        assert!(with > without + 20, "the text's glyphs are drawn ({with} inked pixels against {without})");
    }

    #[test]
    fn a_drawing_of_one_text_is_framed_around_its_glyphs() {
        let dxf = "0\nSECTION\n2\nENTITIES\n0\nTEXT\n1\nHELLO\n10\n1000\n20\n1000\n40\n10\n0\nENDSEC\n0\nEOF\n";
        let pixmap = scene_to_pixmap(
            &scene(dxf),
            &RasterOptions { width: 400, background: Background::Dark, ..Default::default() },
        )
        .unwrap();
        let inked: Vec<(u32, u32)> = (0..pixmap.height())
            .flat_map(|y| (0..pixmap.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| pixmap.pixel(x, y).is_some_and(|p| p.red() > 128))
            .collect();
        let (x0, x1) = (inked.iter().map(|p| p.0).min().unwrap(), inked.iter().map(|p| p.0).max().unwrap());
        // The left edge is the insertion point, a side bearing left of the H.
        assert!(x0 <= 24 && x1 >= 388, "the glyphs fill the width, less the margins: {x0}..{x1}");
        let (y0, y1) = (inked.iter().map(|p| p.1).min().unwrap(), inked.iter().map(|p| p.1).max().unwrap());
        assert!(y0 <= 12 && y1 + 12 >= pixmap.height(), "and the height: {y0}..{y1} of {}", pixmap.height());
        // The H's stems are solid: filled outlines, not boxes.
        let row = (y0 + y1) / 2 + 5;
        let solid = (x0..x0 + 8).filter(|&x| pixmap.pixel(x, row).is_some_and(|p| p.red() > 200)).count();
        assert!(solid >= 3, "a filled stem at the left: {solid} pixels");
    }
}
