//! Entities: the drawable things in ENTITIES and in block definitions.
//!
//! Small entities are stored inline; large ones are boxed so that a drawing of a million LINEs
//! costs about a hundred bytes per line. Angles are in degrees as the file has them. 2D entities
//! keep their coordinates in their Object Coordinate System and carry the extrusion direction
//! (`normal`) that defines it (see [`crate::geometry::Ocs`]).

use crate::color::Color;
use crate::geometry::{Vec2, Vec3};
use crate::model::{BlockId, LayerId, LinetypeRef, TextStyleId};
use crate::mtext::MTextContent;

#[derive(Clone, Debug, PartialEq)]
pub struct Entity {
    pub common: EntityCommon,
    pub kind: EntityKind,
}

/// Properties every entity has.
#[derive(Clone, Debug, PartialEq)]
pub struct EntityCommon {
    /// Group 5 (hex); 0 when the file has none (R12 files may omit handles).
    pub handle: u64,
    pub layer: LayerId,
    pub linetype: LinetypeRef,
    pub color: Color,
    /// Group 370 in hundredths of a millimetre; -1 BYLAYER, -2 BYBLOCK, -3 default.
    pub lineweight: i16,
    /// Group 48.
    pub linetype_scale: f32,
    /// Group 440 (0x020000TT: alpha TT); 0 when not set, i.e. by layer.
    pub transparency: u32,
    /// Group 67: paper space.
    pub paper_space: bool,
    /// Group 60: not drawn.
    pub invisible: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EntityKind {
    Line {
        start: Vec3,
        end: Vec3,
    },
    Point {
        location: Vec3,
    },
    Circle {
        center: Vec3,
        radius: f64,
        normal: Vec3,
    },
    Arc(Box<Arc>),
    Ellipse(Box<Ellipse>),
    LwPolyline(Box<LwPolyline>),
    Polyline(Box<Polyline>),
    Spline(Box<Spline>),
    Text(Box<Text>),
    MText(Box<MText>),
    /// ATTRIB: an attribute's value, held by its INSERT (`Insert::attributes`).
    Attribute(Box<Attribute>),
    /// ATTDEF in a block definition: the template of an attribute.
    AttributeDefinition(Box<Attribute>),
    Insert(Box<Insert>),
    Dimension(Box<Dimension>),
    Leader(Box<Leader>),
    MLeader(Box<MLeader>),
    Hatch(Box<Hatch>),
    /// SOLID and TRACE.
    Solid(Box<Solid>),
    Face3d(Box<Face3d>),
    /// IMAGE and WIPEOUT: a raster reference or a masking polygon.
    Image(Box<Image>),
    Viewport(Box<Viewport>),
    Table(Box<Table>),
    /// RAY (one-sided) and XLINE (infinite both ways).
    Ray {
        start: Vec3,
        direction: Vec3,
        infinite: bool,
    },
    Mesh(Box<Mesh>),
}

impl EntityKind {
    /// The DXF type name the entity was read from.
    pub fn dxf_name(&self) -> &'static str {
        match self {
            EntityKind::Line { .. } => "LINE",
            EntityKind::Point { .. } => "POINT",
            EntityKind::Circle { .. } => "CIRCLE",
            EntityKind::Arc(_) => "ARC",
            EntityKind::Ellipse(_) => "ELLIPSE",
            EntityKind::LwPolyline(_) => "LWPOLYLINE",
            EntityKind::Polyline(_) => "POLYLINE",
            EntityKind::Spline(_) => "SPLINE",
            EntityKind::Text(_) => "TEXT",
            EntityKind::MText(_) => "MTEXT",
            EntityKind::Attribute(_) => "ATTRIB",
            EntityKind::AttributeDefinition(_) => "ATTDEF",
            EntityKind::Insert(_) => "INSERT",
            EntityKind::Dimension(d) => d.dxf_name(),
            EntityKind::Leader(_) => "LEADER",
            EntityKind::MLeader(_) => "MULTILEADER",
            EntityKind::Hatch(_) => "HATCH",
            EntityKind::Solid(s) if s.trace => "TRACE",
            EntityKind::Solid(_) => "SOLID",
            EntityKind::Face3d(_) => "3DFACE",
            EntityKind::Image(i) if i.wipeout => "WIPEOUT",
            EntityKind::Image(_) => "IMAGE",
            EntityKind::Viewport(_) => "VIEWPORT",
            EntityKind::Table(_) => "ACAD_TABLE",
            EntityKind::Ray { infinite: false, .. } => "RAY",
            EntityKind::Ray { infinite: true, .. } => "XLINE",
            EntityKind::Mesh(_) => "MESH",
        }
    }
}

