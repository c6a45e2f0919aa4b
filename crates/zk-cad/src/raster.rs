//! A tessellated scene as a PNG (thumbnails and exports), rasterised by tiny-skia: segments as
//! anti-aliased hairlines, triangles filled, points as small squares, one colour per batch, the
//! same framing as [`crate::svg`] (2 % margin, Y flipped) and ACI 7 swapped with the background.
//! Texts are drawn as "greeked" boxes (the outline of each line of text) until glyph outlines
//! exist. Pure: returns bytes.

use tiny_skia::{Color, FillRule, Paint, PathBuilder, Pixmap, Rect, Stroke, Transform};

use crate::svg::Background;
use crate::tessellate::{Ink, Scene};

/// The largest width or height of a raster, in pixels (a 16384 × 16384 image is 1 GiB of RGBA).
pub const MAX_RASTER_SIDE: u32 = 8192;

#[derive(Clone, Copy, Debug)]
pub struct RasterOptions {
    /// Width of the image in pixels (1 to [`MAX_RASTER_SIDE`]); the height follows the drawing's
    /// aspect ratio, within the same limit.
    pub width: u32,
    pub background: Background,
}

impl Default for RasterOptions {
    fn default() -> Self {
        RasterOptions { width: 1200, background: Background::Light }
    }
}

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

/// Maps scene coordinates (relative to [`Scene::origin`]) to pixels.
#[derive(Clone, Copy)]
struct Frame {
    min_x: f64,
    max_y: f64,
    scale: f64,
}

impl Frame {
    fn pixel(&self, x: f32, y: f32) -> Option<(f32, f32)> {
        let px = ((f64::from(x) - self.min_x) * self.scale) as f32;
        let py = ((self.max_y - f64::from(y)) * self.scale) as f32;
        (px.is_finite() && py.is_finite()).then_some((px, py))
    }
}

/// The size of the image and the frame that maps the scene (its geometry and its text boxes)
/// onto it.
fn frame(scene: &Scene, boxes: &[TextBox], width: u32) -> (u32, u32, Frame) {
    // Relative to the scene origin, as the buffers.
    let mut bounds = match scene.bounds {
        Some(b) if b.min.x.is_finite() && b.max.x.is_finite() && b.min.y.is_finite() && b.max.y.is_finite() => Some((
            b.min.x - scene.origin.x,
            b.min.y - scene.origin.y,
            b.max.x - scene.origin.x,
            b.max.y - scene.origin.y,
        )),
        _ => None,
    };
    for &(x, y) in boxes.iter().flat_map(|(_, corners)| corners) {
        if x.is_finite() && y.is_finite() {
            bounds = Some(match bounds {
                None => (x, y, x, y),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
            });
        }
    }
    let (min_x, min_y, w, h) = match bounds {
        Some((x0, y0, x1, y1)) => {
            let (w, h) = ((x1 - x0).max(1e-9), (y1 - y0).max(1e-9));
            // 2 % margin, as the SVG.
            let m = w.max(h) * 0.02;
            (x0 - m, y0 - m, w + 2.0 * m, h + 2.0 * m)
        }
        None => (-1.0, -1.0, 2.0, 2.0),
    };
    let width = width.clamp(1, MAX_RASTER_SIDE);
    let scale = f64::from(width) / w;
    let height = (h * scale).round().clamp(1.0, f64::from(MAX_RASTER_SIDE)) as u32;
    (width, height, Frame { min_x, max_y: min_y + h, scale })
}

/// Rasterises `scene` into a pixmap.
pub fn scene_to_pixmap(scene: &Scene, options: &RasterOptions) -> Result<Pixmap, RasterError> {
    let boxes = text_boxes(scene);
    let (width, height, frame) = frame(scene, &boxes, options.width);
    let mut pixmap = Pixmap::new(width, height).ok_or(RasterError::Size { width, height })?;
    pixmap.fill(background_color(options.background));
    // Width 0 is a hairline: one anti-aliased pixel whatever the scale.
    let hairline = Stroke { width: 0.0, ..Stroke::default() };
    let identity = Transform::identity();

    for batch in &scene.batches {
        let paint = paint(ink_color(batch.ink, options.background));
        if !batch.triangles.is_empty() {
            let mut path = PathBuilder::new();
            for t in batch.triangles.chunks_exact(6) {
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
                pixmap.fill_path(&path, &paint, FillRule::Winding, identity, None);
                // Hairline edges close the seams between neighbouring triangles.
                pixmap.stroke_path(&path, &paint, &hairline, identity, None);
            }
        }
        if !batch.lines.is_empty() {
            let mut path = PathBuilder::new();
            for s in batch.lines.chunks_exact(4) {
                if let (Some(a), Some(b)) = (frame.pixel(s[0], s[1]), frame.pixel(s[2], s[3])) {
                    path.move_to(a.0, a.1);
                    path.line_to(b.0, b.1);
                }
            }
            if let Some(path) = path.finish() {
                pixmap.stroke_path(&path, &paint, &hairline, identity, None);
            }
        }
        for p in batch.points.chunks_exact(2) {
            if let Some((x, y)) = frame.pixel(p[0], p[1])
                && let Some(rect) = Rect::from_xywh(x - 1.0, y - 1.0, 2.0, 2.0)
            {
                pixmap.fill_rect(rect, &paint, identity, None);
            }
        }
    }
    draw_greeked_texts(&mut pixmap, &boxes, &frame, options.background, &hairline);
    Ok(pixmap)
}

/// One line (or wrapped row) of a text as the corners of the box it would fill, in scene
/// coordinates.
type TextBox = (Ink, [(f64, f64); 4]);

