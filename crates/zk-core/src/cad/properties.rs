//! What the viewer shows for a picked entity: its common properties and the geometry that matters
//! for its kind, as names and display values in drawing units (angles in degrees).

use serde::Serialize;
use zk_cad::entity::{Entity, EntityKind, format_measurement};
use zk_cad::geometry::{Vec2, Vec3};
use zk_cad::model::LinetypeRef;
use zk_cad::{Color, Drawing};

/// One property of an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CadProperty {
    pub name: String,
    pub value: String,
}

/// A picked entity: `owner` is its index in the layout's entity order, as the scene's owners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CadEntityView {
    pub owner: u32,
    /// The DXF type: `LINE`, `INSERT`…
    #[serde(rename = "type")]
    #[ts(rename = "type")]
    pub kind: String,
    /// Hexadecimal, as CAD programs show it; empty when the file has none (old R12 files).
    pub handle: String,
    pub layer: String,
    /// `ByLayer`, `ByBlock`, `7 (#FFFFFF)` for an ACI colour, or `#RRGGBB`.
    pub color: String,
    pub linetype: String,
    /// `ByLayer`, `ByBlock`, `Default` or millimetres.
    pub lineweight: String,
    pub properties: Vec<CadProperty>,
}

fn number(v: f64) -> String {
    format_measurement(v)
}

fn point(p: Vec3) -> String {
    if p.z == 0.0 {
        format!("{}, {}", number(p.x), number(p.y))
    } else {
        format!("{}, {}, {}", number(p.x), number(p.y), number(p.z))
    }
}

fn point2(p: Vec2) -> String {
    format!("{}, {}", number(p.x), number(p.y))
}

pub fn color_name(color: Color) -> String {
    match color {
        Color::ByLayer => "ByLayer".to_owned(),
        Color::ByBlock => "ByBlock".to_owned(),
        Color::Aci(i) => format!("{i} (#{:06X})", Color::Aci(i).rgb().unwrap_or_default()),
        Color::Rgb(rgb) => format!("#{:06X}", rgb & 0xFF_FFFF),
    }
}

fn lineweight_name(lineweight: i16) -> String {
    match lineweight {
        -1 => "ByLayer".to_owned(),
        -2 => "ByBlock".to_owned(),
        w if w < 0 => "Default".to_owned(),
        w => format!("{} mm", number(f64::from(w) / 100.0)),
    }
}

fn linetype_name(drawing: &Drawing, linetype: LinetypeRef) -> String {
    match linetype {
        LinetypeRef::ByLayer => "ByLayer".to_owned(),
        LinetypeRef::ByBlock => "ByBlock".to_owned(),
        LinetypeRef::Named(id) => drawing.linetype(id).map(|l| l.name.clone()).unwrap_or_default(),
    }
}

/// Collects properties in the order the viewer lists them.
struct Properties(Vec<CadProperty>);

impl Properties {
    fn add(&mut self, name: &str, value: impl Into<String>) {
        self.0.push(CadProperty { name: name.to_owned(), value: value.into() });
    }
}

/// The sweep of an arc from `start` to `end` degrees, counter-clockwise, in (0, 360].
fn sweep_degrees(start: f64, end: f64) -> f64 {
    let sweep = (end - start).rem_euclid(360.0);
    if sweep == 0.0 { 360.0 } else { sweep }
}

