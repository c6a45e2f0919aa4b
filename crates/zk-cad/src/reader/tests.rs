//! The reader on small drawings written here: one feature per test, each stating what a reader
//! of real files must get right.

use std::time::{Duration, Instant};

use super::*;
use crate::color::Color;
use crate::diagnostics::DiagnosticCode;
use crate::entity::{BoundaryEdges, DimensionKind, EntityKind, HatchEdge, PolylineKind};
use crate::geometry::Vec3;

/// An ASCII DXF from (code, value) pairs.
fn ascii(groups: &[(i32, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (code, value) in groups {
        out.extend_from_slice(format!("{code:>3}\r\n").as_bytes());
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The groups of a file with only an ENTITIES section holding `entities`.
fn entities_section(entities: &[(i32, &str)]) -> Vec<(i32, String)> {
    let mut g: Vec<(i32, String)> = vec![(0, "SECTION".into()), (2, "ENTITIES".into())];
    g.extend(entities.iter().map(|(c, v)| (*c, (*v).to_owned())));
    g.extend([(0, "ENDSEC".into()), (0, "EOF".into())]);
    g
}

fn read_groups(groups: &[(i32, String)]) -> (Drawing, Vec<Diagnostic>) {
    let borrowed: Vec<(i32, &str)> = groups.iter().map(|(c, v)| (*c, v.as_str())).collect();
    read(&ascii(&borrowed), &ReadOptions::default()).expect("the drawing reads")
}

fn read_entities(entities: &[(i32, &str)]) -> (Drawing, Vec<Diagnostic>) {
    read_groups(&entities_section(entities))
}

fn has(diagnostics: &[Diagnostic], code: DiagnosticCode) -> bool {
    diagnostics.iter().any(|d| d.code == code)
}

#[test]
fn a_line_with_its_common_properties() {
    let (d, diags) = read_entities(&[
        (0, "LINE"),
        (5, "2F"),
        (8, "Walls"),
        (6, "DASHED"),
        (62, "1"),
        (370, "35"),
        (10, "1.5"),
        (20, "2"),
        (30, "0"),
        (11, "10"),
        (21, "20"),
        (31, "0"),
    ]);
    let e = &d.entities[0];
    assert_eq!(e.kind, EntityKind::Line { start: Vec3::new(1.5, 2.0, 0.0), end: Vec3::new(10.0, 20.0, 0.0) });
    assert_eq!(e.common.handle, 0x2F);
    assert_eq!(d.layer(e.common.layer).map(|l| l.name.as_str()), Some("Walls"));
    assert_eq!(e.common.color, Color::Aci(1));
    assert_eq!(e.common.lineweight, 35);
    assert!(matches!(e.common.linetype, crate::model::LinetypeRef::Named(_)));
    assert!(has(&diags, DiagnosticCode::UndeclaredName), "layer Walls and linetype DASHED are not declared");
}

#[test]
fn true_colour_wins_over_aci() {
    let (d, _) = read_entities(&[(0, "CIRCLE"), (62, "1"), (420, "16711935"), (40, "2")]);
    assert_eq!(d.entities[0].common.color, Color::Rgb(0xFF00FF));
}

#[test]
fn gbk_text_is_decoded_by_the_declared_codepage() {
    let (gbk, _, _) = encoding_rs::GBK.encode("一层平面图 房间");
    let mut file = ascii(&[
        (0, "SECTION"),
        (2, "HEADER"),
        (9, "$ACADVER"),
        (1, "AC1015"),
        (9, "$DWGCODEPAGE"),
        (3, "ANSI_936"),
        (0, "ENDSEC"),
        (0, "SECTION"),
        (2, "ENTITIES"),
        (0, "TEXT"),
        (8, "0"),
        (10, "0"),
        (20, "0"),
        (40, "2.5"),
    ]);
    file.extend_from_slice(b"  1\r\n");
    file.extend_from_slice(&gbk);
    file.extend_from_slice(b"\r\n  0\r\nMTEXT\r\n  1\r\n");
    file.extend_from_slice(&gbk);
    // 标 as a \U+ escape, 办 as a \M+ escape (GBK is code page 5 there).
    let (ban, _, _) = encoding_rs::GBK.encode("办");
    file.extend_from_slice(format!("\\P\\U+6807\\M+5{:02X}{:02X}\r\n", ban[0], ban[1]).as_bytes());
    file.extend_from_slice(b"  0\r\nENDSEC\r\n  0\r\nEOF\r\n");
    let (d, diags) = read(&file, &ReadOptions::default()).unwrap();
    assert_eq!(d.header.codepage.as_deref(), Some("ANSI_936"));
    match &d.entities[0].kind {
        EntityKind::Text(t) => assert_eq!(t.text, "一层平面图 房间"),
        other => panic!("{other:?}"),
    }
    match &d.entities[1].kind {
        EntityKind::MText(m) => assert_eq!(m.content.plain, "一层平面图 房间\n标办"),
        other => panic!("{other:?}"),
    }
    assert!(!has(&diags, DiagnosticCode::TextDecoding), "{diags:?}");
}

#[test]
fn utf8_text_in_a_file_that_claims_gbk() {
    let (d, _) = read_groups(&[
        (0, "SECTION".into()),
        (2, "HEADER".into()),
        (9, "$DWGCODEPAGE".into()),
        (3, "ANSI_936".into()),
        (0, "ENDSEC".into()),
        (0, "SECTION".into()),
        (2, "ENTITIES".into()),
        (0, "TEXT".into()),
        (1, "房间 Ø20".into()),
        (0, "ENDSEC".into()),
    ]);
    match &d.entities[0].kind {
        EntityKind::Text(t) => assert_eq!(t.text, "房间 Ø20"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_codepage_is_reported_and_read_as_windows_1252() {
    let (_, diags) = read_groups(&[
        (0, "SECTION".into()),
        (2, "HEADER".into()),
        (9, "$DWGCODEPAGE".into()),
        (3, "ANSI_1361".into()),
        (0, "ENDSEC".into()),
    ]);
    assert!(has(&diags, DiagnosticCode::UnknownCodepage));
}

#[test]
fn mtext_chunks_and_formatting() {
    let (d, _) = read_entities(&[
        (0, "MTEXT"),
        (10, "5"),
        (20, "6"),
        (40, "2.5"),
        (71, "1"),
        (3, "{\\fArial|b1;Room} \\P"),
        (1, "%%c50 \\S1/2;"),
        (50, "90"),
    ]);
    let EntityKind::MText(m) = &d.entities[0].kind else { panic!() };
    assert_eq!(m.content.plain, "Room \nØ50 1/2");
    assert!(m.content.runs.iter().any(|r| r.style.bold && r.style.font.as_deref() == Some("Arial")));
    assert!(m.content.runs.iter().any(|r| r.stack.is_some()));
    // Group 50 is degrees (the DXF reference says radians; AutoCAD writes degrees).
    assert!((m.x_axis.x).abs() < 1e-12 && (m.x_axis.y - 1.0).abs() < 1e-12, "{:?}", m.x_axis);
}

#[test]
fn lwpolyline_bulges_and_widths_per_vertex() {
    let (d, _) = read_entities(&[
        (0, "LWPOLYLINE"),
        (90, "3"),
        (70, "1"),
        (10, "0"),
        (20, "0"),
        (42, "1"),
        (10, "2"),
        (20, "0"),
        (40, "0.5"),
        (41, "0.25"),
        (10, "2"),
        (20, "2"),
    ]);
    let EntityKind::LwPolyline(p) = &d.entities[0].kind else { panic!() };
    assert_eq!(p.vertices.len(), 3);
    assert!(p.closed);
    assert_eq!(p.bulges, vec![1.0, 0.0, 0.0]);
    assert_eq!(p.widths, vec![(0.0, 0.0), (0.5, 0.25), (0.0, 0.0)]);
}

#[test]
fn polyline_with_vertices_and_a_polyface() {
    let (d, diags) = read_entities(&[
        (0, "POLYLINE"),
        (66, "1"),
        (70, "1"),
        (0, "VERTEX"),
        (10, "0"),
        (20, "0"),
        (42, "0.5"),
        (0, "VERTEX"),
        (10, "1"),
        (20, "0"),
        (0, "SEQEND"),
        (0, "POLYLINE"),
        (70, "64"),
        (0, "VERTEX"),
        (70, "192"),
        (10, "0"),
        (0, "VERTEX"),
        (70, "192"),
        (10, "1"),
        (0, "VERTEX"),
        (70, "192"),
        (20, "1"),
        (0, "VERTEX"),
        (70, "128"),
        (71, "1"),
        (72, "2"),
        (73, "-3"),
        (0, "SEQEND"),
    ]);
    assert!(diags.iter().all(|d| d.code != DiagnosticCode::OrphanRecord), "{diags:?}");
    let EntityKind::Polyline(p) = &d.entities[0].kind else { panic!() };
    assert_eq!((p.kind, p.closed, p.vertices.len(), p.vertices[0].bulge), (PolylineKind::Polyline2d, true, 2, 0.5));
    let EntityKind::Polyline(mesh) = &d.entities[1].kind else { panic!() };
    assert_eq!(mesh.kind, PolylineKind::PolyfaceMesh);
    assert_eq!((mesh.vertices.len(), mesh.faces.clone()), (3, vec![[1, 2, -3, 0]]));
}

#[test]
fn orphan_vertices_are_reported_not_dropped_silently() {
    let (d, diags) = read_entities(&[(0, "VERTEX"), (10, "1"), (0, "SEQEND"), (0, "LINE")]);
    assert_eq!(d.entities.len(), 1);
    assert!(has(&diags, DiagnosticCode::OrphanRecord));
}

fn blocks_and_entities(blocks: &[(i32, &str)], entities: &[(i32, &str)]) -> (Drawing, Vec<Diagnostic>) {
    let mut g: Vec<(i32, String)> = vec![(0, "SECTION".into()), (2, "BLOCKS".into())];
    g.extend(blocks.iter().map(|(c, v)| (*c, (*v).to_owned())));
    g.push((0, "ENDSEC".into()));
    g.extend(entities_section(entities));
    read_groups(&g)
}

#[test]
fn inserts_with_attributes_and_arrays() {
    let (d, diags) = blocks_and_entities(
        &[
            (0, "BLOCK"),
            (2, "Door"),
            (70, "2"),
            (10, "1"),
            (20, "0"),
            (0, "ATTDEF"),
            (2, "TAG"),
            (3, "Number?"),
            (1, "D1"),
            (0, "LINE"),
            (0, "ENDBLK"),
        ],
        &[
            (0, "INSERT"),
            (66, "1"),
            (2, "door"),
            (10, "100"),
            (20, "50"),
            (41, "2"),
            (50, "90"),
            (70, "3"),
            (71, "2"),
            (44, "10"),
            (45, "20"),
            (0, "ATTRIB"),
            (8, "Tags"),
            (62, "2"),
            (2, "TAG"),
            (1, "D-101"),
            (0, "SEQEND"),
        ],
    );
    assert!(!has(&diags, DiagnosticCode::MissingBlock), "names are case-insensitive: {diags:?}");
    let EntityKind::Insert(i) = &d.entities[0].kind else { panic!() };
    assert_eq!(d.block(i.block).map(|b| b.name.as_str()), Some("Door"));
    assert_eq!((i.columns, i.rows, i.column_spacing, i.row_spacing), (3, 2, 10.0, 20.0));
    assert_eq!(i.scale, Vec3::new(2.0, 1.0, 1.0));
    let EntityKind::Attribute(attribute) = &i.attributes[0].kind else { panic!() };
    assert_eq!((attribute.tag.as_str(), attribute.text.text.as_str()), ("TAG", "D-101"));
    let own = &i.attributes[0].common;
    assert_eq!(
        (d.layer(own.layer).map(|l| l.name.as_str()), own.color),
        (Some("Tags"), Color::Aci(2)),
        "an ATTRIB keeps its own layer and colour"
    );
    let block = d.block(i.block).unwrap();
    assert_eq!(block.base_point, Vec3::new(1.0, 0.0, 0.0));
    let EntityKind::AttributeDefinition(def) = &block.entities[0].kind else { panic!() };
    assert_eq!((def.tag.as_str(), def.prompt.as_str()), ("TAG", "Number?"));
}

#[test]
fn missing_blocks_are_reported() {
    let (d, diags) = read_entities(&[(0, "INSERT"), (2, "Ghost")]);
    assert_eq!(d.blocks.len(), 1);
    assert!(!d.blocks[0].defined);
    assert!(has(&diags, DiagnosticCode::MissingBlock));
}

#[test]
fn recursive_blocks_are_found_without_recursing() {
    let (d, diags) = blocks_and_entities(
        &[
            (0, "BLOCK"),
            (2, "A"),
            (0, "INSERT"),
            (2, "B"),
            (0, "ENDBLK"),
            (0, "BLOCK"),
            (2, "B"),
            (0, "INSERT"),
            (2, "A"),
            (0, "ENDBLK"),
            (0, "BLOCK"),
            (2, "Self"),
            (0, "INSERT"),
            (2, "Self"),
            (0, "ENDBLK"),
        ],
        &[(0, "INSERT"), (2, "A"), (0, "INSERT"), (2, "Self")],
    );
    assert!(has(&diags, DiagnosticCode::BlockCycle), "{diags:?}");
    // Extents still come out: cycles are cut.
    let facts = crate::facts(&d, 32);
    assert_eq!(facts.blocks.iter().find(|b| b.name == "A").map(|b| b.inserts), Some(2));
}

#[test]
fn deep_block_nesting_is_capped_and_reported() {
    // 2000 blocks each inserting the next: no stack overflow anywhere, a diagnostic for the depth.
    let mut blocks: Vec<(i32, String)> = Vec::new();
    for i in 0..2000 {
        blocks.extend([(0, "BLOCK".into()), (2, format!("B{i}")), (0, "LINE".into()), (11, "1".into())]);
        blocks.extend([(0, "INSERT".into()), (2, format!("B{}", i + 1)), (10, "1".into()), (0, "ENDBLK".into())]);
    }
    let mut g: Vec<(i32, String)> = vec![(0, "SECTION".into()), (2, "BLOCKS".into())];
    g.extend(blocks);
    g.push((0, "ENDSEC".into()));
    g.extend(entities_section(&[(0, "INSERT"), (2, "B0")]));
    let (d, diags) = read_groups(&g);
    assert!(has(&diags, DiagnosticCode::BlockTooDeep));
    let facts = crate::facts(&d, 32);
    let extents = facts.extents.expect("extents from the first 32 levels");
    assert!(extents.max.x >= 32.0 && extents.max.x < 2000.0, "{extents:?}");
}

#[test]
fn dimensions_keep_their_block_and_measurement() {
    let (d, _) = blocks_and_entities(
        &[(0, "BLOCK"), (2, "*D1"), (70, "1"), (0, "LINE"), (0, "ENDBLK")],
        &[
            (0, "DIMENSION"),
            (2, "*D1"),
            (3, "ISO-25"),
            (70, "32"),
            (1, "L=<> mm"),
            (13, "0"),
            (23, "0"),
            (14, "30"),
            (24, "40"),
            (0, "DIMENSION"),
            (70, "1"),
            (42, "12.5"),
            (0, "DIMENSION"),
            (70, "5"),
            (13, "1"),
            (14, "0"),
            (24, "1"),
            (15, "0"),
        ],
    );
    let dims: Vec<&crate::entity::Dimension> = d
        .entities
        .iter()
        .filter_map(|e| match &e.kind {
            EntityKind::Dimension(x) => Some(x.as_ref()),
            _ => None,
        })
        .collect();
    assert_eq!(dims[0].kind, DimensionKind::Linear);
    assert!(dims[0].block.is_some());
    assert_eq!(dims[0].measurement, Some(30.0), "R12 files: computed along the rotation (0°)");
    assert_eq!(dims[0].display_text(), "L=30 mm");
    assert_eq!((dims[1].kind, dims[1].measurement), (DimensionKind::Aligned, Some(12.5)));
    assert_eq!(dims[2].kind, DimensionKind::Angular3Point);
    assert_eq!(dims[2].display_text(), "90°");
}

#[test]
fn hatch_with_polyline_and_edge_paths_and_pattern_lines() {
    let (d, _) = read_entities(&[
        (0, "HATCH"),
        (10, "0"),
        (20, "0"),
        (30, "0"),
        (210, "0"),
        (220, "0"),
        (230, "1"),
        (2, "ANSI31"),
        (70, "0"),
        (71, "0"),
        (91, "2"),
        (92, "7"),
        (72, "1"),
        (73, "1"),
        (93, "3"),
        (10, "0"),
        (20, "0"),
        (42, "0"),
        (10, "10"),
        (20, "0"),
        (42, "0.5"),
        (10, "10"),
        (20, "10"),
        (42, "0"),
        (97, "0"),
        (92, "1"),
        (93, "4"),
        (72, "1"),
        (10, "0"),
        (20, "0"),
        (11, "5"),
        (21, "0"),
        (72, "2"),
        (10, "5"),
        (20, "2"),
        (40, "2"),
        (50, "270"),
        (51, "90"),
        (73, "1"),
        (72, "3"),
        (10, "0"),
        (20, "2"),
        (11, "5"),
        (21, "0"),
        (40, "0.4"),
        (50, "0"),
        (51, "180"),
        (73, "1"),
        (72, "4"),
        (94, "3"),
        (73, "0"),
        (74, "0"),
        (95, "8"),
        (96, "4"),
        (40, "0"),
        (40, "0"),
        (40, "0"),
        (40, "0"),
        (40, "1"),
        (40, "1"),
        (40, "1"),
        (40, "1"),
        (10, "0"),
        (20, "4"),
        (10, "1"),
        (20, "5"),
        (10, "2"),
        (20, "5"),
        (10, "3"),
        (20, "4"),
        (97, "0"),
        (97, "1"),
        (330, "1F"),
        (75, "1"),
        (76, "1"),
        (52, "45"),
        (41, "2"),
        (77, "0"),
        (78, "1"),
        (53, "45"),
        (43, "0"),
        (44, "0"),
        (45, "-2.2"),
        (46, "2.2"),
        (79, "2"),
        (49, "3"),
        (49, "-1.5"),
        (98, "1"),
        (10, "5"),
        (20, "5"),
    ]);
    let EntityKind::Hatch(h) = &d.entities[0].kind else { panic!() };
    assert_eq!((h.pattern_name.as_str(), h.solid, h.paths.len()), ("ANSI31", false, 2));
    let BoundaryEdges::Polyline { vertices, bulges, closed } = &h.paths[0].edges else { panic!() };
    assert_eq!((vertices.len(), bulges.clone(), *closed), (3, vec![0.0, 0.5, 0.0], true));
    let BoundaryEdges::Edges(edges) = &h.paths[1].edges else { panic!() };
    assert_eq!(edges.len(), 4, "{edges:?}");
    assert!(matches!(edges[1], HatchEdge::Arc { radius: 2.0, .. }));
    assert!(matches!(edges[2], HatchEdge::Ellipse { ratio: 0.4, .. }));
    let HatchEdge::Spline(s) = &edges[3] else { panic!() };
    assert_eq!((s.degree, s.knots.len(), s.control_points.len()), (3, 8, 4));
    assert_eq!((h.pattern_angle, h.pattern_scale, h.style), (45.0, 2.0, 1));
    assert_eq!(h.pattern_lines.len(), 1);
    assert_eq!(h.pattern_lines[0].dashes, vec![3.0, -1.5]);
    assert!((h.pattern_lines[0].offset.x + 2.2).abs() < 1e-12);
}

#[test]
fn solid_hatch_with_huge_stated_counts_allocates_nothing_from_them() {
    let (d, _) = read_entities(&[
        (0, "HATCH"),
        (2, "SOLID"),
        (70, "1"),
        (91, "2000000000"),
        (92, "2"),
        (93, "2000000000"),
        (10, "1"),
        (20, "1"),
    ]);
    let EntityKind::Hatch(h) = &d.entities[0].kind else { panic!() };
    assert!(h.solid);
    assert_eq!(h.paths.len(), 1);
}

#[test]
fn spline_leader_mleader_and_table() {
    let (d, _) = read_entities(&[
        (0, "SPLINE"),
        (70, "8"),
        (71, "3"),
        (40, "0"),
        (40, "1"),
        (10, "0"),
        (20, "0"),
        (10, "1"),
        (20, "1"),
        (41, "1"),
        (41, "1"),
        (11, "0"),
        (21, "0"),
        (0, "LEADER"),
        (71, "1"),
        (10, "0"),
        (20, "0"),
        (10, "5"),
        (20, "5"),
        (0, "MULTILEADER"),
        (300, "CONTEXT_DATA{"),
        (41, "2.5"),
        (304, "Check \\Pthis"),
        (12, "10"),
        (22, "10"),
        (302, "LEADER{"),
        (10, "9"),
        (20, "10"),
        (304, "LEADER_LINE{"),
        (10, "0"),
        (20, "0"),
        (10, "5"),
        (20, "5"),
        (305, "}"),
        (303, "}"),
        (301, "}"),
        (0, "ACAD_TABLE"),
        (2, "*T1"),
        (91, "2"),
        (92, "3"),
        (1, "Room"),
        (1, "Area"),
    ]);
    let EntityKind::Spline(s) = &d.entities[0].kind else { panic!() };
    assert_eq!((s.degree, s.control_points.len(), s.fit_points.len(), s.weights.len()), (3, 2, 1, 0));
    let EntityKind::Leader(l) = &d.entities[1].kind else { panic!() };
    assert_eq!(l.vertices.len(), 2);
    let EntityKind::MLeader(m) = &d.entities[2].kind else { panic!() };
    assert_eq!(m.text.as_ref().map(|t| t.plain.as_str()), Some("Check \nthis"));
    assert_eq!(m.lines, vec![vec![Vec3::ZERO, Vec3::new(5.0, 5.0, 0.0), Vec3::new(9.0, 10.0, 0.0)]]);
    let EntityKind::Table(t) = &d.entities[3].kind else { panic!() };
    assert_eq!((t.rows, t.columns, t.cells.clone()), (2, 3, vec!["Room".to_owned(), "Area".to_owned()]));
}

#[test]
fn unsupported_entities_are_counted_by_type() {
    let (d, diags) = read_entities(&[(0, "3DSOLID"), (1, "acis"), (0, "3DSOLID"), (0, "REGION"), (0, "LINE")]);
    assert_eq!(d.entities.len(), 1);
    assert_eq!(d.unsupported.get("3DSOLID"), Some(&2));
    assert_eq!(d.unsupported.get("REGION"), Some(&1));
    assert!(diags.iter().any(|d| d.code == DiagnosticCode::UnsupportedEntity && d.message.contains("2 3DSOLID")));
}

#[test]
fn layer_table_flags_and_colours() {
    let (d, _) = read_groups(&[
        (0, "SECTION".into()),
        (2, "TABLES".into()),
        (0, "TABLE".into()),
        (2, "LTYPE".into()),
        (0, "LTYPE".into()),
        (2, "DASHED".into()),
        (3, "__ __".into()),
        (73, "2".into()),
        (40, "0.75".into()),
        (49, "0.5".into()),
        (49, "-0.25".into()),
        (0, "ENDTAB".into()),
        (0, "TABLE".into()),
        (2, "LAYER".into()),
        (0, "LAYER".into()),
        (2, "Off".into()),
        (62, "-3".into()),
        (70, "0".into()),
        (6, "DASHED".into()),
        (0, "LAYER".into()),
        (2, "Frozen".into()),
        (62, "5".into()),
        (70, "5".into()),
        (420, "255".into()),
        (370, "50".into()),
        (0, "LAYER".into()),
        (2, "Broken".into()),
        (62, "-32768".into()),
        (0, "ENDTAB".into()),
        (0, "TABLE".into()),
        (2, "STYLE".into()),
        (0, "STYLE".into()),
        (2, "CJK".into()),
        (3, "txt.shx".into()),
        (4, "gbcbig.shx".into()),
        (0, "STYLE".into()),
        (2, "TTF".into()),
        (3, "arial.ttf".into()),
        (1001, "ACAD".into()),
        (1000, "Arial".into()),
        (0, "ENDTAB".into()),
        (0, "ENDSEC".into()),
    ]);
    let off = &d.layers[d.find_layer("off").unwrap().index()];
    assert_eq!((off.on, off.color), (false, Color::Aci(3)));
    let crate::model::LinetypeRef::Named(lt) = off.linetype else { panic!() };
    assert_eq!(d.linetype(lt).map(|l| l.pattern.clone()), Some(vec![0.5, -0.25]));
    let frozen = &d.layers[d.find_layer("Frozen").unwrap().index()];
    assert_eq!((frozen.frozen, frozen.locked, frozen.color, frozen.lineweight), (true, true, Color::Rgb(0xFF), 50));
    let broken = &d.layers[d.find_layer("Broken").unwrap().index()];
    assert_eq!((broken.on, broken.color), (false, Color::Aci(7)), "-32768 is read without overflow");
    let cjk = &d.text_styles[0];
    assert_eq!((cjk.font_file.as_str(), cjk.bigfont_file.as_str()), ("txt.shx", "gbcbig.shx"));
    assert_eq!(d.text_styles[1].font_family.as_deref(), Some("Arial"));
}

#[test]
fn layouts_and_their_viewports() {
    let (d, _) = read_groups(&[
        (0, "SECTION".into()),
        (2, "BLOCKS".into()),
        (0, "BLOCK".into()),
        (2, "*Paper_Space0".into()),
        (330, "1A".into()),
        (0, "VIEWPORT".into()),
        (67, "1".into()),
        (10, "5".into()),
        (40, "10".into()),
        (41, "8".into()),
        (69, "2".into()),
        (12, "100".into()),
        (22, "50".into()),
        (45, "40".into()),
        (0, "ENDBLK".into()),
        (0, "ENDSEC".into()),
        (0, "SECTION".into()),
        (2, "ENTITIES".into()),
        (0, "LINE".into()),
        (0, "VIEWPORT".into()),
        (67, "1".into()),
        (69, "1".into()),
        (0, "ENDSEC".into()),
        (0, "SECTION".into()),
        (2, "OBJECTS".into()),
        (0, "LAYOUT".into()),
        (5, "22".into()),
        (100, "AcDbPlotSettings".into()),
        (1, "".into()),
        (100, "AcDbLayout".into()),
        (1, "Sheet A".into()),
        (71, "2".into()),
        (330, "1A".into()),
        (0, "LAYOUT".into()),
        (100, "AcDbLayout".into()),
        (1, "Model".into()),
        (71, "0".into()),
        (0, "ENDSEC".into()),
        (0, "EOF".into()),
    ]);
    let names: Vec<&str> = d.layouts.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Model", "Sheet A"]);
    let sheet = &d.layouts[1];
    let viewports: Vec<_> = d.layout_viewports(sheet).collect();
    assert_eq!(viewports.len(), 1, "the inactive layout's block holds its viewport");
    assert_eq!((viewports[0].id, viewports[0].view_height, viewports[0].view_center.x), (2, 40.0, 100.0));
    assert_eq!(d.model_space().count(), 1);
}

#[test]
fn r12_files_without_header_or_tables() {
    let (d, diags) = read_entities(&[(0, "LINE"), (8, "0"), (10, "0"), (11, "1"), (0, "LINE"), (67, "1")]);
    assert_eq!(d.header.version, None);
    assert_eq!(d.layouts.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["Model", "Layout1"]);
    assert!(diags.iter().all(|d| d.severity == crate::Severity::Info || d.code == DiagnosticCode::UndeclaredName));
}

#[test]
fn classic_mac_line_endings() {
    let file = b"0\rSECTION\r2\rENTITIES\r0\rCIRCLE\r40\r3\r0\rENDSEC\r0\rEOF\r";
    let (d, _) = read(file, &ReadOptions::default()).unwrap();
    assert!(matches!(d.entities[0].kind, EntityKind::Circle { radius: 3.0, .. }));
}

#[test]
fn malformed_numbers_read_as_zero_with_a_diagnostic() {
    let (d, diags) = read_entities(&[(0, "CIRCLE"), (10, "abc"), (20, "1.#QNAN"), (40, "1e999"), (62, "red")]);
    assert!(matches!(d.entities[0].kind, EntityKind::Circle { radius: 0.0, .. }));
    assert_eq!(diags.iter().filter(|d| d.code == DiagnosticCode::MalformedValue).count(), 4);
    assert!(diags.iter().any(|d| d.location == Some(crate::Location::Line(7))), "{diags:?}");
}

#[test]
fn broken_group_codes_are_skipped_and_reading_goes_on() {
    let file = b"0\nSECTION\n2\nENTITIES\n0\nLINE\nten\n1\n11\n5\n0\nCIRCLE\n40\n2\n0\nENDSEC\n0\nEOF\n";
    let (d, diags) = read(file, &ReadOptions::default()).unwrap();
    assert_eq!(d.entities.len(), 2);
    assert!(has(&diags, DiagnosticCode::MalformedGroupCode));
}

#[test]
fn truncated_files_keep_what_was_read() {
    let full = ascii(&[
        (0, "SECTION"),
        (2, "ENTITIES"),
        (0, "LINE"),
        (11, "1"),
        (0, "CIRCLE"),
        (40, "2"),
        (0, "ENDSEC"),
        (0, "EOF"),
    ]);
    for cut in 0..full.len() {
        match read(&full[..cut], &ReadOptions::default()) {
            Ok((d, _)) => assert!(d.entities.len() <= 2),
            Err(e) => assert!(matches!(e, ReadError::Empty | ReadError::NotDxf { .. }), "cut at {cut}: {e}"),
        }
    }
    let (d, diags) = read(&full[..full.len() - 24], &ReadOptions::default()).unwrap();
    assert_eq!(d.entities.len(), 2);
    assert!(has(&diags, DiagnosticCode::Truncated), "{diags:?}");
}

#[test]
fn header_dates_are_plain_numbers() {
    let (d, _) = read_groups(&[
        (0, "SECTION".into()),
        (2, "HEADER".into()),
        (9, "$TDCREATE".into()),
        (40, "1e300".into()),
        (9, "$TDUPDATE".into()),
        (40, "2460000.5".into()),
        (9, "$INSUNITS".into()),
        (70, "4".into()),
        (9, "$EXTMIN".into()),
        (10, "1e20".into()),
        (20, "1e20".into()),
        (30, "1e20".into()),
        (0, "ENDSEC".into()),
    ]);
    assert_eq!(d.header.created_julian, Some(1e300));
    assert_eq!(crate::julian_to_unix_seconds(1e300), None);
    assert!(crate::julian_to_unix_seconds(d.header.updated_julian.unwrap()).is_some());
    assert_eq!(d.header.insunits, Some(4));
}

/// A binary DXF from (code, value) groups, two-byte codes (R13+).
fn binary(groups: &[(i16, BinaryValue)]) -> Vec<u8> {
    let mut out = b"AutoCAD Binary DXF\r\n\x1a\0".to_vec();
    for (code, value) in groups {
        out.extend_from_slice(&code.to_le_bytes());
        match value {
            BinaryValue::Text(t) => {
                out.extend_from_slice(t.as_bytes());
                out.push(0);
            }
            BinaryValue::Real(v) => out.extend_from_slice(&v.to_le_bytes()),
            BinaryValue::Int16(v) => out.extend_from_slice(&v.to_le_bytes()),
        }
    }
    out
}

enum BinaryValue {
    Text(&'static str),
    Real(f64),
    Int16(i16),
}

#[test]
fn binary_dxf() {
    use BinaryValue::*;
    let file = binary(&[
        (0, Text("SECTION")),
        (2, Text("HEADER")),
        (9, Text("$ACADVER")),
        (1, Text("AC1015")),
        (9, Text("$INSUNITS")),
        (70, Int16(6)),
        (0, Text("ENDSEC")),
        (0, Text("SECTION")),
        (2, Text("ENTITIES")),
        (0, Text("ARC")),
        (8, Text("Arcs")),
        (10, Real(1.0)),
        (20, Real(2.0)),
        (30, Real(0.0)),
        (40, Real(5.0)),
        (50, Real(0.0)),
        (51, Real(90.0)),
        (62, Int16(3)),
        (0, Text("ENDSEC")),
        (0, Text("EOF")),
    ]);
    let (d, diags) = read(&file, &ReadOptions::default()).unwrap();
    assert_eq!(d.encoding, DxfEncoding::Binary);
    assert_eq!((d.header.version.as_deref(), d.header.insunits), (Some("AC1015"), Some(6)));
    let EntityKind::Arc(a) = &d.entities[0].kind else { panic!("{:?}", d.entities) };
    assert_eq!((a.center, a.radius, a.end_angle), (Vec3::new(1.0, 2.0, 0.0), 5.0, 90.0));
    assert_eq!(d.entities[0].common.color, Color::Aci(3));
    // Truncated anywhere: never a panic.
    for cut in 22..file.len() {
        let _ = read(&file[..cut], &ReadOptions::default());
    }
    assert!(diags.iter().all(|d| d.code == DiagnosticCode::UndeclaredName), "{diags:?}");
}

#[test]
fn guards_refuse_big_inputs_and_stop_long_reads() {
    let file = ascii(&[(0, "SECTION"), (2, "ENTITIES"), (0, "LINE"), (0, "LINE"), (0, "LINE"), (0, "ENDSEC")]);
    let small = ReadOptions { max_bytes: 10, ..ReadOptions::default() };
    assert!(matches!(read(&file, &small), Err(ReadError::TooLarge { .. })));
    let few = ReadOptions { max_entities: 2, ..ReadOptions::default() };
    assert_eq!(read(&file, &few).err(), Some(ReadError::TooManyEntities { limit: 2 }));

    // A long file: the cancel hook and the deadline stop it.
    let mut long: Vec<(i32, &str)> = vec![(0, "SECTION"), (2, "ENTITIES")];
    long.extend(std::iter::repeat_n([(0, "POINT"), (10, "1")], 20_000).flatten());
    let long = ascii(&long);
    let cancel = || true;
    let cancelled = ReadOptions { cancel: Some(&cancel), ..ReadOptions::default() };
    assert_eq!(read(&long, &cancelled).err(), Some(ReadError::Cancelled));
    let past = ReadOptions { deadline: Some(Instant::now() - Duration::from_millis(1)), ..ReadOptions::default() };
    assert_eq!(read(&long, &past).err(), Some(ReadError::DeadlineExceeded));
    assert!(read(&long, &ReadOptions::default()).is_ok());
}

#[test]
fn not_dxf_inputs_are_refused_with_a_reason() {
    for (input, expected) in [
        (b"".as_slice(), "empty"),
        (b"AC1027\x00\x00\x00\x00", "DWG"),
        (b"%PDF-1.7\n", "group code"),
        (b"\x89PNG\r\n\x1a\n", "group code"),
    ] {
        let error = read(input, &ReadOptions::default()).expect_err("refused");
        assert!(error.to_string().contains(expected), "{error}");
    }
}

#[test]
fn sections_out_of_order_unclosed_or_repeated() {
    let file = ascii(&[
        (0, "SECTION"),
        (2, "ENTITIES"),
        (0, "LINE"),
        (0, "SECTION"), // no ENDSEC before it
        (2, "CLASSES"),
        (0, "SECTION"),
        (2, "ENTITIES"),
        (0, "CIRCLE"),
        (0, "ENDSEC"),
        (0, "EOF"),
        (0, "LINE"),
    ]);
    let (d, diags) = read(&file, &ReadOptions::default()).unwrap();
    assert_eq!(d.entities.len(), 2);
    assert!(has(&diags, DiagnosticCode::Structure));
    assert!(has(&diags, DiagnosticCode::TrailingData));

    // Many unclosed sections: no recursion.
    let mut many: Vec<(i32, &str)> = Vec::new();
    for _ in 0..100_000 {
        many.extend([(0, "SECTION"), (2, "CLASSES")]);
    }
    assert!(read(&ascii(&many), &ReadOptions::default()).is_ok());
}
