//! One entity record (its groups already collected) into an [`Entity`].
//!
//! Most entities are a fixed set of groups: [`Fields`] gathers them in one pass into slots by
//! group code. Entities with repeated groups (polylines, splines, leaders, meshes) walk their
//! groups in order.

use super::tokenizer::Group;
use super::{CommonGroups, Reader};
use crate::entity::*;
use crate::geometry::{Ocs, Vec2, Vec3};
use crate::mtext::{decode_text_codes, parse_mtext};

/// The fixed groups of an entity, by code. Coordinates: 10–18 / 20–28 / 30–38 are x / y / z of
/// points 0–8; reals 40–59; integers 60–79; the extrusion 210–230.
pub(super) struct Fields<'g, 'a> {
    pub common: CommonGroups<'g, 'a>,
    p: [Vec3; 9],
    has_p: u16,
    r: [f64; 20],
    has_r: u32,
    i: [i64; 20],
    has_i: u32,
    normal: Vec3,
    text1: Option<&'a [u8]>,
    name2: Option<&'a [u8]>,
    text3: Option<&'a [u8]>,
    style7: Option<&'a [u8]>,
}

impl Fields<'_, '_> {
    fn p(&self, n: usize) -> Vec3 {
        self.p[n]
    }

    fn has_p(&self, n: usize) -> bool {
        self.has_p & (1 << n) != 0
    }

    fn r(&self, code: usize) -> f64 {
        self.r_or(code, 0.0)
    }

    fn r_or(&self, code: usize, default: f64) -> f64 {
        let k = code - 40;
        if self.has_r & (1 << k) != 0 { self.r[k] } else { default }
    }

    fn has_r(&self, code: usize) -> bool {
        self.has_r & (1 << (code - 40)) != 0
    }

    fn i(&self, code: usize) -> i64 {
        self.i_or(code, 0)
    }

    fn i_or(&self, code: usize, default: i64) -> i64 {
        let k = code - 60;
        if self.has_i & (1 << k) != 0 { self.i[k] } else { default }
    }

    fn i16(&self, code: usize) -> i16 {
        self.i(code).clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
    }
}

/// A count from the file, clamped to at least 1 and at most `u16::MAX` (DXF counts are 16-bit).
fn count(v: i64) -> u32 {
    v.clamp(1, i64::from(u16::MAX)) as u32
}

fn is_zero_vec(v: Vec3) -> bool {
    v.x == 0.0 && v.y == 0.0 && v.z == 0.0
}

