//! Bounding boxes of entities, blocks and model space, computed from the geometry: the header's
//! `$EXTMIN`/`$EXTMAX` are often stale, missing or the ±1e20 "empty" sentinel.
//!
//! Curves are bounded generously but cheaply (a spline by its control points, text by an
//! estimate of its box); the result is for fitting a view and for facts, not for measurement.

use crate::entity::{BoundaryEdges, Entity, EntityKind, HatchEdge, Insert};
use crate::geometry::{Bounds, Ocs, Transform, Vec2, Vec3, arc_bounds_2d};
use crate::model::{BlockId, Drawing};
use crate::nesting::HARD_DEPTH_CAP;

/// Bounds of model space, or `None` when it draws nothing with a finite position.
pub fn model_extents(drawing: &Drawing, max_depth: usize) -> Option<Bounds> {
    let mut blocks = BlockBounds::new(drawing, max_depth);
    let mut b = Bounds::EMPTY;
    for e in drawing.model_space() {
        b.union(&blocks.entity(e, 0));
    }
    (!b.is_empty()).then_some(b)
}

/// Block bounds, memoised; blocks being computed count as empty so that cycles end.
struct BlockBounds<'d> {
    drawing: &'d Drawing,
    cache: Vec<Option<Bounds>>,
    in_progress: Vec<bool>,
    max_depth: usize,
}

impl<'d> BlockBounds<'d> {
    fn new(drawing: &'d Drawing, max_depth: usize) -> Self {
        let n = drawing.blocks.len();
        BlockBounds {
            drawing,
            cache: vec![None; n],
            in_progress: vec![false; n],
            max_depth: max_depth.min(HARD_DEPTH_CAP),
        }
    }

    /// Bounds of a block's content in its own coordinates (before the base point shift).
    fn block(&mut self, id: BlockId, depth: usize) -> Bounds {
        let i = id.index();
        let Some(block) = self.drawing.blocks.get(i) else { return Bounds::EMPTY };
        if let Some(b) = self.cache[i] {
            return b;
        }
        if self.in_progress[i] || depth > self.max_depth {
            return Bounds::EMPTY;
        }
        self.in_progress[i] = true;
        let mut b = Bounds::EMPTY;
        for e in &block.entities {
            b.union(&self.entity(e, depth + 1));
        }
        self.in_progress[i] = false;
        self.cache[i] = Some(b);
        b
    }

    fn entity(&mut self, e: &Entity, depth: usize) -> Bounds {
        match &e.kind {
            EntityKind::Insert(insert) => self.insert(insert, depth),
            EntityKind::Dimension(d) => match d.block {
                // A dimension's block is drawn in world coordinates, at no offset.
                Some(id) => {
                    let b = self.block(id, depth);
                    if b.is_empty() { entity_bounds(e) } else { b }
                }
                None => entity_bounds(e),
            },
            EntityKind::Table(t) => match t.block {
                Some(id) => {
                    let b = self.block(id, depth);
                    if b.is_empty() { entity_bounds(e) } else { b }
                }
                None => entity_bounds(e),
            },
            _ => entity_bounds(e),
        }
    }

    fn insert(&mut self, insert: &Insert, depth: usize) -> Bounds {
        let Some(base) = self.drawing.block(insert.block).map(|b| b.base_point) else { return Bounds::EMPTY };
        let content = self.block(insert.block, depth);
        if content.is_empty() {
            return Bounds::EMPTY;
        }
        let mut out = Bounds::EMPTY;
        // An array's instances lie between its corner instances: bound those four.
        let (cols, rows) = (f64::from(insert.columns.max(1) - 1), f64::from(insert.rows.max(1) - 1));
        let (s, c) = insert.rotation.to_radians().sin_cos();
        for (i, j) in [(0.0, 0.0), (cols, 0.0), (0.0, rows), (cols, rows)] {
            let dx = i * insert.column_spacing;
            let dy = j * insert.row_spacing;
            let offset = Vec3::new(dx * c - dy * s, dx * s + dy * c, 0.0);
            let t = Transform::insert(base, insert.insert.plus(offset), insert.scale, insert.rotation, insert.normal);
            out.union(&t.bounds(&content));
        }
        out
    }
}

fn add_ocs(b: &mut Bounds, ocs: &Ocs, p: Vec3) {
    b.include(if ocs.is_world() { p } else { ocs.to_wcs(p) });
}