/// A circular arc in its OCS, counter-clockwise from `start_angle` to `end_angle` (degrees).
#[derive(Clone, Debug, PartialEq)]
pub struct Arc {
    pub center: Vec3,
    pub radius: f64,
    pub start_angle: f64,
    pub end_angle: f64,
    pub normal: Vec3,
}

/// In world coordinates; `start`/`end` are parameters in radians, 0..2π for a full ellipse.
#[derive(Clone, Debug, PartialEq)]
pub struct Ellipse {
    pub center: Vec3,
    /// From the centre to the end of the major axis.
    pub major_axis: Vec3,
    /// Minor axis length over major axis length.
    pub ratio: f64,
    pub start: f64,
    pub end: f64,
    pub normal: Vec3,
}

/// SOLID or TRACE: a filled triangle or quadrilateral in its OCS. The corners are in the file's
/// order, 1-2-4-3 around the outline (a triangle repeats its third corner).
#[derive(Clone, Debug, PartialEq)]
pub struct Solid {
    pub corners: [Vec3; 4],
    pub normal: Vec3,
    pub trace: bool,
}

/// 3DFACE: a triangle or quadrilateral in world coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct Face3d {
    pub corners: [Vec3; 4],
    /// Group 70: bit i set means edge i is not drawn.
    pub invisible_edges: u8,
}

/// LWPOLYLINE: 2D vertices in its OCS. Bulges and widths are stored only when some vertex has
/// one (most polylines have neither), and then have one entry per vertex.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LwPolyline {
    pub vertices: Vec<Vec2>,
    /// tan(θ/4) of the arc from vertex i to i+1; empty when every segment is straight.
    pub bulges: Vec<f64>,
    /// (start width, end width) per vertex; empty when no vertex has its own width.
    pub widths: Vec<(f64, f64)>,
    pub constant_width: f64,
    pub closed: bool,
    pub elevation: f64,
    pub normal: Vec3,
}