/// Where each text would be: its lines (MTEXT wrapped at its width) as boxes, sized by the
/// height and an estimate of the characters' widths, turned by the rotation.
fn text_boxes(scene: &Scene) -> Vec<TextBox> {
    let mut boxes = Vec::new();
    for text in &scene.texts {
        let height = f64::from(text.height);
        if !(height.is_finite() && height > 0.0) {
            continue;
        }
        let factor = f64::from(text.width_factor);
        let factor = if factor.is_finite() && factor > 0.0 { factor } else { 1.0 };
        let (sin, cos) = f64::from(text.rotation).sin_cos();
        let (sin, cos) = if sin.is_finite() && cos.is_finite() { (sin, cos) } else { (0.0, 1.0) };
        let wrap = f64::from(text.wrap_width);
        let wrap = if wrap.is_finite() && wrap > height { wrap } else { f64::INFINITY };
        // Rows of (length) after wrapping.
        let mut rows: Vec<f64> = Vec::new();
        for line in text.text.split('\n') {
            // Wide (CJK) characters take a full em, others about 0.7 of the height.
            let ems: f64 = line.chars().map(|c| if u32::from(c) >= 0x2E80 { 1.0 } else { 0.7 }).sum();
            let mut length = ems * height * factor;
            while length > wrap && rows.len() < 10_000 {
                rows.push(wrap);
                length -= wrap;
            }
            rows.push(length);
        }
        let pitch = height * 1.6;
        let total = (rows.len() as f64 - 1.0) * pitch;
        // The top of the first row, relative to the anchor.
        let top = match text.valign {
            2 => height / 2.0 + total / 2.0,
            3 => 0.0,
            _ => total + height,
        };
        let block = if wrap.is_finite() { wrap } else { rows.iter().copied().fold(0.0, f64::max) };
        for (row, length) in rows.into_iter().enumerate() {
            if length <= 0.0 {
                continue;
            }
            let x0 = match text.halign {
                1 => -block / 2.0,
                2 => -block,
                _ => 0.0,
            };
            let y0 = top - height - row as f64 * pitch;
            let corners = [(x0, y0), (x0 + length, y0), (x0 + length, y0 + height * 0.8), (x0, y0 + height * 0.8)];
            let place = |(x, y): (f64, f64)| {
                (f64::from(text.position[0]) + x * cos - y * sin, f64::from(text.position[1]) + x * sin + y * cos)
            };
            boxes.push((text.ink, corners.map(place)));
        }
    }
    boxes
}

/// Each text as the outlines of its boxes ("greeking"): where it is, how big and which way it
/// runs, without glyphs.
fn draw_greeked_texts(pixmap: &mut Pixmap, boxes: &[TextBox], frame: &Frame, background: Background, stroke: &Stroke) {
    let mut paths: Vec<(Ink, PathBuilder)> = Vec::new();
    for (ink, corners) in boxes {
        let index = match paths.iter().position(|(i, _)| i == ink) {
            Some(index) => index,
            None => {
                paths.push((*ink, PathBuilder::new()));
                paths.len() - 1
            }
        };
        let path = &mut paths[index].1;
        let pixels: Vec<(f32, f32)> = corners.iter().filter_map(|&(x, y)| frame.pixel(x as f32, y as f32)).collect();
        if pixels.len() == 4 {
            // Boxes under half a pixel high would only smear the image.
            let (a, d) = (pixels[0], pixels[3]);
            if (a.0 - d.0).hypot(a.1 - d.1) < 0.5 {
                continue;
            }
            path.move_to(pixels[0].0, pixels[0].1);
            for p in &pixels[1..] {
                path.line_to(p.0, p.1);
            }
            path.close();
        }
    }
    for (ink, path) in paths {
        if let Some(path) = path.finish() {
            let mut color = ink_color(ink, background);
            color.set_alpha(0.6);
            pixmap.stroke_path(&path, &paint(color), stroke, Transform::identity(), None);
        }
    }
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
            let pixmap = scene_to_pixmap(&scene, &RasterOptions { width: 200, background }).unwrap();
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

    #[test]
    fn an_empty_scene_is_a_blank_image() {
        let scene = scene("0\nSECTION\n2\nENTITIES\n0\nENDSEC\n0\nEOF\n");
        let pixmap = scene_to_pixmap(&scene, &RasterOptions { width: 0, background: Background::Dark }).unwrap();
        assert_eq!(pixmap.width(), 1, "width clamped to at least one pixel");
        let huge = scene_to_pixmap(&scene, &RasterOptions { width: u32::MAX, background: Background::Light }).unwrap();
        assert!(huge.width() <= MAX_RASTER_SIDE && huge.height() <= MAX_RASTER_SIDE);
    }

    #[test]
    fn texts_are_greeked() {
        let inked = |dxf: &str| {
            let pixmap =
                scene_to_pixmap(&scene(dxf), &RasterOptions { width: 400, background: Background::Light }).unwrap();
            pixmap.pixels().iter().filter(|p| p.red() < 200).count()
        };
        let line = "0\nLINE\n10\n0\n20\n0\n11\n100\n21\n100\n";
        let text = "0\nTEXT\n1\nHELLO WORLD\n10\n10\n20\n80\n40\n5\n";
        let without = inked(&format!("0\nSECTION\n2\nENTITIES\n{line}0\nENDSEC\n0\nEOF\n"));
        let with = inked(&format!("0\nSECTION\n2\nENTITIES\n{line}{text}0\nENDSEC\n0\nEOF\n"));
        assert!(with > without + 20, "the text's box is drawn ({with} inked pixels against {without})");
    }
}
