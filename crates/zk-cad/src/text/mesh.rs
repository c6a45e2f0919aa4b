//! Glyph outlines into triangles (lyon's fill tessellator, non-zero rule, curves flattened to a
//! tolerance in em units), and the outlines of the glyphs no font provides: the missing-glyph
//! box and the unit square that underlines and fraction bars are drawn with.

use lyon_tessellation::math::{Point, point};
use lyon_tessellation::path::PathEvent;
use lyon_tessellation::{BuffersBuilder, FillOptions, FillRule, FillTessellator, FillVertex, VertexBuffers};

use super::fonts::PathOp;

/// Largest distance between a glyph's curves and its triangles' edges, in em units: 1/2000 em is
/// under a pixel for text up to 2000 pixels tall.
pub const EM_TOLERANCE: f32 = 0.0005;

/// The missing-glyph box: a rectangle frame `MISSING_ADVANCE` wide (with side bearings) and as
/// tall as the Latin capitals, stroked `MISSING_STROKE`.
pub const MISSING_ADVANCE: f32 = 0.62;
const MISSING_STROKE: f32 = 0.06;

/// The missing-glyph box's outline for capitals `cap` em tall: an outer rectangle and an inner
/// one turning the other way, so the non-zero rule leaves the inside empty.
pub fn missing_box(cap: f32, out: &mut Vec<PathOp>) {
    let (x0, x1, y0, y1, w) = (0.07, MISSING_ADVANCE - 0.07, 0.0, cap, MISSING_STROKE);
    out.extend([
        PathOp::Move(x0, y0),
        PathOp::Line(x1, y0),
        PathOp::Line(x1, y1),
        PathOp::Line(x0, y1),
        PathOp::Close,
        PathOp::Move(x0 + w, y0 + w),
        PathOp::Line(x0 + w, y1 - w),
        PathOp::Line(x1 - w, y1 - w),
        PathOp::Line(x1 - w, y0 + w),
        PathOp::Close,
    ]);
}

/// The unit square (0, 0)–(1, 1): rules (underlines, fraction bars) are instances of it.
pub fn unit_square(out: &mut Vec<PathOp>) {
    out.extend([PathOp::Move(0.0, 0.0), PathOp::Line(1.0, 0.0), PathOp::Line(1.0, 1.0), PathOp::Line(0.0, 1.0)]);
    out.push(PathOp::Close);
}

/// Lyon's path events for an outline: every contour begun and ended (closed), whatever the ops.
fn events(ops: &[PathOp]) -> Vec<PathEvent> {
    let mut events = Vec::with_capacity(ops.len() + 8);
    let mut first: Option<Point> = None;
    let mut last = point(0.0, 0.0);
    let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
    for op in ops {
        match *op {
            PathOp::Move(x, y) if finite(&[x, y]) => {
                if let Some(f) = first.take() {
                    events.push(PathEvent::End { last, first: f, close: true });
                }
                last = point(x, y);
                first = Some(last);
                events.push(PathEvent::Begin { at: last });
            }
            PathOp::Line(x, y) if first.is_some() && finite(&[x, y]) => {
                let to = point(x, y);
                events.push(PathEvent::Line { from: last, to });
                last = to;
            }
            PathOp::Quad(cx, cy, x, y) if first.is_some() && finite(&[cx, cy, x, y]) => {
                let to = point(x, y);
                events.push(PathEvent::Quadratic { from: last, ctrl: point(cx, cy), to });
                last = to;
            }
            PathOp::Cubic(c1x, c1y, c2x, c2y, x, y) if first.is_some() && finite(&[c1x, c1y, c2x, c2y, x, y]) => {
                let to = point(x, y);
                events.push(PathEvent::Cubic { from: last, ctrl1: point(c1x, c1y), ctrl2: point(c2x, c2y), to });
                last = to;
            }
            PathOp::Close => {
                if let Some(f) = first.take() {
                    events.push(PathEvent::End { last, first: f, close: true });
                }
            }
            _ => {}
        }
    }
    if let Some(f) = first {
        events.push(PathEvent::End { last, first: f, close: true });
    }
    events
}

/// Triangulates an outline (non-zero rule) and appends the triangles' corners (x, y pairs, em
/// units) to `out`. Returns how many corners were added; 0 for an empty or degenerate outline.
pub fn triangulate(tessellator: &mut FillTessellator, ops: &[PathOp], out: &mut Vec<f32>) -> usize {
    let events = events(ops);
    if events.is_empty() {
        return 0;
    }
    let mut buffers: VertexBuffers<[f32; 2], u32> = VertexBuffers::new();
    let options = FillOptions::tolerance(EM_TOLERANCE).with_fill_rule(FillRule::NonZero);
    let result = tessellator.tessellate(
        events,
        &options,
        &mut BuffersBuilder::new(&mut buffers, |v: FillVertex| v.position().to_array()),
    );
    if result.is_err() {
        return 0;
    }
    let before = out.len();
    for index in &buffers.indices {
        if let Some(v) = buffers.vertices.get(*index as usize) {
            out.extend_from_slice(v);
        }
    }
    // Whole triangles only.
    out.truncate(before + (out.len() - before) / 6 * 6);
    (out.len() - before) / 2
}