impl LwPolyline {
    pub fn bulge(&self, i: usize) -> f64 {
        self.bulges.get(i).copied().unwrap_or(0.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolylineKind {
    /// 2D polyline in its OCS (bulges and widths apply).
    Polyline2d,
    Polyline3d,
    /// An M×N grid of vertices.
    PolygonMesh {
        m: u32,
        n: u32,
        closed_m: bool,
        closed_n: bool,
    },
    /// Vertices followed by faces that index them.
    PolyfaceMesh,
}

/// POLYLINE with its VERTEX records (SEQEND is consumed).
#[derive(Clone, Debug, PartialEq)]
pub struct Polyline {
    pub kind: PolylineKind,
    pub closed: bool,
    pub vertices: Vec<PolylineVertex>,
    /// Polyface faces: 1-based vertex indices, negative for an invisible edge, 0 for unused.
    pub faces: Vec<[i32; 4]>,
    pub default_start_width: f64,
    pub default_end_width: f64,
    pub elevation: f64,
    pub normal: Vec3,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PolylineVertex {
    pub location: Vec3,
    pub bulge: f64,
    pub start_width: f64,
    pub end_width: f64,
    /// Group 70 of the VERTEX (curve-fit, spline frame, …).
    pub flags: i32,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spline {
    pub degree: i32,
    /// Group 70: 1 closed, 2 periodic, 4 rational, 8 planar, 16 linear.
    pub flags: i32,
    pub knots: Vec<f64>,
    pub control_points: Vec<Vec3>,
    /// Empty when the spline is not rational (all weights 1).
    pub weights: Vec<f64>,
    pub fit_points: Vec<Vec3>,
    pub start_tangent: Option<Vec3>,
    pub end_tangent: Option<Vec3>,
    pub normal: Option<Vec3>,
}

impl Spline {
    pub fn closed(&self) -> bool {
        self.flags & 1 != 0
    }
}

/// TEXT, and the text part of ATTRIB/ATTDEF.
#[derive(Clone, Debug, PartialEq)]
pub struct Text {
    /// With `%%` control codes replaced.
    pub text: String,
    pub insert: Vec3,
    /// Group 11: used instead of `insert` when the alignment is not left/baseline.
    pub align_point: Option<Vec3>,
    pub height: f64,
    pub rotation: f64,
    pub width_factor: f64,
    pub oblique: f64,
    pub style: TextStyleId,
    /// Group 72: 0 left, 1 centre, 2 right, 3 aligned, 4 middle, 5 fit.
    pub halign: i16,
    /// Group 73 (74 in ATTRIB/ATTDEF): 0 baseline, 1 bottom, 2 middle, 3 top.
    pub valign: i16,
    /// Group 71: 2 mirrored in X, 4 mirrored in Y.
    pub generation: i16,
    pub normal: Vec3,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MText {
    pub content: MTextContent,
    pub insert: Vec3,
    pub char_height: f64,
    /// Group 41: the wrapping width, 0 for none.
    pub width: f64,
    /// Group 71: 1 top-left … 9 bottom-right.
    pub attachment: i16,
    /// Group 72: 1 left to right, 3 top to bottom, 5 by style.
    pub direction_flag: i16,
    /// The text's x axis in world coordinates (group 11, or from the rotation group 50).
    pub x_axis: Vec3,
    pub line_spacing: f64,
    pub style: TextStyleId,
    pub normal: Vec3,
}

/// ATTRIB (inside an INSERT) or ATTDEF (inside a block).
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub tag: String,
    /// ATTDEF only: what the user is asked.
    pub prompt: String,
    /// Group 70: 1 invisible, 2 constant, 4 verify, 8 preset.
    pub flags: i16,
    pub text: Text,
}

impl Attribute {
    pub fn invisible(&self) -> bool {
        self.flags & 1 != 0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Insert {
    pub block: BlockId,
    pub insert: Vec3,
    pub scale: Vec3,
    pub rotation: f64,
    /// MINSERT arrays: counts are at least 1.
    pub columns: u32,
    pub rows: u32,
    pub column_spacing: f64,
    pub row_spacing: f64,
    /// The ATTRIB entities that followed the INSERT (kind [`EntityKind::Attribute`]), with their
    /// own layer and colour; their positions are in the INSERT's coordinate system, not the block's.
    pub attributes: Vec<Entity>,
    pub normal: Vec3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DimensionKind {
    Linear,
    Aligned,
    Angular,
    Diameter,
    Radius,
    Angular3Point,
    Ordinate,
    ArcLength,
    LargeRadial,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Dimension {
    pub kind: DimensionKind,
    /// Group 70 above the type bits: 32 block used by this dimension only, 64 ordinate x-type, 128 custom text position.
    pub flags: i32,
    /// The anonymous block (`*D…`) that draws it; `None` when the file names none.
    pub block: Option<BlockId>,
    pub style_name: String,
    /// Group 1: the text override; empty means the measurement, `<>` stands for it.
    pub text: String,
    /// Group 42 (computed from the definition points when missing); radians for angular kinds.
    pub measurement: Option<f64>,
    pub definition_point: Vec3,
    pub text_midpoint: Vec3,
    /// Groups 13–16: the definition points that the kind gives meaning to.
    pub points: [Vec3; 4],
    pub leader_length: f64,
    pub rotation: f64,
    pub text_rotation: f64,
    pub normal: Vec3,
}

impl Dimension {
    fn dxf_name(&self) -> &'static str {
        match self.kind {
            DimensionKind::ArcLength => "ARC_DIMENSION",
            DimensionKind::LargeRadial => "LARGE_RADIAL_DIMENSION",
            _ => "DIMENSION",
        }
    }

    /// The text as displayed: the override with `<>` replaced by the measurement, or the
    /// measurement itself (MTEXT codes already stripped).
    pub fn display_text(&self) -> String {
        let angular = matches!(self.kind, DimensionKind::Angular | DimensionKind::Angular3Point);
        let measured = match self.measurement {
            Some(m) if angular => format_measurement(m.to_degrees()) + "°",
            Some(m) => format_measurement(m),
            None => String::new(),
        };
        match self.text.as_str() {
            "" | "<>" => measured,
            " " => String::new(),
            t if t.contains("<>") => t.replace("<>", &measured),
            t => t.to_owned(),
        }
    }
}

/// A measurement with trailing zeros removed (4 decimals at most): `12.5`, `90`.
pub fn format_measurement(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_owned() } else { s.to_owned() }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Leader {
    pub vertices: Vec<Vec3>,
    pub arrowhead: bool,
    /// Group 72: drawn as a spline rather than straight segments.
    pub spline: bool,
    pub style_name: String,
    pub normal: Vec3,
}

/// MULTILEADER: leader lines and their content (MTEXT or a block).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MLeader {
    pub lines: Vec<Vec<Vec3>>,
    pub text: Option<MTextContent>,
    pub text_location: Option<Vec3>,
    pub text_height: f64,
    /// Handle of the block shown as content (group 344 in the context data), when it is one.
    pub block_handle: Option<u64>,
    pub block_location: Option<Vec3>,
    pub arrowhead_size: f64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hatch {
    pub pattern_name: String,
    pub solid: bool,
    pub associative: bool,
    /// Group 75: 0 odd parity (normal), 1 outermost, 2 ignore islands.
    pub style: i16,
    /// Group 76: 0 user-defined, 1 predefined, 2 custom.
    pub pattern_type: i16,
    pub pattern_angle: f64,
    pub pattern_scale: f64,
    pub pattern_double: bool,
    pub pattern_lines: Vec<PatternLine>,
    pub paths: Vec<BoundaryPath>,
    /// Z of the hatch plane in its OCS.
    pub elevation: f64,
    pub normal: Vec3,
    /// Group 450/470: a gradient fill instead of a pattern.
    pub gradient: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PatternLine {
    pub angle: f64,
    pub base: Vec2,
    pub offset: Vec2,
    /// Dash lengths: positive drawn, negative gaps, 0 dots.
    pub dashes: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BoundaryPath {
    /// Group 92: 1 external, 2 polyline, 4 derived, 16 outermost…
    pub flags: i32,
    pub edges: BoundaryEdges,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BoundaryEdges {
    Polyline { vertices: Vec<Vec2>, bulges: Vec<f64>, closed: bool },
    Edges(Vec<HatchEdge>),
}

/// An edge of a hatch boundary, in the hatch's OCS.
#[derive(Clone, Debug, PartialEq)]
pub enum HatchEdge {
    Line { start: Vec2, end: Vec2 },
    Arc { center: Vec2, radius: f64, start_angle: f64, end_angle: f64, counter_clockwise: bool },
    Ellipse { center: Vec2, major_axis: Vec2, ratio: f64, start_angle: f64, end_angle: f64, counter_clockwise: bool },
    Spline(Box<Spline>),
}

/// IMAGE (a raster reference) or WIPEOUT (a polygon that masks what is behind it).
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    pub wipeout: bool,
    pub insert: Vec3,
    pub u_vector: Vec3,
    pub v_vector: Vec3,
    /// Size in pixels.
    pub size: Vec2,
    /// Group 340: the IMAGEDEF object, see [`crate::model::Drawing::image_defs`].
    pub image_def: Option<u64>,
    /// Clip boundary in pixel coordinates (group 14); two points mean a rectangle.
    pub clip: Vec<Vec2>,
    pub display_flags: i32,
}

/// VIEWPORT: a window from paper space into model space.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Viewport {
    /// Centre in paper space.
    pub center: Vec3,
    pub width: f64,
    pub height: f64,
    /// Group 69: 1 is the paper space itself, others are the windows into model space.
    pub id: i32,
    pub view_center: Vec2,
    pub view_target: Vec3,
    pub view_direction: Vec3,
    /// Height of the model-space view shown.
    pub view_height: f64,
    pub twist_angle: f64,
    /// Group 90: bit 0x10000 (65536) clips by the entity named in `clip_boundary`.
    pub status: i32,
    pub frozen_layers: Vec<u64>,
    /// Group 340: the handle of the paper-space entity that clips the viewport when the status
    /// says so; 0 for none.
    pub clip_boundary: u64,
}

/// ACAD_TABLE: drawn through its anonymous block; cell texts kept for facts and search.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub block: Option<BlockId>,
    pub insert: Vec3,
    pub rows: u32,
    pub columns: u32,
    pub cells: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mesh {
    pub subdivision_level: i32,
    pub vertices: Vec<Vec3>,
    /// Each face lists vertex indices.
    pub faces: Vec<Vec<u32>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measurement_formatting() {
        assert_eq!(format_measurement(12.5), "12.5");
        assert_eq!(format_measurement(90.0), "90");
        assert_eq!(format_measurement(-0.00001), "0");
        assert_eq!(format_measurement(1.23456), "1.2346");
    }

    #[test]
    fn entity_size_stays_small() {
        // A million LINEs must fit the memory budget: keep the inline variants compact.
        assert!(std::mem::size_of::<Entity>() <= 104, "{}", std::mem::size_of::<Entity>());
    }
}