impl<'a> Reader<'a, '_> {
    pub(super) fn fields<'g>(&mut self, groups: &'g [Group<'a>]) -> Fields<'g, 'a> {
        let mut f = Fields {
            common: CommonGroups::default(),
            p: [Vec3::ZERO; 9],
            has_p: 0,
            r: [0.0; 20],
            has_r: 0,
            i: [0; 20],
            has_i: 0,
            normal: Vec3::Z,
            text1: None,
            name2: None,
            text3: None,
            style7: None,
        };
        for g in groups {
            if f.common.offer(g) {
                continue;
            }
            let code = g.code;
            match code {
                1 if f.text1.is_none() => f.text1 = Some(g.raw()),
                2 if f.name2.is_none() => f.name2 = Some(g.raw()),
                3 if f.text3.is_none() => f.text3 = Some(g.raw()),
                7 => f.style7 = Some(g.raw()),
                10..=18 | 20..=28 | 30..=38 => {
                    let n = (code % 10) as usize;
                    let v = self.real(g);
                    match code / 10 {
                        1 => f.p[n].x = v,
                        2 => f.p[n].y = v,
                        _ => f.p[n].z = v,
                    }
                    f.has_p |= 1 << n;
                }
                40..=59 => {
                    let k = (code - 40) as usize;
                    f.r[k] = self.real(g);
                    f.has_r |= 1 << k;
                }
                60..=79 => {
                    let k = (code - 60) as usize;
                    f.i[k] = self.int(g);
                    f.has_i |= 1 << k;
                }
                210 => f.normal.x = self.real(g),
                220 => f.normal.y = self.real(g),
                230 => f.normal.z = self.real(g),
                // An embedded object (R2018 multi-line attributes, MTEXT columns) or extended
                // data: their groups reuse codes with other meanings.
                101 | 1001 => break,
                _ => {}
            }
        }
        f
    }

    /// Builds the entity of type `kind`, or counts it as unsupported and returns `None`.
    pub(super) fn entity(&mut self, kind: &[u8], groups: &[Group<'a>]) -> Option<Entity> {
        // Entities read through `Fields` get their common groups from the same pass.
        let fixed = |reader: &mut Self, build: &dyn Fn(&mut Self, &Fields<'_, 'a>) -> EntityKind| {
            let f = reader.fields(groups);
            let kind = build(reader, &f);
            let common = reader.resolve_common(&f.common);
            Entity { common, kind }
        };
        let with_common = |reader: &mut Self, kind: EntityKind| {
            let common = reader.common(groups);
            Entity { common, kind }
        };
        Some(match kind {
            b"LINE" | b"3DLINE" => fixed(self, &|_, f| EntityKind::Line { start: f.p(0), end: f.p(1) }),
            b"POINT" => fixed(self, &|_, f| EntityKind::Point { location: f.p(0) }),
            b"CIRCLE" => fixed(self, &|_, f| EntityKind::Circle { center: f.p(0), radius: f.r(40), normal: f.normal }),
            b"ARC" => fixed(self, &|_, f| {
                EntityKind::Arc(Box::new(Arc {
                    center: f.p(0),
                    radius: f.r(40),
                    start_angle: f.r(50),
                    end_angle: f.r(51),
                    normal: f.normal,
                }))
            }),
            b"ELLIPSE" => fixed(self, &|_, f| {
                EntityKind::Ellipse(Box::new(Ellipse {
                    center: f.p(0),
                    major_axis: f.p(1),
                    ratio: f.r_or(40, 1.0),
                    start: f.r_or(41, 0.0),
                    end: f.r_or(42, std::f64::consts::TAU),
                    normal: f.normal,
                }))
            }),
            b"LWPOLYLINE" => {
                let (polyline, common) = self.lwpolyline(groups);
                Entity { common, kind: EntityKind::LwPolyline(Box::new(polyline)) }
            }
            b"SPLINE" => {
                let spline = self.spline(groups);
                with_common(self, EntityKind::Spline(Box::new(spline)))
            }
            b"TEXT" => fixed(self, &|r, f| EntityKind::Text(Box::new(r.text_from(f, 73)))),
            b"MTEXT" => fixed(self, &|r, f| EntityKind::MText(Box::new(r.mtext(groups, f)))),
            b"ATTDEF" => fixed(self, &|r, f| EntityKind::AttributeDefinition(Box::new(r.attribute_from(f, true)))),
            b"DIMENSION" => fixed(self, &|r, f| EntityKind::Dimension(Box::new(r.dimension(f, None)))),
            b"ARC_DIMENSION" => {
                fixed(self, &|r, f| EntityKind::Dimension(Box::new(r.dimension(f, Some(DimensionKind::ArcLength)))))
            }
            b"LARGE_RADIAL_DIMENSION" => {
                fixed(self, &|r, f| EntityKind::Dimension(Box::new(r.dimension(f, Some(DimensionKind::LargeRadial)))))
            }
            b"LEADER" => fixed(self, &|r, f| EntityKind::Leader(Box::new(r.leader(groups, f)))),
            b"MULTILEADER" | b"MLEADER" => {
                let mleader = self.mleader(groups);
                with_common(self, EntityKind::MLeader(Box::new(mleader)))
            }
            b"HATCH" => {
                let hatch = self.hatch(groups);
                with_common(self, EntityKind::Hatch(Box::new(hatch)))
            }
            b"SOLID" | b"TRACE" => fixed(self, &|_, f| {
                let last = if f.has_p(3) { f.p(3) } else { f.p(2) };
                EntityKind::Solid(Box::new(Solid {
                    corners: [f.p(0), f.p(1), f.p(2), last],
                    normal: f.normal,
                    trace: kind == b"TRACE",
                }))
            }),
            b"3DFACE" => fixed(self, &|_, f| {
                let last = if f.has_p(3) { f.p(3) } else { f.p(2) };
                EntityKind::Face3d(Box::new(Face3d {
                    corners: [f.p(0), f.p(1), f.p(2), last],
                    invisible_edges: (f.i(70) & 0x0F) as u8,
                }))
            }),
            b"IMAGE" | b"WIPEOUT" => {
                fixed(self, &|r, f| EntityKind::Image(Box::new(r.image(groups, f, kind == b"WIPEOUT"))))
            }
            b"VIEWPORT" => fixed(self, &|r, f| EntityKind::Viewport(Box::new(r.viewport(groups, f)))),
            b"ACAD_TABLE" => fixed(self, &|r, f| EntityKind::Table(Box::new(r.table(groups, f)))),
            b"RAY" | b"XLINE" => {
                fixed(self, &|_, f| EntityKind::Ray { start: f.p(0), direction: f.p(1), infinite: kind == b"XLINE" })
            }
            b"MESH" => {
                let mesh = self.mesh(groups);
                with_common(self, EntityKind::Mesh(Box::new(mesh)))
            }
            _ => {
                let name = String::from_utf8_lossy(&kind[..kind.len().min(64)]).into_owned();
                let name = if name.trim().is_empty() { "(unnamed)".to_owned() } else { name };
                *self.drawing.unsupported.entry(name).or_insert(0) += 1;
                return None;
            }
        })
    }

    fn lwpolyline(&mut self, groups: &[Group<'a>]) -> (LwPolyline, EntityCommon) {
        let mut p = LwPolyline { normal: Vec3::Z, ..LwPolyline::default() };
        let mut common = CommonGroups::default();
        for g in groups {
            if common.offer(g) {
                continue;
            }
            match g.code {
                10 => {
                    let x = self.real(g);
                    p.vertices.push(Vec2::new(x, 0.0));
                }
                20 => {
                    let y = self.real(g);
                    if let Some(v) = p.vertices.last_mut() {
                        v.y = y;
                    }
                }
                40 | 41 => {
                    let w = self.real(g);
                    // Widths before the first vertex are not per-vertex widths.
                    let Some(i) = p.vertices.len().checked_sub(1) else { continue };
                    if w != 0.0 || !p.widths.is_empty() {
                        p.widths.resize(p.vertices.len(), (0.0, 0.0));
                        if g.code == 40 {
                            p.widths[i].0 = w;
                        } else {
                            p.widths[i].1 = w;
                        }
                    }
                }
                42 => {
                    let b = self.real(g);
                    let Some(i) = p.vertices.len().checked_sub(1) else { continue };
                    if b != 0.0 || !p.bulges.is_empty() {
                        p.bulges.resize(p.vertices.len(), 0.0);
                        p.bulges[i] = b;
                    }
                }
                43 => p.constant_width = self.real(g),
                38 => p.elevation = self.real(g),
                70 => p.closed = self.int(g) & 1 != 0,
                210 => p.normal.x = self.real(g),
                220 => p.normal.y = self.real(g),
                230 => p.normal.z = self.real(g),
                1001 => break,
                _ => {}
            }
        }
        if !p.bulges.is_empty() {
            p.bulges.resize(p.vertices.len(), 0.0);
        }
        if !p.widths.is_empty() {
            p.widths.resize(p.vertices.len(), (0.0, 0.0));
        }
        let common = self.resolve_common(&common);
        (p, common)
    }

    /// The POLYLINE record itself; its vertices follow as records of their own.
    pub(super) fn polyline(&mut self, groups: &[Group<'a>]) -> Polyline {
        let f = self.fields(groups);
        let flags = f.i(70);
        let kind = if flags & 64 != 0 {
            PolylineKind::PolyfaceMesh
        } else if flags & 16 != 0 {
            PolylineKind::PolygonMesh {
                m: count(f.i(71)),
                n: count(f.i(72)),
                closed_m: flags & 1 != 0,
                closed_n: flags & 32 != 0,
            }
        } else if flags & 8 != 0 {
            PolylineKind::Polyline3d
        } else {
            PolylineKind::Polyline2d
        };
        Polyline {
            kind,
            closed: flags & 1 != 0,
            vertices: Vec::new(),
            faces: Vec::new(),
            default_start_width: f.r(40),
            default_end_width: f.r(41),
            elevation: f.p(0).z,
            normal: f.normal,
        }
    }

    /// Takes the VERTEX records (and the SEQEND) after a POLYLINE.
    pub(super) fn polyline_vertices(&mut self, mut polyline: Polyline, buf: &mut Vec<Group<'a>>) -> Polyline {
        while self.cursor.peek_record(&mut self.diag) == Some(b"VERTEX") {
            self.cursor.read_record(buf, &mut self.diag);
            self.count_record();
            let f = self.fields(buf);
            let flags = f.i(70).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
            // In a polyface mesh, a VERTEX flagged 128 without 64 is a face, not a point.
            if polyline.kind == PolylineKind::PolyfaceMesh && flags & 128 != 0 && flags & 64 == 0 {
                let index = |code| f.i(code).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
                polyline.faces.push([index(71), index(72), index(73), index(74)]);
                continue;
            }
            polyline.vertices.push(PolylineVertex {
                location: f.p(0),
                bulge: f.r(42),
                start_width: f.r_or(40, polyline.default_start_width),
                end_width: f.r_or(41, polyline.default_end_width),
                flags,
            });
        }
        if self.cursor.peek_record(&mut self.diag) == Some(b"SEQEND") {
            self.cursor.read_record(buf, &mut self.diag);
        }
        polyline
    }

    fn spline(&mut self, groups: &[Group<'a>]) -> Spline {
        let mut s = Spline::default();
        let mut normal = None::<Vec3>;
        let mut start_tangent = None::<Vec3>;
        let mut end_tangent = None::<Vec3>;
        for g in groups {
            match g.code {
                70 => s.flags = self.int32(g),
                71 => s.degree = self.int32(g),
                40 => s.knots.push(self.real(g)),
                41 => s.weights.push(self.real(g)),
                10 => s.control_points.push(Vec3::new(self.real(g), 0.0, 0.0)),
                20 => set_last(&mut s.control_points, |p| &mut p.y, self.real(g)),
                30 => set_last(&mut s.control_points, |p| &mut p.z, self.real(g)),
                11 => s.fit_points.push(Vec3::new(self.real(g), 0.0, 0.0)),
                21 => set_last(&mut s.fit_points, |p| &mut p.y, self.real(g)),
                31 => set_last(&mut s.fit_points, |p| &mut p.z, self.real(g)),
                12 | 22 | 32 => set_axis(start_tangent.get_or_insert(Vec3::ZERO), g.code, self.real(g)),
                13 | 23 | 33 => set_axis(end_tangent.get_or_insert(Vec3::ZERO), g.code, self.real(g)),
                210 | 220 | 230 => set_axis(normal.get_or_insert(Vec3::ZERO), g.code, self.real(g)),
                1001 => break,
                _ => {}
            }
        }
        if s.weights.iter().all(|w| *w == 1.0) || s.weights.len() != s.control_points.len() {
            s.weights.clear();
        }
        s.start_tangent = start_tangent;
        s.end_tangent = end_tangent;
        s.normal = normal;
        s
    }

    /// TEXT, or the text part of ATTRIB/ATTDEF (whose vertical alignment is group 74).
    fn text_from(&mut self, f: &Fields<'_, 'a>, valign_code: usize) -> Text {
        let raw = f.text1.unwrap_or_default();
        let text = decode_text_codes(&self.text(raw));
        let style = self.text_style_id(f.style7.unwrap_or_default());
        Text {
            text,
            insert: f.p(0),
            align_point: f.has_p(1).then(|| f.p(1)),
            height: f.r(40),
            rotation: f.r(50),
            width_factor: f.r_or(41, 1.0),
            oblique: f.r(51),
            style,
            halign: f.i16(72),
            valign: f.i16(valign_code),
            generation: f.i16(71),
            normal: f.normal,
        }
    }

    fn attribute_from(&mut self, f: &Fields<'_, 'a>, definition: bool) -> Attribute {
        let text = self.text_from(f, 74);
        let tag = self.text(f.name2.unwrap_or_default());
        let prompt = if definition { self.text(f.text3.unwrap_or_default()) } else { String::new() };
        Attribute { tag, prompt, flags: f.i16(70), text }
    }

    /// An ATTRIB record after an INSERT.
    pub(super) fn attribute(&mut self, groups: &[Group<'a>]) -> (Attribute, EntityCommon) {
        let f = self.fields(groups);
        let attribute = self.attribute_from(&f, false);
        (attribute, self.resolve_common(&f.common))
    }

    fn mtext(&mut self, groups: &[Group<'a>], f: &Fields<'_, 'a>) -> MText {
        // The text comes in 250-byte chunks: groups 3, then a final group 1. Decode the joined
        // bytes, so a multi-byte character split across chunks survives.
        let mut raw = Vec::new();
        let mut last = None;
        for g in groups {
            match g.code {
                3 => raw.extend_from_slice(g.raw()),
                1 if last.is_none() => last = Some(g.raw()),
                101 | 1001 => break,
                _ => {}
            }
        }
        raw.extend_from_slice(last.unwrap_or_default());
        let text = self.text(&raw);
        let style = self.text_style_id(f.style7.unwrap_or_default());
        let x_axis = if f.has_p(1) && !is_zero_vec(f.p(1)) {
            f.p(1)
        } else {
            let (s, c) = f.r(50).to_radians().sin_cos();
            Ocs::new(f.normal).to_wcs(Vec3::new(c, s, 0.0))
        };
        MText {
            content: parse_mtext(&text),
            insert: f.p(0),
            char_height: f.r(40),
            width: f.r(41),
            attachment: f.i16(71),
            direction_flag: f.i16(72),
            x_axis,
            line_spacing: f.r_or(44, 1.0),
            style,
            normal: f.normal,
        }
    }

    /// The INSERT record; its attributes follow as records of their own.
    pub(super) fn insert(&mut self, groups: &[Group<'a>]) -> (Insert, EntityCommon) {
        let f = self.fields(groups);
        let block = self.block_ref(f.name2.unwrap_or_default());
        let common = self.resolve_common(&f.common);
        let insert = Insert {
            block,
            insert: f.p(0),
            scale: Vec3::new(f.r_or(41, 1.0), f.r_or(42, 1.0), f.r_or(43, 1.0)),
            rotation: f.r(50),
            columns: count(f.i_or(70, 1)),
            rows: count(f.i_or(71, 1)),
            column_spacing: f.r(44),
            row_spacing: f.r(45),
            attributes: Vec::new(),
            normal: f.normal,
        };
        (insert, common)
    }

    fn dimension(&mut self, f: &Fields<'_, 'a>, kind: Option<DimensionKind>) -> Dimension {
        let type_flags = f.i(70);
        let kind = kind.unwrap_or(match type_flags & 0x0F {
            1 => DimensionKind::Aligned,
            2 => DimensionKind::Angular,
            3 => DimensionKind::Diameter,
            4 => DimensionKind::Radius,
            5 => DimensionKind::Angular3Point,
            6 => DimensionKind::Ordinate,
            _ => DimensionKind::Linear,
        });
        let block = f.name2.filter(|n| !n.trim_ascii().is_empty()).map(|n| self.block_ref(n));
        let style_name = self.text(f.text3.unwrap_or_default());
        let raw_text = self.text(f.text1.unwrap_or_default());
        // The override is MTEXT: keep its plain text.
        let text =
            if raw_text.contains('\\') || raw_text.contains('{') { parse_mtext(&raw_text).plain } else { raw_text };
        let mut dimension = Dimension {
            kind,
            flags: (type_flags & !0x0F).clamp(0, i64::from(i32::MAX)) as i32,
            block,
            style_name,
            text,
            measurement: f.has_r(42).then(|| f.r(42)),
            definition_point: f.p(0),
            text_midpoint: f.p(1),
            points: [f.p(3), f.p(4), f.p(5), f.p(6)],
            leader_length: f.r(40),
            rotation: f.r(50),
            text_rotation: f.r(53),
            normal: f.normal,
        };
        if dimension.measurement.is_none() {
            dimension.measurement = measure(&dimension);
        }
        dimension
    }

    fn leader(&mut self, groups: &[Group<'a>], f: &Fields<'_, 'a>) -> Leader {
        let mut vertices = Vec::new();
        for g in groups {
            match g.code {
                10 => vertices.push(Vec3::new(self.real(g), 0.0, 0.0)),
                20 => set_last(&mut vertices, |p| &mut p.y, self.real(g)),
                30 => set_last(&mut vertices, |p| &mut p.z, self.real(g)),
                1001 => break,
                _ => {}
            }
        }
        let style_name = self.text(f.text3.unwrap_or_default());
        Leader { vertices, arrowhead: f.i_or(71, 1) != 0, spline: f.i(72) == 1, style_name, normal: f.normal }
    }

    fn mleader(&mut self, groups: &[Group<'a>]) -> MLeader {
        #[derive(PartialEq)]
        enum At {
            Outside,
            Context,
            Leader,
            Line,
        }
        let mut m = MLeader::default();
        let mut at = At::Outside;
        let mut line: Vec<Vec3> = Vec::new();
        let mut leader_end: Option<Vec3> = None;
        let mut dogleg = Vec3::ZERO;
        let mut dogleg_length = 0.0;
        let mut leader_lines: Vec<Vec<Vec3>> = Vec::new();
        let mut text: Option<String> = None;
        let point = |target: &mut Option<Vec3>, code: i32, v: f64| set_axis(target.get_or_insert(Vec3::ZERO), code, v);
        for g in groups {
            match (g.code, &at) {
                (300, At::Outside) => at = At::Context,
                (302, At::Context) => {
                    at = At::Leader;
                    leader_end = None;
                    dogleg = Vec3::ZERO;
                    dogleg_length = 0.0;
                    leader_lines.clear();
                }
                (304, At::Leader) => {
                    at = At::Line;
                    line = Vec::new();
                }
                (305, At::Line) => {
                    at = At::Leader;
                    leader_lines.push(std::mem::take(&mut line));
                }
                (303, At::Leader) => {
                    at = At::Context;
                    for mut l in leader_lines.drain(..) {
                        l.extend(leader_end);
                        m.lines.push(l);
                    }
                    if let Some(end) = leader_end
                        && dogleg_length != 0.0
                    {
                        m.lines.push(vec![end, end.plus(dogleg.scale(dogleg_length))]);
                    }
                }
                (301, At::Context) => at = At::Outside,
                (10, At::Line) => line.push(Vec3::new(self.real(g), 0.0, 0.0)),
                (20, At::Line) => set_last(&mut line, |p| &mut p.y, self.real(g)),
                (30, At::Line) => set_last(&mut line, |p| &mut p.z, self.real(g)),
                (10 | 20 | 30, At::Leader) => point(&mut leader_end, g.code, self.real(g)),
                (11 | 21 | 31, At::Leader) => set_axis(&mut dogleg, g.code, self.real(g)),
                (40, At::Leader) => dogleg_length = self.real(g),
                (304, At::Context) => text = Some(self.text(g.raw())),
                (41, At::Context) => m.text_height = self.real(g),
                (140, At::Context) => m.arrowhead_size = self.real(g),
                (12 | 22 | 32, At::Context) => point(&mut m.text_location, g.code, self.real(g)),
                (15 | 25 | 35, At::Context) => point(&mut m.block_location, g.code, self.real(g)),
                (341, At::Context) => m.block_handle = g.handle().filter(|h| *h != 0),
                (1001, _) => break,
                _ => {}
            }
        }
        // An unclosed leader still shows what was read.
        if !line.is_empty() {
            leader_lines.push(line);
        }
        m.lines.extend(leader_lines.into_iter().filter(|l| !l.is_empty()));
        m.text = text.filter(|t| !t.is_empty()).map(|t| parse_mtext(&t));
        m
    }

    fn image(&mut self, groups: &[Group<'a>], f: &Fields<'_, 'a>, wipeout: bool) -> Image {
        let mut clip = Vec::new();
        for g in groups {
            match g.code {
                14 => clip.push(Vec2::new(self.real(g), 0.0)),
                24 => {
                    let y = self.real(g);
                    if let Some(p) = clip.last_mut() {
                        p.y = y;
                    }
                }
                1001 => break,
                _ => {}
            }
        }
        let image_def = groups.iter().find(|g| g.code == 340).and_then(Group::handle);
        Image {
            wipeout,
            insert: f.p(0),
            u_vector: f.p(1),
            v_vector: f.p(2),
            size: f.p(3).xy(),
            image_def,
            clip,
            display_flags: f.i(70) as i32,
        }
    }

    fn viewport(&mut self, groups: &[Group<'a>], f: &Fields<'_, 'a>) -> Viewport {
        let mut frozen_layers = Vec::new();
        let mut status = 0;
        let mut clip_boundary = 0;
        for g in groups {
            match g.code {
                331 | 341 => frozen_layers.extend(g.handle()),
                340 => clip_boundary = g.handle().unwrap_or(0),
                90 => status = self.int32(g),
                1001 => break,
                _ => {}
            }
        }
        Viewport {
            center: f.p(0),
            width: f.r(40),
            height: f.r(41),
            id: f.i(69).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
            view_center: f.p(2).xy(),
            view_target: f.p(7),
            view_direction: if f.has_p(6) { f.p(6) } else { Vec3::Z },
            view_height: f.r(45),
            twist_angle: f.r(51),
            status,
            frozen_layers,
            clip_boundary,
        }
    }

    fn table(&mut self, groups: &[Group<'a>], f: &Fields<'_, 'a>) -> Table {
        let block = f.name2.filter(|n| !n.trim_ascii().is_empty()).map(|n| self.block_ref(n));
        let (mut rows, mut columns) = (None, None);
        let mut cells = Vec::new();
        for g in groups {
            match g.code {
                91 if rows.is_none() => rows = Some(count(g.i64().unwrap_or(1))),
                92 if columns.is_none() => columns = Some(count(g.i64().unwrap_or(1))),
                1 | 302 => {
                    let text = self.text(g.raw());
                    if !text.is_empty() && !text.ends_with('{') && text != "}" {
                        let plain = parse_mtext(&text).plain;
                        cells.push(plain);
                    }
                }
                1001 => break,
                _ => {}
            }
        }
        Table { block, insert: f.p(0), rows: rows.unwrap_or(1), columns: columns.unwrap_or(1), cells }
    }

    fn mesh(&mut self, groups: &[Group<'a>]) -> Mesh {
        #[derive(PartialEq)]
        enum List {
            None,
            Faces,
            Other,
        }
        let mut mesh = Mesh::default();
        let mut list = List::None;
        let mut face_left = 0usize;
        for g in groups {
            match g.code {
                91 => mesh.subdivision_level = self.int32(g),
                92 => list = List::None,
                93 => list = List::Faces,
                94 | 95 => list = List::Other,
                10 => mesh.vertices.push(Vec3::new(self.real(g), 0.0, 0.0)),
                20 => set_last(&mut mesh.vertices, |p| &mut p.y, self.real(g)),
                30 => set_last(&mut mesh.vertices, |p| &mut p.z, self.real(g)),
                90 if list == List::Faces => {
                    let v = self.int(g).max(0) as usize;
                    if face_left == 0 {
                        face_left = v;
                        mesh.faces.push(Vec::new());
                    } else {
                        face_left -= 1;
                        if let Some(face) = mesh.faces.last_mut() {
                            face.push(v.min(u32::MAX as usize) as u32);
                        }
                    }
                }
                1001 => break,
                _ => {}
            }
        }
        mesh.faces.retain(|f| !f.is_empty());
        mesh
    }
}

/// Sets the y or z of the last point of a list built from repeated 10/20/30 groups; a 20 or 30
/// before any 10 is ignored.
fn set_last(points: &mut [Vec3], axis: impl Fn(&mut Vec3) -> &mut f64, v: f64) {
    if let Some(p) = points.last_mut() {
        *axis(p) = v;
    }
}

/// Sets the axis a coordinate group code names: 1x → x, 2x → y, 3x → z (and 21x/22x/23x).
fn set_axis(p: &mut Vec3, code: i32, v: f64) {
    match (code / 10) % 10 {
        1 => p.x = v,
        2 => p.y = v,
        _ => p.z = v,
    }
}

/// The measurement of a dimension from its definition points, for files (R12) that do not store
/// it. Angles in radians, as group 42 has them.
fn measure(d: &Dimension) -> Option<f64> {
    let [p13, p14, p15, _] = d.points;
    let v = match d.kind {
        DimensionKind::Linear => {
            let (s, c) = d.rotation.to_radians().sin_cos();
            (p14.minus(p13)).dot(Vec3::new(c, s, 0.0)).abs()
        }
        DimensionKind::Aligned => p14.minus(p13).length(),
        DimensionKind::Diameter => p15.minus(d.definition_point).length(),
        DimensionKind::Radius | DimensionKind::LargeRadial => p15.minus(d.definition_point).length(),
        DimensionKind::Angular3Point => angle_between(p13.minus(p15), p14.minus(p15)),
        DimensionKind::Angular => angle_between(p14.minus(p13), d.definition_point.minus(p15)),
        DimensionKind::Ordinate => {
            let delta = p13.minus(d.definition_point);
            if d.flags & 64 != 0 { delta.x.abs() } else { delta.y.abs() }
        }
        DimensionKind::ArcLength => return None,
    };
    v.is_finite().then_some(v)
}

fn angle_between(a: Vec3, b: Vec3) -> f64 {
    let cos = a.dot(b) / (a.length() * b.length());
    cos.clamp(-1.0, 1.0).acos()
}