/// Bounds of one entity by its own geometry (block references give their insertion point).
pub fn entity_bounds(e: &Entity) -> Bounds {
    let mut b = Bounds::EMPTY;
    match &e.kind {
        EntityKind::Line { start, end } => {
            b.include(*start);
            b.include(*end);
        }
        EntityKind::Point { location } => b.include(*location),
        EntityKind::Circle { center, radius, normal } => circle(&mut b, *center, *radius, *normal, 0.0, 360.0),
        EntityKind::Arc(a) => circle(&mut b, a.center, a.radius, a.normal, a.start_angle, a.end_angle),
        EntityKind::Ellipse(el) => {
            let minor = el.normal.normalized().unwrap_or(Vec3::Z).cross(el.major_axis).scale(el.ratio);
            let sweep = (el.end - el.start).rem_euclid(std::f64::consts::TAU);
            let sweep = if sweep == 0.0 { std::f64::consts::TAU } else { sweep };
            for k in 0..=32 {
                let t = el.start + sweep * f64::from(k) / 32.0;
                b.include(el.center.plus(el.major_axis.scale(t.cos())).plus(minor.scale(t.sin())));
            }
        }
        EntityKind::LwPolyline(p) => {
            let ocs = Ocs::new(p.normal);
            for (i, v) in p.vertices.iter().enumerate() {
                add_ocs(&mut b, &ocs, v.extend(p.elevation));
                let bulge = p.bulge(i);
                let next = if i + 1 < p.vertices.len() {
                    Some(p.vertices[i + 1])
                } else if p.closed {
                    p.vertices.first().copied()
                } else {
                    None
                };
                if let Some(next) = next
                    && bulge != 0.0
                {
                    add_ocs(&mut b, &ocs, bulge_apex(*v, next, bulge).extend(p.elevation));
                }
            }
        }
        EntityKind::Polyline(p) => {
            let ocs = Ocs::new(p.normal);
            let planar = matches!(p.kind, crate::entity::PolylineKind::Polyline2d);
            for v in &p.vertices {
                if planar {
                    add_ocs(&mut b, &ocs, Vec3::new(v.location.x, v.location.y, p.elevation));
                } else {
                    b.include(v.location);
                }
            }
        }
        EntityKind::Spline(s) => {
            // A B-spline lies in the convex hull of its control points.
            for p in if s.control_points.is_empty() { &s.fit_points } else { &s.control_points } {
                b.include(*p);
            }
        }
        EntityKind::Text(t) => text_box(
            &mut b,
            t.align_point.filter(|_| t.halign != 0 || t.valign != 0).unwrap_or(t.insert),
            t.height,
            t.text.chars().count(),
            t.width_factor,
            t.rotation,
            t.normal,
        ),
        EntityKind::AttributeDefinition(a) => {
            let t = &a.text;
            text_box(&mut b, t.insert, t.height, a.tag.chars().count(), t.width_factor, t.rotation, t.normal);
        }
        EntityKind::MText(m) => {
            let lines = m.content.plain.lines().count().max(1);
            let longest = m.content.plain.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            let width = if m.width > 0.0 { m.width } else { longest as f64 * m.char_height * 0.8 };
            let height = lines as f64 * m.char_height * 1.67 * m.line_spacing.max(0.25);
            b.include(m.insert);
            // Attachment 1–9: top-left … bottom-right; grow the box away from the anchor.
            let col = (i32::from(m.attachment).clamp(1, 9) - 1) % 3;
            let row = (i32::from(m.attachment).clamp(1, 9) - 1) / 3;
            let x_axis = m.x_axis.normalized().unwrap_or(Vec3::new(1.0, 0.0, 0.0));
            let y_axis = m.normal.normalized().unwrap_or(Vec3::Z).cross(x_axis);
            let left = -width * f64::from(col) / 2.0;
            let top = height * f64::from(row) / 2.0;
            for (dx, dy) in [(left, top), (left + width, top), (left, top - height), (left + width, top - height)] {
                b.include(m.insert.plus(x_axis.scale(dx)).plus(y_axis.scale(dy)));
            }
        }
        EntityKind::Insert(i) => b.include(i.insert),
        EntityKind::Dimension(d) => {
            b.include(d.definition_point);
            b.include(d.text_midpoint);
            for p in d.points {
                if p != Vec3::ZERO {
                    b.include(p);
                }
            }
        }
        EntityKind::Leader(l) => l.vertices.iter().for_each(|p| b.include(*p)),
        EntityKind::MLeader(m) => {
            m.lines.iter().flatten().for_each(|p| b.include(*p));
            m.text_location.into_iter().chain(m.block_location).for_each(|p| b.include(p));
        }
        EntityKind::Hatch(h) => {
            let ocs = Ocs::new(h.normal);
            for path in &h.paths {
                match &path.edges {
                    BoundaryEdges::Polyline { vertices, .. } => {
                        vertices.iter().for_each(|v| add_ocs(&mut b, &ocs, v.extend(h.elevation)));
                    }
                    BoundaryEdges::Edges(edges) => {
                        for edge in edges {
                            let points: Vec<Vec2> = match edge {
                                HatchEdge::Line { start, end } => vec![*start, *end],
                                HatchEdge::Arc { center, radius, .. } => {
                                    vec![
                                        Vec2::new(center.x - radius, center.y - radius),
                                        Vec2::new(center.x + radius, center.y + radius),
                                    ]
                                }
                                HatchEdge::Ellipse { center, major_axis, .. } => {
                                    let r = major_axis.x.hypot(major_axis.y);
                                    vec![Vec2::new(center.x - r, center.y - r), Vec2::new(center.x + r, center.y + r)]
                                }
                                HatchEdge::Spline(s) => {
                                    s.control_points.iter().chain(&s.fit_points).map(|p| p.xy()).collect()
                                }
                            };
                            points.into_iter().for_each(|v| add_ocs(&mut b, &ocs, v.extend(h.elevation)));
                        }
                    }
                }
            }
        }
        EntityKind::Solid(s) => {
            let ocs = Ocs::new(s.normal);
            s.corners.iter().for_each(|p| add_ocs(&mut b, &ocs, *p));
        }
        EntityKind::Face3d(f) => f.corners.iter().for_each(|p| b.include(*p)),
        EntityKind::Image(i) => {
            let u = i.u_vector.scale(i.size.x);
            let v = i.v_vector.scale(i.size.y);
            for p in [i.insert, i.insert.plus(u), i.insert.plus(v), i.insert.plus(u).plus(v)] {
                b.include(p);
            }
        }
        EntityKind::Table(t) => b.include(t.insert),
        EntityKind::Mesh(m) => m.vertices.iter().for_each(|p| b.include(*p)),
        // Paper-space windows and infinite lines do not bound the drawing.
        EntityKind::Viewport(_) | EntityKind::Ray { .. } => {}
    }
    b
}

