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
    entities_extents(drawing, drawing.model_space(), max_depth)
}

/// Bounds of some entities of `drawing` (a layout's, say), blocks expanded.
pub fn entities_extents<'d>(
    drawing: &'d Drawing,
    entities: impl Iterator<Item = &'d Entity>,
    max_depth: usize,
) -> Option<Bounds> {
    let mut blocks = BlockBounds::new(drawing, max_depth);
    let mut b = Bounds::EMPTY;
    for e in entities {
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
            EntityKind::Insert(insert) => {
                let mut b = self.insert(insert, depth);
                for attribute in &insert.attributes {
                    b.union(&entity_bounds(attribute));
                }
                b
            }
            EntityKind::Dimension(d) => match d.block {
                // A dimension's block is drawn in world coordinates, at no offset.
                Some(id) => {
                    let b = self.block(id, depth);
                    if b.is_empty() { entity_bounds(e) } else { b }
                }
                None => entity_bounds(e),
            },
            // A table's block is placed like an insert's, at the table's insertion point.
            EntityKind::Table(t) => match t.block {
                Some(id) => {
                    let base = self.drawing.block(id).map(|b| b.base_point).unwrap_or_default();
                    let b = Transform::insert(base, t.insert, Vec3::new(1.0, 1.0, 1.0), 0.0, Vec3::Z)
                        .bounds(&self.block(id, depth));
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
        EntityKind::Text(t) => text_box(&mut b, t, t.text.chars().count()),
        EntityKind::AttributeDefinition(a) => text_box(&mut b, &a.text, a.tag.chars().count()),
        EntityKind::Attribute(a) => text_box(&mut b, &a.text, a.text.text.chars().count()),
        EntityKind::MText(m) => {
            let lines = m.content.plain.lines().count().max(1);
            let longest = m.content.plain.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            let width = if m.width > 0.0 { m.width } else { longest as f64 * m.char_height * 0.65 };
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

/// An estimate of a TEXT's box from its alignment: characters are taken as 0.65 of the height
/// wide (what common fonts average), so the box is close but not exact.
fn text_box(b: &mut Bounds, t: &crate::entity::Text, chars: usize) {
    let ocs = Ocs::new(t.normal);
    let height = t.height.abs();
    let width = chars as f64 * height * t.width_factor.abs().max(0.01) * 0.65;
    let anchor = match (t.halign, t.valign) {
        (0, 0) => t.insert,
        _ => t.align_point.unwrap_or(t.insert),
    };
    // Aligned (3) and fit (5) run from the insertion point to the alignment point.
    if matches!(t.halign, 3 | 5)
        && let Some(end) = t.align_point
    {
        for p in [t.insert, end] {
            add_ocs(b, &ocs, p);
            add_ocs(b, &ocs, Vec3::new(p.x, p.y + height, p.z));
        }
        return;
    }
    let left = match t.halign {
        1 | 4 => -width / 2.0,
        2 => -width,
        _ => 0.0,
    };
    let bottom = match t.valign {
        2 => -height / 2.0,
        3 => -height,
        _ if t.halign == 4 => -height / 2.0,
        _ => 0.0,
    };
    let (s, c) = t.rotation.to_radians().sin_cos();
    for (dx, dy) in [(left, bottom), (left + width, bottom), (left, bottom + height), (left + width, bottom + height)] {
        add_ocs(b, &ocs, Vec3::new(anchor.x + dx * c - dy * s, anchor.y + dx * s + dy * c, anchor.z));
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