/// The length of a 2D polyline with bulges (arcs) between its vertices, and its area when closed
/// and straight-sided (the shoelace formula; bulged outlines leave the area out).
fn polyline_measures(vertices: &[Vec2], bulge: impl Fn(usize) -> f64, closed: bool) -> (f64, Option<f64>) {
    let n = vertices.len();
    let segments = if closed { n } else { n.saturating_sub(1) };
    let mut length = 0.0;
    let mut straight = true;
    for i in 0..segments {
        let (a, b) = (vertices[i], vertices[(i + 1) % n]);
        let chord = ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
        let k = bulge(i);
        if k == 0.0 {
            length += chord;
        } else {
            straight = false;
            // The bulge is tan(θ/4): the arc spans θ, with radius chord / (2 sin(θ/2)).
            let theta = 4.0 * k.atan();
            let half = (theta / 2.0).sin().abs();
            length += if half > 1e-12 { chord / (2.0 * half) * theta.abs() } else { chord };
        }
    }
    let area = (closed && straight && n >= 3).then(|| {
        let twice: f64 =
            (0..n).map(|i| vertices[i].x * vertices[(i + 1) % n].y - vertices[(i + 1) % n].x * vertices[i].y).sum();
        twice.abs() / 2.0
    });
    (length, area)
}

/// The entity at `owner` of a layout, described.
pub fn describe(drawing: &Drawing, entity: &Entity, owner: u32) -> CadEntityView {
    let common = &entity.common;
    let mut p = Properties(Vec::new());
    describe_kind(drawing, &entity.kind, &mut p);
    if common.invisible {
        p.add("Visible", "no");
    }
    if common.linetype_scale != 1.0 && common.linetype_scale.is_finite() {
        p.add("Linetype scale", number(f64::from(common.linetype_scale)));
    }
    CadEntityView {
        owner,
        kind: entity.kind.dxf_name().to_owned(),
        handle: if common.handle == 0 { String::new() } else { format!("{:X}", common.handle) },
        layer: drawing.layer(common.layer).map(|l| l.name.clone()).unwrap_or_default(),
        color: color_name(common.color),
        linetype: linetype_name(drawing, common.linetype),
        lineweight: lineweight_name(common.lineweight),
        properties: p.0,
    }
}