fn circle(b: &mut Bounds, center: Vec3, radius: f64, normal: Vec3, start: f64, end: f64) {
    let ocs = Ocs::new(normal);
    for p in arc_bounds_2d(center.xy(), radius, start, end).into_iter().flatten() {
        add_ocs(b, &ocs, p.extend(center.z));
    }
}

/// The middle of a bulged segment's arc.
fn bulge_apex(a: Vec2, b: Vec2, bulge: f64) -> Vec2 {
    let mid = Vec2::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    // The sagitta is bulge × half the chord, to the right of a→b for a positive bulge.
    let k = bulge / 2.0;
    Vec2::new(mid.x + dy * k, mid.y - dx * k)
}

fn text_box(b: &mut Bounds, at: Vec3, height: f64, chars: usize, width_factor: f64, rotation: f64, normal: Vec3) {
    let ocs = Ocs::new(normal);
    let width = chars as f64 * height * width_factor.abs().max(0.01) * 0.8;
    let (s, c) = rotation.to_radians().sin_cos();
    for (dx, dy) in [(0.0, 0.0), (width, 0.0), (0.0, height), (width, height)] {
        add_ocs(b, &ocs, Vec3::new(at.x + dx * c - dy * s, at.y + dx * s + dy * c, at.z));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulge_apex_of_a_half_circle() {
        // Bulge 1 is a half circle: from (0,0) to (2,0), counter-clockwise, apex at (1,-1).
        let apex = bulge_apex(Vec2::new(0.0, 0.0), Vec2::new(2.0, 0.0), 1.0);
        assert!((apex.x - 1.0).abs() < 1e-12 && (apex.y + 1.0).abs() < 1e-12, "{apex:?}");
    }
}