/// The bounding box of an outline's points (control points included): min x, min y, max x, max y.
pub fn outline_bounds(ops: &[PathOp]) -> Option<[f32; 4]> {
    let mut b = [f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY];
    let mut add = |x: f32, y: f32| {
        b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
    };
    for op in ops {
        match *op {
            PathOp::Move(x, y) | PathOp::Line(x, y) => add(x, y),
            PathOp::Quad(a, b, x, y) => {
                add(a, b);
                add(x, y);
            }
            PathOp::Cubic(a, b, c, d, x, y) => {
                add(a, b);
                add(c, d);
                add(x, y);
            }
            PathOp::Close => {}
        }
    }
    (b[0] <= b[2] && b[1] <= b[3]).then_some(b)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::text::fonts::{BundledFont, face};

    fn area(corners: &[f32]) -> f32 {
        corners
            .chunks_exact(6)
            .map(|t| ((t[2] - t[0]) * (t[5] - t[1]) - (t[4] - t[0]) * (t[3] - t[1])).abs() / 2.0)
            .sum()
    }

    #[test]
    fn the_missing_box_is_a_frame() {
        let mut ops = Vec::new();
        missing_box(0.7, &mut ops);
        let mut out = Vec::new();
        let corners = triangulate(&mut FillTessellator::new(), &ops, &mut out);
        assert!(corners > 0 && corners.is_multiple_of(3));
        let outer = (MISSING_ADVANCE - 0.14) * 0.7;
        let inner = (MISSING_ADVANCE - 0.14 - 2.0 * MISSING_STROKE) * (0.7 - 2.0 * MISSING_STROKE);
        assert!((area(&out) - (outer - inner)).abs() < 1e-4, "the inside stays empty: {}", area(&out));
    }

    #[test]
    fn glyphs_with_holes_and_curves() {
        let latin = face(BundledFont::Latin).unwrap();
        let mut ops = Vec::new();
        latin.outline(latin.glyph('O').unwrap(), &mut ops);
        let mut out = Vec::new();
        triangulate(&mut FillTessellator::new(), &ops, &mut out);
        let b = outline_bounds(&ops).unwrap();
        let (rx, ry) = ((b[2] - b[0]) / 2.0, (b[3] - b[1]) / 2.0);
        // A ring: less than the full ellipse, more than a thin stroke.
        let full = std::f32::consts::PI * rx * ry;
        assert!(area(&out) < full * 0.6 && area(&out) > full * 0.2, "{} of {full}", area(&out));
        let cjk = face(BundledFont::Cjk).unwrap();
        ops.clear();
        cjk.outline(cjk.glyph('图').unwrap(), &mut ops);
        out.clear();
        assert!(triangulate(&mut FillTessellator::new(), &ops, &mut out) > 30);
    }

    /// Every outline of both bundled fonts (55,657) gives triangles, none panics: the only
    /// outlines layout ever triangulates. About 2 s in a release build:
    /// `cargo test --release -p zk-cad --lib every_bundled_glyph -- --ignored`.
    #[test]
    #[ignore = "slow in a debug build; run it in release when the fonts or lyon change"]
    fn every_bundled_glyph_triangulates() {
        let mut tessellator = FillTessellator::new();
        for font in BundledFont::ALL {
            let f = face(font).unwrap();
            let mut outlines = 0;
            for glyph in 1..=u16::MAX {
                let mut ops = Vec::new();
                if !f.outline(glyph, &mut ops) {
                    continue;
                }
                outlines += 1;
                assert!(triangulate(&mut tessellator, &ops, &mut Vec::new()) > 0, "{font:?} glyph {glyph}");
            }
            assert!(outlines > 6000, "{font:?}: {outlines}");
        }
    }

    #[test]
    fn broken_outlines_do_not_fail() {
        let mut out = Vec::new();
        let mut t = FillTessellator::new();
        assert_eq!(triangulate(&mut t, &[], &mut out), 0);
        assert_eq!(triangulate(&mut t, &[PathOp::Line(1.0, 1.0), PathOp::Close], &mut out), 0);
        let nan = [PathOp::Move(f32::NAN, 0.0), PathOp::Line(1.0, 0.0), PathOp::Line(0.0, 1.0), PathOp::Close];
        triangulate(&mut t, &nan, &mut out);
        assert!(out.iter().all(|v| v.is_finite()));
    }
}