fn describe_kind(drawing: &Drawing, kind: &EntityKind, p: &mut Properties) {
    match kind {
        EntityKind::Line { start, end } => {
            p.add("Start", point(*start));
            p.add("End", point(*end));
            p.add("Length", number(end.minus(*start).length()));
            let angle = (end.y - start.y).atan2(end.x - start.x).to_degrees().rem_euclid(360.0);
            p.add("Angle", number(angle));
        }
        EntityKind::Point { location } => p.add("Location", point(*location)),
        EntityKind::Circle { center, radius, .. } => {
            p.add("Centre", point(*center));
            p.add("Radius", number(*radius));
            p.add("Diameter", number(radius * 2.0));
            p.add("Circumference", number(std::f64::consts::TAU * radius));
            p.add("Area", number(std::f64::consts::PI * radius * radius));
        }
        EntityKind::Arc(a) => {
            let sweep = sweep_degrees(a.start_angle, a.end_angle);
            p.add("Centre", point(a.center));
            p.add("Radius", number(a.radius));
            p.add("Start angle", number(a.start_angle));
            p.add("End angle", number(a.end_angle));
            p.add("Total angle", number(sweep));
            p.add("Arc length", number(a.radius * sweep.to_radians()));
        }
        EntityKind::Ellipse(e) => {
            let major = e.major_axis.length();
            p.add("Centre", point(e.center));
            p.add("Major radius", number(major));
            p.add("Minor radius", number(major * e.ratio));
            p.add("Ratio", number(e.ratio));
            p.add("Start angle", number(e.start.to_degrees()));
            p.add("End angle", number(e.end.to_degrees()));
        }
        EntityKind::LwPolyline(l) => {
            let (length, area) = polyline_measures(&l.vertices, |i| l.bulge(i), l.closed);
            p.add("Vertices", l.vertices.len().to_string());
            p.add("Closed", if l.closed { "yes" } else { "no" });
            p.add("Length", number(length));
            if let Some(area) = area {
                p.add("Area", number(area));
            }
            if l.constant_width != 0.0 {
                p.add("Width", number(l.constant_width));
            }
            if l.elevation != 0.0 {
                p.add("Elevation", number(l.elevation));
            }
        }
        EntityKind::Polyline(l) => {
            let vertices: Vec<Vec2> = l.vertices.iter().map(|v| Vec2::new(v.location.x, v.location.y)).collect();
            p.add("Kind", format!("{:?}", l.kind));
            p.add("Vertices", l.vertices.len().to_string());
            p.add("Closed", if l.closed { "yes" } else { "no" });
            if matches!(l.kind, zk_cad::entity::PolylineKind::Polyline2d) {
                let (length, area) =
                    polyline_measures(&vertices, |i| l.vertices.get(i).map_or(0.0, |v| v.bulge), l.closed);
                p.add("Length", number(length));
                if let Some(area) = area {
                    p.add("Area", number(area));
                }
            }
        }
        EntityKind::Spline(s) => {
            p.add("Degree", s.degree.to_string());
            p.add("Control points", s.control_points.len().to_string());
            p.add("Fit points", s.fit_points.len().to_string());
            p.add("Closed", if s.closed() { "yes" } else { "no" });
        }
        EntityKind::Text(t) => {
            p.add("Text", t.text.clone());
            p.add("Position", point(t.insert));
            p.add("Height", number(t.height));
            p.add("Rotation", number(t.rotation));
            p.add("Style", drawing.text_style(t.style).map(|s| s.name.clone()).unwrap_or_default());
        }
        EntityKind::MText(m) => {
            p.add("Text", m.content.plain.clone());
            p.add("Position", point(m.insert));
            p.add("Height", number(m.char_height));
            if m.width > 0.0 {
                p.add("Width", number(m.width));
            }
            p.add("Rotation", number(m.x_axis.y.atan2(m.x_axis.x).to_degrees().rem_euclid(360.0)));
            p.add("Style", drawing.text_style(m.style).map(|s| s.name.clone()).unwrap_or_default());
        }
        EntityKind::Attribute(a) | EntityKind::AttributeDefinition(a) => {
            p.add("Tag", a.tag.clone());
            p.add("Value", a.text.text.clone());
            if !a.prompt.is_empty() {
                p.add("Prompt", a.prompt.clone());
            }
            p.add("Position", point(a.text.insert));
            p.add("Height", number(a.text.height));
        }
        EntityKind::Insert(i) => {
            p.add("Block", drawing.block(i.block).map(|b| b.name.clone()).unwrap_or_default());
            p.add("Position", point(i.insert));
            p.add("Scale", point(i.scale));
            p.add("Rotation", number(i.rotation));
            if i.columns > 1 || i.rows > 1 {
                p.add("Array", format!("{} × {}", i.columns, i.rows));
                p.add("Spacing", format!("{}, {}", number(i.column_spacing), number(i.row_spacing)));
            }
            for attribute in &i.attributes {
                if let EntityKind::Attribute(a) = &attribute.kind {
                    p.add(&format!("Attribute {}", a.tag), a.text.text.clone());
                }
            }
        }
        EntityKind::Dimension(d) => {
            let angular =
                matches!(d.kind, zk_cad::entity::DimensionKind::Angular | zk_cad::entity::DimensionKind::Angular3Point);
            p.add("Kind", format!("{:?}", d.kind));
            if let Some(m) = d.measurement {
                p.add("Measurement", if angular { format!("{}°", number(m.to_degrees())) } else { number(m) });
            }
            p.add("Text", d.display_text());
            if !d.style_name.is_empty() {
                p.add("Style", d.style_name.clone());
            }
            if let Some(block) = d.block.and_then(|b| drawing.block(b)) {
                p.add("Block", block.name.clone());
            }
        }
        EntityKind::Leader(l) => {
            p.add("Vertices", l.vertices.len().to_string());
            p.add("Arrowhead", if l.arrowhead { "yes" } else { "no" });
        }
        EntityKind::MLeader(m) => {
            if let Some(text) = &m.text {
                p.add("Text", text.plain.clone());
            }
            p.add("Leaders", m.lines.len().to_string());
        }
        EntityKind::Hatch(h) => {
            p.add("Pattern", if h.solid { "SOLID".to_owned() } else { h.pattern_name.clone() });
            p.add("Boundaries", h.paths.len().to_string());
            if !h.solid {
                p.add("Pattern scale", number(h.pattern_scale));
                p.add("Pattern angle", number(h.pattern_angle));
            }
            p.add("Associative", if h.associative { "yes" } else { "no" });
        }
        EntityKind::Solid(s) => {
            for (i, corner) in s.corners.iter().enumerate() {
                p.add(&format!("Corner {}", i + 1), point(*corner));
            }
        }
        EntityKind::Face3d(f) => {
            for (i, corner) in f.corners.iter().enumerate() {
                p.add(&format!("Corner {}", i + 1), point(*corner));
            }
        }
        EntityKind::Image(i) => {
            p.add("Position", point(i.insert));
            p.add("Size in pixels", point2(i.size));
            if let Some(def) = i.image_def.and_then(|h| drawing.image_defs.iter().find(|d| d.handle == h)) {
                p.add("File", def.file_name.clone());
            }
        }
        EntityKind::Viewport(v) => {
            p.add("Centre", point(v.center));
            p.add("Width", number(v.width));
            p.add("Height", number(v.height));
            p.add("View centre", point2(v.view_center));
            p.add("View height", number(v.view_height));
            if v.view_height > 0.0 && v.height > 0.0 {
                p.add("Scale", format!("1:{}", number(v.view_height / v.height)));
            }
        }
        EntityKind::Table(t) => {
            p.add("Position", point(t.insert));
            p.add("Rows", t.rows.to_string());
            p.add("Columns", t.columns.to_string());
        }
        EntityKind::Ray { start, direction, .. } => {
            p.add("Start", point(*start));
            p.add("Direction", point(*direction));
        }
        EntityKind::Mesh(m) => {
            p.add("Vertices", m.vertices.len().to_string());
            p.add("Faces", m.faces.len().to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn read(dxf: &str) -> Drawing {
        zk_cad::read(dxf.as_bytes(), &zk_cad::ReadOptions::default()).unwrap().0
    }

    #[test]
    fn a_line_has_its_ends_length_and_angle() {
        let drawing = read(
            "0\nSECTION\n2\nENTITIES\n0\nLINE\n5\n2A\n8\nWalls\n62\n1\n10\n0\n20\n0\n11\n30\n21\n40\n0\nENDSEC\n0\nEOF\n",
        );
        let view = describe(&drawing, &drawing.entities[0], 0);
        assert_eq!((view.kind.as_str(), view.handle.as_str(), view.layer.as_str()), ("LINE", "2A", "Walls"));
        assert_eq!(view.color, "1 (#FF0000)");
        assert_eq!(view.lineweight, "ByLayer");
        let get = |name: &str| view.properties.iter().find(|p| p.name == name).map(|p| p.value.clone());
        assert_eq!(get("Start").as_deref(), Some("0, 0"));
        assert_eq!(get("End").as_deref(), Some("30, 40"));
        assert_eq!(get("Length").as_deref(), Some("50"));
    }

    #[test]
    fn polylines_measure_arcs_and_closed_areas() {
        let square = [Vec2::new(0.0, 0.0), Vec2::new(10.0, 0.0), Vec2::new(10.0, 10.0), Vec2::new(0.0, 10.0)];
        let (length, area) = polyline_measures(&square, |_| 0.0, true);
        assert_eq!((length, area), (40.0, Some(100.0)));
        // A half circle of radius 5: bulge 1 between two points 10 apart.
        let (length, area) = polyline_measures(&square[..2], |_| 1.0, false);
        assert!((length - 5.0 * std::f64::consts::PI).abs() < 1e-9, "{length}");
        assert_eq!(area, None);
    }
}
