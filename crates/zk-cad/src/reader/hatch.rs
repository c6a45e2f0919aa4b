//! HATCH: boundary paths (polylines, or edges: lines, arcs, elliptic arcs, splines), solid fill
//! or pattern lines. Group codes repeat with different meanings in each part, so the record is
//! read in order with a cursor. The counts the file states are not trusted: each list runs while
//! its groups keep coming.

use super::Reader;
use super::tokenizer::Group;
use crate::entity::{BoundaryEdges, BoundaryPath, Hatch, HatchEdge, PatternLine, Spline};
use crate::geometry::{Vec2, Vec3};

struct At<'g, 'a> {
    groups: &'g [Group<'a>],
    i: usize,
}

impl<'g, 'a> At<'g, 'a> {
    fn code(&self) -> Option<i32> {
        self.groups.get(self.i).map(|g| g.code)
    }

    fn code_after(&self, n: usize) -> Option<i32> {
        self.groups.get(self.i + n).map(|g| g.code)
    }

    /// The next group if its code is one of `codes`.
    fn take_if(&mut self, codes: &[i32]) -> Option<&'g Group<'a>> {
        let g = self.groups.get(self.i).filter(|g| codes.contains(&g.code))?;
        self.i += 1;
        Some(g)
    }
}

impl<'a> Reader<'a, '_> {
    pub(super) fn hatch(&mut self, groups: &[Group<'a>]) -> Hatch {
        let mut h = Hatch { pattern_scale: 1.0, normal: Vec3::Z, ..Hatch::default() };
        let mut at = At { groups, i: 0 };
        // Up to the path count (91): name, fill, plane.
        while let Some(g) = at.groups.get(at.i) {
            at.i += 1;
            match g.code {
                2 => h.pattern_name = self.text(g.raw()),
                30 => h.elevation = self.real(g),
                70 => h.solid = self.int(g) & 1 != 0,
                71 => h.associative = self.int(g) != 0,
                210 => h.normal.x = self.real(g),
                220 => h.normal.y = self.real(g),
                230 => h.normal.z = self.real(g),
                91 => break,
                1001 => return h,
                _ => {}
            }
        }
        while at.code() == Some(92) {
            let path = self.boundary_path(&mut at);
            h.paths.push(path);
        }
        // Pattern, seeds and gradient.
        while let Some(g) = at.groups.get(at.i) {
            at.i += 1;
            match g.code {
                75 => h.style = self.int16(g),
                76 => h.pattern_type = self.int16(g),
                52 => h.pattern_angle = self.real(g),
                41 => h.pattern_scale = self.real(g),
                77 => h.pattern_double = self.int(g) != 0,
                53 => h.pattern_lines.push(PatternLine { angle: self.real(g), ..PatternLine::default() }),
                43 | 44 | 45 | 46 | 49 => {
                    let v = self.real(g);
                    if let Some(line) = h.pattern_lines.last_mut() {
                        match g.code {
                            43 => line.base.x = v,
                            44 => line.base.y = v,
                            45 => line.offset.x = v,
                            46 => line.offset.y = v,
                            _ => line.dashes.push(v),
                        }
                    }
                }
                470 => {
                    let name = self.text(g.raw());
                    h.gradient = Some(name);
                }
                450 if self.int(g) != 0 && h.gradient.is_none() => h.gradient = Some(String::new()),
                1001 => break,
                _ => {}
            }
        }
        h
    }

    fn boundary_path(&mut self, at: &mut At<'_, 'a>) -> BoundaryPath {
        let flags = at.take_if(&[92]).map_or(0, |g| self.int32(g));
        let edges = if flags & 2 != 0 { self.polyline_path(at) } else { self.edge_path(at) };
        // Source boundary objects: 97 count, then handles.
        if at.take_if(&[97]).is_some() {
            while at.take_if(&[330]).is_some() {}
        }
        BoundaryPath { flags, edges }
    }

    fn polyline_path(&mut self, at: &mut At<'_, 'a>) -> BoundaryEdges {
        let mut closed = false;
        let mut vertices: Vec<Vec2> = Vec::new();
        let mut bulges: Vec<f64> = Vec::new();
        while let Some(g) = at.take_if(&[72, 73, 93]) {
            if g.code == 73 {
                closed = self.int(g) != 0;
            }
        }
        while let Some(g) = at.take_if(&[10, 20, 42]) {
            let v = self.real(g);
            match g.code {
                10 => {
                    vertices.push(Vec2::new(v, 0.0));
                    bulges.push(0.0);
                }
                20 => {
                    if let Some(p) = vertices.last_mut() {
                        p.y = v;
                    }
                }
                _ => {
                    if let Some(b) = bulges.last_mut() {
                        *b = v;
                    }
                }
            }
        }
        if bulges.iter().all(|b| *b == 0.0) {
            bulges.clear();
        }
        BoundaryEdges::Polyline { vertices, bulges, closed }
    }

    fn edge_path(&mut self, at: &mut At<'_, 'a>) -> BoundaryEdges {
        at.take_if(&[93]);
        let mut edges = Vec::new();
        while let Some(g) = at.take_if(&[72]) {
            let edge = match self.int(g) {
                1 => {
                    let (mut start, mut end) = (Vec2::default(), Vec2::default());
                    while let Some(g) = at.take_if(&[10, 20, 11, 21]) {
                        let v = self.real(g);
                        match g.code {
                            10 => start.x = v,
                            20 => start.y = v,
                            11 => end.x = v,
                            _ => end.y = v,
                        }
                    }
                    HatchEdge::Line { start, end }
                }
                2 => {
                    let (mut center, mut radius, mut start, mut end, mut ccw) =
                        (Vec2::default(), 0.0, 0.0, 360.0, true);
                    while let Some(g) = at.take_if(&[10, 20, 40, 50, 51, 73]) {
                        match g.code {
                            10 => center.x = self.real(g),
                            20 => center.y = self.real(g),
                            40 => radius = self.real(g),
                            50 => start = self.real(g),
                            51 => end = self.real(g),
                            _ => ccw = self.int(g) != 0,
                        }
                    }
                    HatchEdge::Arc { center, radius, start_angle: start, end_angle: end, counter_clockwise: ccw }
                }
                3 => {
                    let (mut center, mut major, mut ratio, mut start, mut end, mut ccw) =
                        (Vec2::default(), Vec2::default(), 1.0, 0.0, 360.0, true);
                    while let Some(g) = at.take_if(&[10, 20, 11, 21, 40, 50, 51, 73]) {
                        match g.code {
                            10 => center.x = self.real(g),
                            20 => center.y = self.real(g),
                            11 => major.x = self.real(g),
                            21 => major.y = self.real(g),
                            40 => ratio = self.real(g),
                            50 => start = self.real(g),
                            51 => end = self.real(g),
                            _ => ccw = self.int(g) != 0,
                        }
                    }
                    HatchEdge::Ellipse {
                        center,
                        major_axis: major,
                        ratio,
                        start_angle: start,
                        end_angle: end,
                        counter_clockwise: ccw,
                    }
                }
                4 => HatchEdge::Spline(Box::new(self.spline_edge(at))),
                _ => {
                    // An unknown edge type: skip its groups up to the next edge or the path's end.
                    while at.code().is_some_and(|c| !matches!(c, 72 | 92 | 97 | 75 | 76)) {
                        at.i += 1;
                    }
                    continue;
                }
            };
            edges.push(edge);
        }
        BoundaryEdges::Edges(edges)
    }

    fn spline_edge(&mut self, at: &mut At<'_, 'a>) -> Spline {
        let mut s = Spline::default();
        while let Some(g) = at.take_if(&[94, 73, 74, 95, 96]) {
            match g.code {
                94 => s.degree = self.int32(g),
                73 if self.int(g) != 0 => s.flags |= 4,
                74 if self.int(g) != 0 => s.flags |= 2,
                _ => {}
            }
        }
        while let Some(g) = at.take_if(&[40]) {
            s.knots.push(self.real(g));
        }
        while let Some(g) = at.take_if(&[10, 20, 42]) {
            let v = self.real(g);
            match g.code {
                10 => s.control_points.push(Vec3::new(v, 0.0, 0.0)),
                20 => {
                    if let Some(p) = s.control_points.last_mut() {
                        p.y = v;
                    }
                }
                _ => s.weights.push(v),
            }
        }
        // Fit data (R2010+) starts with its own 97, which the path's source-object count also
        // uses: it is fit data when fit points, tangents, the next edge or another 97 follow.
        if at.code() == Some(97) && matches!(at.code_after(1), Some(11 | 12 | 13 | 72 | 97)) {
            at.i += 1;
            while let Some(g) = at.take_if(&[11, 21]) {
                let v = self.real(g);
                if g.code == 11 {
                    s.fit_points.push(Vec3::new(v, 0.0, 0.0));
                } else if let Some(p) = s.fit_points.last_mut() {
                    p.y = v;
                }
            }
            while let Some(g) = at.take_if(&[12, 22, 13, 23]) {
                let v = self.real(g);
                let tangent = if matches!(g.code, 12 | 22) { &mut s.start_tangent } else { &mut s.end_tangent };
                let t = tangent.get_or_insert(Vec3::ZERO);
                if g.code < 20 { t.x = v } else { t.y = v }
            }
        }
        if s.weights.len() != s.control_points.len() {
            s.weights.clear();
        }
        s
    }
}
