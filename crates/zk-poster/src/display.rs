//! The display list: what a poster draws, in order, in canvas pixels. The PNG and the PDF are both
//! drawn from it, so they cannot disagree.

use std::ops::Range;
use std::sync::Arc;

use crate::Rgba;
use crate::fonts::Face;
use crate::size::{BoxPx, Geometry};

#[derive(Clone, Debug, PartialEq)]
pub enum Paint {
    Solid(Rgba),
    /// Colour stops (offset 0..1) along the line from `start` to `end`, in canvas pixels.
    Linear {
        start: (f32, f32),
        end: (f32, f32),
        stops: Vec<(f32, Rgba)>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ShapeKind {
    /// A rectangle with this corner radius.
    Rect {
        radius: f32,
    },
    Ellipse,
}

/// Decoded pixels, straight (not premultiplied) RGBA8, shared between the list and the caller.
#[derive(Clone, Debug, PartialEq)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub rgba: Arc<Vec<u8>>,
    /// Every pixel is opaque: the PDF stores no alpha mask.
    pub opaque: bool,
    /// The original file when it was a JPEG: the PDF embeds it as it is (no second compression,
    /// no generation loss); the PNG uses the decoded pixels.
    pub jpeg: Option<Arc<Vec<u8>>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Glyph {
    pub id: u32,
    /// Pen position on the canvas (the baseline's y).
    pub x: f32,
    pub y: f32,
    pub advance: f32,
    /// Bytes of [`Item::Text::text`] this glyph shows.
    pub text_range: Range<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Shape {
        bounds: BoxPx,
        kind: ShapeKind,
        paint: Paint,
        opacity: f32,
    },
    /// `pixels` stretched over `placed` (which may reach past `clip` when cropped to cover), shown
    /// only inside `clip` with rounded corners.
    Image {
        pixels: Pixels,
        placed: BoxPx,
        clip: BoxPx,
        radius: f32,
        opacity: f32,
    },
    /// One line's glyphs of one face: `text` is that line's text, so a PDF reader can copy it.
    Text {
        face: Face,
        size: f32,
        color: Rgba,
        text: String,
        glyphs: Vec<Glyph>,
    },
    /// Dark squares of a QR code: `modules` is row-major, `width` by `width`.
    Modules {
        origin: (f32, f32),
        module: f32,
        width: usize,
        modules: Vec<bool>,
        color: Rgba,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct DisplayList {
    pub geometry: Geometry,
    pub items: Vec<Item>,
    /// Fixed metadata for the PDF (from the document, never the clock).
    pub title: String,
    pub created: String,
    pub language: crate::Language,
}

/// One step of an outline, shared by the PNG and PDF writers so both draw the same shapes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Segment {
    Move(f32, f32),
    Line(f32, f32),
    Cubic(f32, f32, f32, f32, f32, f32),
    Close,
}

/// Control-point distance of a cubic Bézier quarter circle.
const KAPPA: f32 = 0.552_284_8;

/// The outline of a shape: a rectangle (corners rounded by `radius`) or an ellipse.
pub fn outline(bounds: &BoxPx, kind: ShapeKind) -> Vec<Segment> {
    let (left, top, right, bottom) = (bounds.x, bounds.y, bounds.right(), bounds.bottom());
    match kind {
        ShapeKind::Rect { radius } if radius <= 0.0 => vec![
            Segment::Move(left, top),
            Segment::Line(right, top),
            Segment::Line(right, bottom),
            Segment::Line(left, bottom),
            Segment::Close,
        ],
        ShapeKind::Rect { radius } => {
            let r = radius.min(bounds.w / 2.0).min(bounds.h / 2.0);
            let k = r * KAPPA;
            vec![
                Segment::Move(left + r, top),
                Segment::Line(right - r, top),
                Segment::Cubic(right - r + k, top, right, top + r - k, right, top + r),
                Segment::Line(right, bottom - r),
                Segment::Cubic(right, bottom - r + k, right - r + k, bottom, right - r, bottom),
                Segment::Line(left + r, bottom),
                Segment::Cubic(left + r - k, bottom, left, bottom - r + k, left, bottom - r),
                Segment::Line(left, top + r),
                Segment::Cubic(left, top + r - k, left + r - k, top, left + r, top),
                Segment::Close,
            ]
        }
        ShapeKind::Ellipse => {
            let (rx, ry) = (bounds.w / 2.0, bounds.h / 2.0);
            let (cx, cy) = (left + rx, top + ry);
            let (kx, ky) = (rx * KAPPA, ry * KAPPA);
            vec![
                Segment::Move(cx + rx, cy),
                Segment::Cubic(cx + rx, cy + ky, cx + kx, cy + ry, cx, cy + ry),
                Segment::Cubic(cx - kx, cy + ry, cx - rx, cy + ky, cx - rx, cy),
                Segment::Cubic(cx - rx, cy - ky, cx - kx, cy - ry, cx, cy - ry),
                Segment::Cubic(cx + kx, cy - ry, cx + rx, cy - ky, cx + rx, cy),
                Segment::Close,
            ]
        }
    }
}

/// The dark modules of a QR code as squares, merged along rows so the outline stays short.
pub fn module_rects(origin: (f32, f32), module: f32, width: usize, modules: &[bool]) -> Vec<BoxPx> {
    let mut rects = Vec::new();
    for (row, cells) in modules.chunks(width.max(1)).enumerate() {
        let mut column = 0;
        while column < cells.len() {
            if !cells[column] {
                column += 1;
                continue;
            }
            let start = column;
            while column < cells.len() && cells[column] {
                column += 1;
            }
            rects.push(BoxPx {
                x: origin.0 + start as f32 * module,
                y: origin.1 + row as f32 * module,
                w: (column - start) as f32 * module,
                h: module,
            });
        }
    }
    rects
}
