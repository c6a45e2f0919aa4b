//! Tessellation of small drawings written here: what the viewer must receive.

use super::*;
use crate::{ReadOptions, read};

fn dxf(blocks: &[(i32, &str)], entities: &[(i32, &str)]) -> Drawing {
    let mut text = String::new();
    let mut push = |c: i32, v: &str| text.push_str(&format!("{c}\n{v}\n"));
    push(0, "SECTION");
    push(2, "TABLES");
    for (c, v) in [
        (0, "TABLE"),
        (2, "LAYER"),
        (0, "LAYER"),
        (2, "0"),
        (62, "7"),
        (0, "LAYER"),
        (2, "Red"),
        (62, "1"),
        (0, "ENDTAB"),
    ] {
        push(c, v);
    }
    push(0, "ENDSEC");
    push(0, "SECTION");
    push(2, "BLOCKS");
    for (c, v) in blocks {
        push(*c, v);
    }
    push(0, "ENDSEC");
    push(0, "SECTION");
    push(2, "ENTITIES");
    for (c, v) in entities {
        push(*c, v);
    }
    push(0, "ENDSEC");
    push(0, "EOF");
    read(text.as_bytes(), &ReadOptions::default()).expect("reads").0
}

fn scene_of(d: &Drawing, options: &TessellateOptions<'_>) -> (Scene, Vec<Diagnostic>) {
    let model = d.layouts.iter().find(|l| l.is_model()).expect("a model layout");
    tessellate(d, model, options).expect("tessellates")
}

/// All segments of the scene in drawing coordinates.
fn segments(scene: &Scene) -> Vec<(Vec2, Vec2)> {
    let o = scene.origin;
    scene
        .batches
        .iter()
        .flat_map(|b| b.lines.chunks_exact(4))
        .map(|s| {
            (
                Vec2::new(f64::from(s[0]) + o.x, f64::from(s[1]) + o.y),
                Vec2::new(f64::from(s[2]) + o.x, f64::from(s[3]) + o.y),
            )
        })
        .collect()
}

fn triangle_area(scene: &Scene) -> f64 {
    scene
        .batches
        .iter()
        .flat_map(|b| b.triangles.chunks_exact(6))
        .map(|t| {
            let [ax, ay, bx, by, cx, cy] = [t[0], t[1], t[2], t[3], t[4], t[5]].map(f64::from);
            ((bx - ax) * (cy - ay) - (cx - ax) * (by - ay)).abs() / 2.0
        })
        .sum()
}

#[test]
fn lines_are_batched_by_layer_and_colour_with_their_owner() {
    let d = dxf(
        &[],
        &[
            (0, "LINE"),
            (8, "Red"),
            (10, "1000000"),
            (20, "2000000"),
            (11, "1000010"),
            (21, "2000000"),
            (0, "LINE"),
            (8, "Red"),
            (62, "3"),
            (11, "1"),
        ],
    );
    let (scene, _) = scene_of(&d, &TessellateOptions::default());
    assert_eq!(scene.batches.len(), 2, "red by layer, and green by entity");
    let red = scene.batches.iter().find(|b| b.ink == Ink::Rgb(0xFF0000)).unwrap();
    assert_eq!(red.line_owners, vec![0]);
    let segs = segments(&scene);
    assert!(
        segs.iter().any(|(a, b)| (a.x - 1_000_000.0).abs() < 0.01 && (b.x - 1_000_010.0).abs() < 0.01),
        "far from the origin, still precise: {segs:?}"
    );
}

#[test]
fn circles_are_flattened_within_the_tolerance() {
    let d = dxf(&[], &[(0, "CIRCLE"), (10, "5"), (20, "5"), (40, "10")]);
    let (scene, _) = scene_of(&d, &TessellateOptions { tolerance: 0.01, ..TessellateOptions::default() });
    let segs = segments(&scene);
    assert!(segs.len() > 50);
    for (a, b) in segs {
        let mid = Vec2::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
        let deviation = (10.0 - (mid.x - 5.0).hypot(mid.y - 5.0)).abs();
        assert!(deviation <= 0.0101, "{deviation}");
    }
}

#[test]
fn inserts_arrays_byblock_colour_and_layer_zero() {
    let d = dxf(
        &[
            (0, "BLOCK"),
            (2, "Tick"),
            (10, "0"),
            (20, "0"),
            (0, "LINE"),
            (8, "0"),
            (62, "0"),
            (10, "0"),
            (20, "0"),
            (11, "1"),
            (21, "0"),
            (0, "ENDBLK"),
        ],
        &[
            (0, "INSERT"),
            (2, "Tick"),
            (8, "Red"),
            (62, "5"),
            (10, "100"),
            (20, "0"),
            (41, "2"),
            (70, "3"),
            (71, "2"),
            (44, "10"),
            (45, "20"),
        ],
    );
    let (scene, _) = scene_of(&d, &TessellateOptions::default());
    assert_eq!(scene.batches.len(), 1);
    let batch = &scene.batches[0];
    assert_eq!(d.layer(batch.layer).map(|l| l.name.as_str()), Some("Red"), "layer-0 entities take the insert's layer");
    assert_eq!(batch.ink, Ink::Rgb(0x0000FF), "BYBLOCK takes the insert's colour");
    let segs = segments(&scene);
    assert_eq!(segs.len(), 6, "a 3 × 2 array");
    assert!(
        segs.iter().any(|(a, b)| (a.x - 120.0).abs() < 1e-3 && (a.y - 20.0).abs() < 1e-3 && (b.x - 122.0).abs() < 1e-3)
    );
}

#[test]
fn cycles_and_huge_arrays_end() {
    let d = dxf(
        &[
            (0, "BLOCK"),
            (2, "A"),
            (0, "INSERT"),
            (2, "A"),
            (0, "LINE"),
            (11, "1"),
            (0, "ENDBLK"),
            (0, "BLOCK"),
            (2, "Empty"),
            (0, "ENDBLK"),
            (0, "BLOCK"),
            (2, "Dot"),
            (0, "POINT"),
            (0, "ENDBLK"),
        ],
        &[
            (0, "INSERT"),
            (2, "A"),
            (0, "INSERT"),
            (2, "Empty"),
            (70, "65535"),
            (71, "65535"),
            (0, "INSERT"),
            (2, "Dot"),
            (70, "65535"),
            (71, "65535"),
        ],
    );
    let started = Instant::now();
    let (scene, diagnostics) =
        scene_of(&d, &TessellateOptions { max_vertices: 200_000, ..TessellateOptions::default() });
    assert!(started.elapsed().as_secs() < 10);
    assert!(scene.truncated, "4 billion dots exceed the budget");
    assert!(diagnostics.iter().any(|d| d.message.contains("vertices")));
}

#[test]
fn an_array_of_a_long_text_ends_at_the_budget_by_the_memory_it_holds() {
    let long = "长".repeat(2_000);
    let d = dxf(
        &[(0, "BLOCK"), (2, "Note"), (0, "TEXT"), (40, "1"), (1, long.as_str()), (0, "ENDBLK")],
        &[(0, "INSERT"), (2, "Note"), (70, "65535"), (71, "65535")],
    );
    let budget = 1_000_000;
    let started = Instant::now();
    let (scene, _) = scene_of(&d, &TessellateOptions { max_vertices: budget, ..TessellateOptions::default() });
    assert!(started.elapsed().as_secs() < 10);
    assert!(scene.truncated, "four billion copies of a 6 kB text exceed the budget");
    let held: usize = scene.texts.iter().map(|t| t.text.len()).sum();
    assert!(held <= budget * 8, "the texts hold no more than the budget's worth of memory: {held} bytes");
    assert!(scene.texts.len() < 2_000, "each copy costs its characters: {} texts", scene.texts.len());
}

#[test]
fn solid_hatch_with_an_island_fills_the_ring() {
    let d = dxf(
        &[],
        &[
            (0, "HATCH"),
            (2, "SOLID"),
            (70, "1"),
            (91, "2"),
            (92, "3"),
            (72, "0"),
            (73, "1"),
            (93, "4"),
            (10, "0"),
            (20, "0"),
            (10, "10"),
            (20, "0"),
            (10, "10"),
            (20, "10"),
            (10, "0"),
            (20, "10"),
            (92, "16"),
            (93, "1"),
            (72, "2"),
            (10, "5"),
            (20, "5"),
            (40, "2"),
            (50, "0"),
            (51, "360"),
            (73, "1"),
        ],
    );
    let (scene, _) = scene_of(&d, &TessellateOptions { tolerance: 0.001, ..TessellateOptions::default() });
    let expected = 100.0 - std::f64::consts::PI * 4.0;
    assert!((triangle_area(&scene) - expected).abs() < 0.01, "{} vs {expected}", triangle_area(&scene));
}

#[test]
fn pattern_hatch_gives_clipped_lines() {
    let d = dxf(
        &[],
        &[
            (0, "HATCH"),
            (2, "ANSI31"),
            (70, "0"),
            (91, "1"),
            (92, "7"),
            (72, "0"),
            (73, "1"),
            (93, "4"),
            (10, "0"),
            (20, "0"),
            (10, "10"),
            (20, "0"),
            (10, "10"),
            (20, "10"),
            (10, "0"),
            (20, "10"),
            (75, "0"),
            (76, "1"),
            (52, "0"),
            (41, "1"),
            (78, "1"),
            (53, "45"),
            (43, "0"),
            (44, "0"),
            (45, "-0.5"),
            (46, "0.5"),
            (79, "0"),
        ],
    );
    let (scene, _) = scene_of(&d, &TessellateOptions::default());
    let segs = segments(&scene);
    assert!(segs.len() >= 19, "lines 0.71 apart across a 14.1 diagonal: {}", segs.len());
    assert!(
        segs.iter().all(|(a, b)| [a, b].iter().all(|p| p.x > -1e-3 && p.x < 10.001 && p.y > -1e-3 && p.y < 10.001))
    );
    assert_eq!(triangle_area(&scene), 0.0);
}

/// A HATCH over the square (0, 0)–(100, 100) naming `pattern`, with no pattern lines.
fn named_pattern_hatch(pattern: &str, scale: &str, angle: &str, double: &str) -> Drawing {
    let mut groups = vec![(0, "HATCH"), (2, pattern), (70, "0"), (91, "1"), (92, "7"), (72, "0"), (73, "1")];
    groups.extend([(93, "4"), (10, "0"), (20, "0"), (10, "100"), (20, "0"), (10, "100"), (20, "100")]);
    groups.extend([(10, "0"), (20, "100"), (75, "0"), (76, "1"), (52, angle), (41, scale), (77, double)]);
    groups.push((78, "0"));
    dxf(&[], &groups)
}

#[test]
fn named_patterns_without_lines_come_from_the_library() {
    let (ansi31, diagnostics) = scene_of(&named_pattern_hatch("ansi31", "1", "0", "0"), &TessellateOptions::default());
    let lines = segments(&ansi31);
    // 45° lines 3.175 apart across a 141-unit diagonal.
    assert!((43..=46).contains(&lines.len()), "{}", lines.len());
    assert!(lines.iter().all(|(a, b)| ((b.y - a.y) - (b.x - a.x)).abs() < 1e-6), "all at 45°");
    assert!(diagnostics.iter().all(|d| d.code != DiagnosticCode::UnknownHatchPattern));
    // Twice the scale: half the lines; double: a second family across them.
    let (scaled, _) = scene_of(&named_pattern_hatch("ANSI31", "2", "0", "0"), &TessellateOptions::default());
    assert!((21..=23).contains(&segments(&scaled).len()), "{}", segments(&scaled).len());
    let (double, _) = scene_of(&named_pattern_hatch("ANSI31", "2", "0", "1"), &TessellateOptions::default());
    assert!((42..=46).contains(&segments(&double).len()), "{}", segments(&double).len());
    // Turned by 45°: ANSI31's lines become vertical.
    let (turned, _) = scene_of(&named_pattern_hatch("ANSI31", "1", "45", "0"), &TessellateOptions::default());
    assert!(segments(&turned).iter().all(|(a, b)| (a.x - b.x).abs() < 1e-6), "vertical");
    // A dashed pattern and one of dots.
    let (brick, _) = scene_of(&named_pattern_hatch("BRICK", "1", "0", "0"), &TessellateOptions::default());
    assert!(segments(&brick).len() > 100, "{}", segments(&brick).len());
    let (dots, _) = scene_of(&named_pattern_hatch("DOTS", "10", "0", "0"), &TessellateOptions::default());
    let points: usize = dots.batches.iter().map(|b| b.point_owners.len()).sum();
    assert!(points > 10, "{points}");
    // SOLID by name is a fill.
    let (solid, _) = scene_of(&named_pattern_hatch("SOLID", "1", "0", "0"), &TessellateOptions::default());
    assert!((triangle_area(&solid) - 10_000.0).abs() < 1e-6);
}

#[test]
fn an_unknown_pattern_name_is_drawn_as_ansi31_and_named() {
    let (scene, diagnostics) =
        scene_of(&named_pattern_hatch("gost_non-metal", "1", "0", "0"), &TessellateOptions::default());
    assert!((43..=46).contains(&segments(&scene).len()), "ANSI31's lines: {}", segments(&scene).len());
    let unknown: Vec<_> = diagnostics.iter().filter(|d| d.code == DiagnosticCode::UnknownHatchPattern).collect();
    assert_eq!(unknown.len(), 1);
    assert!(unknown[0].message.contains("\"gost_non-metal\"") && unknown[0].message.contains("ANSI31"));
}

#[test]
fn texts_are_placed_through_their_insert() {
    let d = dxf(
        &[(0, "BLOCK"), (2, "Label"), (0, "TEXT"), (1, "Room"), (10, "1"), (20, "0"), (40, "2"), (0, "ENDBLK")],
        &[
            (0, "INSERT"),
            (2, "Label"),
            (10, "10"),
            (20, "10"),
            (41, "3"),
            (42, "3"),
            (50, "90"),
            (0, "MTEXT"),
            (1, "A\\PB"),
            (10, "0"),
            (20, "0"),
            (40, "1"),
            (71, "5"),
        ],
    );
    let (scene, _) = scene_of(&d, &TessellateOptions::default());
    let room = scene.texts.iter().find(|t| t.text == "Room").unwrap();
    let at = Vec2::new(f64::from(room.position[0]) + scene.origin.x, f64::from(room.position[1]) + scene.origin.y);
    assert!((at.x - 10.0).abs() < 1e-3 && (at.y - 13.0).abs() < 1e-3, "{at:?}");
    assert!((room.height - 6.0).abs() < 1e-4 && (room.rotation - std::f32::consts::FRAC_PI_2).abs() < 1e-5);
    let mtext = scene.texts.iter().find(|t| t.text == "A\nB").unwrap();
    assert_eq!((mtext.halign, mtext.valign), (1, 2), "attachment 5 is middle centre");
}

#[test]
fn widths_become_triangles_and_the_budget_is_kept() {
    let d = dxf(&[], &[(0, "LWPOLYLINE"), (43, "2"), (10, "0"), (20, "0"), (10, "10"), (20, "0")]);
    let (scene, _) = scene_of(&d, &TessellateOptions::default());
    assert!((triangle_area(&scene) - 20.0).abs() < 1e-3);

    let many: Vec<(i32, &str)> = std::iter::repeat_n([(0, "LINE"), (11, "1")], 1000).flatten().collect();
    let d = dxf(&[], &many);
    let (scene, _) = scene_of(&d, &TessellateOptions { max_vertices: 100, ..TessellateOptions::default() });
    assert!(scene.truncated && scene.vertices <= 102);
}

#[test]
fn rays_are_clipped_to_the_drawing_and_do_not_grow_it() {
    let d = dxf(&[], &[(0, "LINE"), (11, "10"), (21, "10"), (0, "XLINE"), (10, "5"), (20, "0"), (11, "0"), (21, "1")]);
    let (scene, _) = scene_of(&d, &TessellateOptions::default());
    let bounds = scene.bounds.unwrap();
    assert!((bounds.max.y - 10.0).abs() < 1e-9);
    let segs = segments(&scene);
    let xline = segs.iter().find(|(a, b)| (a.x - 5.0).abs() < 1e-3 && (b.x - 5.0).abs() < 1e-3).expect("the xline");
    assert!(xline.0.y < 0.0 && xline.1.y > 10.0 && xline.1.y < 100.0, "{xline:?}");
}

#[test]
fn paper_layouts_list_their_viewports() {
    let text = "0\nSECTION\n2\nENTITIES\n0\nVIEWPORT\n67\n1\n10\n100\n20\n50\n40\n80\n41\n60\n69\n2\n12\n5\n22\n5\n45\n10\n0\nVIEWPORT\n67\n1\n69\n1\n40\n420\n41\n297\n0\nENDSEC\n0\nEOF\n";
    let (d, _) = read(text.as_bytes(), &ReadOptions::default()).unwrap();
    let paper = d.layouts.iter().find(|l| !l.is_model()).unwrap();
    let (scene, _) = tessellate(&d, paper, &TessellateOptions::default()).unwrap();
    assert_eq!(scene.viewports.len(), 1, "the sheet itself (id 1) is not a window");
    assert_eq!((scene.viewports[0].view_height, scene.viewports[0].width), (10.0, 80.0));
    assert_eq!(segments(&scene).len(), 4, "its frame");
}

#[test]
fn the_cancel_hook_stops_tessellation() {
    let many: Vec<(i32, &str)> = std::iter::repeat_n([(0, "LINE"), (11, "1")], 2000).flatten().collect();
    let d = dxf(&[], &many);
    let cancel = || true;
    let model = d.layouts.iter().find(|l| l.is_model()).unwrap();
    let result = tessellate(&d, model, &TessellateOptions { cancel: Some(&cancel), ..TessellateOptions::default() });
    assert_eq!(result.err(), Some(TessellateError::Cancelled));
}

#[test]
fn linetypes_dash_lines_through_bylayer_and_byblock() {
    let text = "0\nSECTION\n2\nHEADER\n9\n$LTSCALE\n40\n2\n0\nENDSEC\n\
        0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nLTYPE\n0\nLTYPE\n2\nDASHED\n73\n2\n40\n0.75\n49\n0.5\n49\n-0.25\n0\nLTYPE\n2\nDOTS\n73\n2\n49\n0\n49\n-1\n0\nENDTAB\n\
        0\nTABLE\n2\nLAYER\n0\nLAYER\n2\nHidden\n62\n1\n6\nDASHED\n0\nENDTAB\n0\nENDSEC\n\
        0\nSECTION\n2\nBLOCKS\n0\nBLOCK\n2\nB\n0\nLINE\n6\nBYBLOCK\n11\n10\n0\nENDBLK\n0\nENDSEC\n\
        0\nSECTION\n2\nENTITIES\n0\nLINE\n8\nHidden\n10\n0\n20\n0\n11\n10\n21\n0\n\
        0\nINSERT\n2\nB\n6\nDOTS\n20\n5\n0\nENDSEC\n0\nEOF\n";
    let (d, _) = read(text.as_bytes(), &ReadOptions::default()).unwrap();
    let (scene, _) = scene_of(&d, &TessellateOptions::default());
    let dashes: Vec<(Vec2, Vec2)> = segments(&scene).into_iter().filter(|(a, _)| a.y.abs() < 1e-6).collect();
    // Pattern 0.5/-0.25 at $LTSCALE 2: 1.0 dash, 0.5 gap, seven dashes over 10 units.
    assert_eq!(dashes.len(), 7, "{dashes:?}");
    let drawn: f64 = dashes.iter().map(|(a, b)| b.x - a.x).sum();
    assert!((drawn - 7.0).abs() < 1e-4, "{drawn}");
    // The block's BYBLOCK line takes the insert's DOTS: points every 2 units at y = 5.
    let dots: usize = scene.batches.iter().map(|b| b.point_owners.len()).sum();
    assert_eq!(dots, 5, "dots at 0, 2, 4, 6, 8");
}

// ---- Layer state and colour against the background (issue 13, items 1 and 6) -------------------

/// A drawing with layers `0`, `Shown` (red), `Off` (colour -3: green, off), `Frozen` (70 bit 1,
/// blue), `Thawed` (yellow), plus `blocks` and `entities` (in the file's group syntax).
fn layered(blocks: &str, entities: &str) -> Drawing {
    let text = format!(
        "0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nLAYER\n\
0\nLAYER\n2\n0\n70\n0\n62\n7\n5\n10\n\
0\nLAYER\n2\nShown\n70\n0\n62\n1\n5\n11\n\
0\nLAYER\n2\nOff\n70\n0\n62\n-3\n5\n12\n\
0\nLAYER\n2\nFrozen\n70\n1\n62\n5\n5\n13\n\
0\nLAYER\n2\nThawed\n70\n0\n62\n2\n5\n14\n0\nENDTAB\n0\nENDSEC\n\
0\nSECTION\n2\nBLOCKS\n{blocks}0\nENDSEC\n0\nSECTION\n2\nENTITIES\n{entities}0\nENDSEC\n0\nEOF\n"
    );
    read(text.as_bytes(), &ReadOptions::default()).expect("reads").0
}

fn line(layer: &str, x: f64, y: f64) -> String {
    format!("0\nLINE\n8\n{layer}\n10\n{x}\n20\n{y}\n11\n{}\n21\n{y}\n", x + 10.0)
}

fn layer_named(d: &Drawing, name: &str) -> LayerId {
    d.find_layer(name).expect("the layer is declared")
}

/// Segments the drawing's layer state shows (what the exports draw).
fn shown_segments(scene: &Scene) -> usize {
    scene.batches.iter().filter(|b| scene.shows(b.layer)).map(|b| b.line_owners.len()).sum()
}

#[test]
fn a_layer_that_is_off_draws_nothing_but_stays_in_the_scene() {
    let d = layered("", &(line("Shown", 0.0, 0.0) + &line("Off", 500.0, 500.0)));
    let (scene, _) = scene_of(&d, &TessellateOptions::default());
    let off = layer_named(&d, "Off");
    assert!(!scene.shows(off), "colour -3 turns the layer off");
    assert!(scene.shows(layer_named(&d, "Shown")));
    assert_eq!(segments(&scene).len(), 2, "both lines are in the scene, so the viewer can turn the layer on");
    assert_eq!(shown_segments(&scene), 1, "only the line on the shown layer is drawn");
    let b = scene.bounds.expect("bounds");
    assert!(b.max.x <= 10.0 + 1e-9 && b.max.y <= 1e-9, "the bounds are those of what is shown: {b:?}");
}

#[test]
fn a_frozen_layer_draws_nothing() {
    let text = "0\nTEXT\n8\nFrozen\n10\n0\n20\n50\n40\n5\n1\nHIDDEN\n";
    let d = layered("", &(line("Shown", 0.0, 0.0) + &line("Frozen", 0.0, 20.0) + text));
    let (scene, _) = scene_of(&d, &TessellateOptions::default());
    let frozen = layer_named(&d, "Frozen");
    assert!(!scene.shows(frozen), "70 bit 1 freezes the layer");
    assert_eq!(shown_segments(&scene), 1);
    assert_eq!(scene.texts.len(), 1, "the frozen text is laid out for the viewer");
    assert_eq!(scene.texts[0].layer, frozen);
    let b = scene.bounds.expect("bounds");
    assert!(b.max.y < 1e-9, "neither the frozen line nor the frozen text grows the bounds: {b:?}");
}

#[test]
fn an_insert_on_a_frozen_layer_hides_its_whole_block() {
    // The block holds a line on layer 0, a line on a shown layer and a text on a shown layer; the
    // insert on the frozen layer carries an attribute on a shown layer.
    let block = format!(
        "0\nBLOCK\n2\nB\n10\n0\n20\n0\n{}{}0\nTEXT\n8\nShown\n10\n0\n20\n-5\n40\n2\n1\nIN BLOCK\n0\nENDBLK\n",
        line("0", 0.0, 0.0),
        line("Shown", 0.0, 5.0)
    );
    let entities = format!(
        "0\nINSERT\n8\nFrozen\n66\n1\n2\nB\n10\n100\n20\n0\n\
0\nATTRIB\n8\nShown\n10\n100\n20\n10\n40\n2\n1\nVALUE\n2\nTAG\n70\n0\n0\nSEQEND\n{}",
        line("Shown", 0.0, 0.0)
    );
    let d = layered(&block, &entities);
    let (scene, _) = scene_of(&d, &TessellateOptions::default());
    let frozen = layer_named(&d, "Frozen");
    assert_eq!(segments(&scene).len(), 3, "everything is in the scene");
    assert_eq!(shown_segments(&scene), 1, "only the line outside the insert is drawn");
    let content: Vec<&Batch> = scene.batches.iter().filter(|b| b.line_owners.contains(&0)).collect();
    assert!(content.iter().all(|b| b.layer == frozen), "the block's content is put on the insert's frozen layer");
    assert!(
        scene.texts.iter().all(|t| t.layer == frozen && !scene.shows(t.layer)),
        "its text and its attribute are hidden with it"
    );
    let red = scene.batches.iter().filter(|b| b.layer == frozen).any(|b| b.ink == Ink::Rgb(0xFF0000));
    assert!(red, "an entity keeps its own layer's colour (red) on the frozen layer's batch");
}

#[test]
fn an_insert_on_a_layer_that_is_off_hides_only_its_layer_0_content() {
    let block = format!("0\nBLOCK\n2\nB\n10\n0\n20\n0\n{}{}0\nENDBLK\n", line("0", 0.0, 0.0), line("Thawed", 0.0, 5.0));
    let d = layered(&block, "0\nINSERT\n8\nOff\n2\nB\n10\n100\n20\n0\n");
    let (scene, _) = scene_of(&d, &TessellateOptions::default());
    let (off, thawed) = (layer_named(&d, "Off"), layer_named(&d, "Thawed"));
    let layer_of = |y: f64| {
        scene
            .batches
            .iter()
            .find(|b| b.lines.chunks_exact(4).any(|s| (f64::from(s[1]) + scene.origin.y - y).abs() < 1e-6))
            .map(|b| b.layer)
    };
    assert_eq!(layer_of(0.0), Some(off), "layer 0 inside the block takes the insert's layer, which is off");
    assert_eq!(layer_of(5.0), Some(thawed), "an entity on a visible layer keeps it");
    assert_eq!(shown_segments(&scene), 1, "so the entity on the visible layer is still drawn");
    let b = scene.bounds.expect("bounds");
    assert!((b.min.y - 5.0).abs() < 1e-9, "and only it makes the bounds: {b:?}");
}

#[test]
fn layer_0_bylayer_and_byblock_follow_the_outer_insert_through_nested_blocks() {
    // Inner: a BYBLOCK line and a BYLAYER line with a BYBLOCK linetype, on layer 0. Middle: the
    // inner block inserted on layer 0, colour BYBLOCK, linetype BYBLOCK. Outer insert: layer
    // Shown (red), colour 3 (green), linetype DASHED.
    let text = "0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nLTYPE\n0\nLTYPE\n2\nDASHED\n73\n2\n40\n3\n49\n2\n49\n-1\n0\nENDTAB\n\
0\nTABLE\n2\nLAYER\n0\nLAYER\n2\n0\n62\n7\n0\nLAYER\n2\nShown\n62\n1\n0\nENDTAB\n0\nENDSEC\n\
0\nSECTION\n2\nBLOCKS\n\
0\nBLOCK\n2\nInner\n0\nLINE\n8\n0\n62\n0\n6\nBYBLOCK\n11\n30\n0\nLINE\n8\n0\n6\nBYBLOCK\n20\n10\n11\n30\n21\n10\n0\nENDBLK\n\
0\nBLOCK\n2\nMiddle\n0\nINSERT\n8\n0\n62\n0\n6\nBYBLOCK\n2\nInner\n0\nENDBLK\n0\nENDSEC\n\
0\nSECTION\n2\nENTITIES\n0\nINSERT\n8\nShown\n62\n3\n6\nDASHED\n2\nMiddle\n0\nENDSEC\n0\nEOF\n";
    let (d, _) = read(text.as_bytes(), &ReadOptions::default()).unwrap();
    let (scene, _) = scene_of(&d, &TessellateOptions::default());
    let shown = layer_named(&d, "Shown");
    assert!(scene.batches.iter().all(|b| b.layer == shown), "layer 0 resolves to the outermost insert's layer");
    let ink_at = |y: f32| {
        scene.batches.iter().find(|b| b.lines.chunks_exact(4).any(|s| (s[1] + scene.origin.y as f32 - y).abs() < 1e-4))
    };
    assert_eq!(ink_at(0.0).map(|b| b.ink), Some(Ink::Rgb(0x00FF00)), "BYBLOCK through BYBLOCK: the outer green");
    assert_eq!(ink_at(10.0).map(|b| b.ink), Some(Ink::Rgb(0xFF0000)), "BYLAYER on layer 0: the outer layer's red");
    // DASHED (2 on, 1 off) through two BYBLOCKs: ten dashes over 30 units on each line.
    let dashes = segments(&scene).iter().filter(|(a, _)| a.y.abs() < 1e-6).count();
    assert_eq!(dashes, 10, "BYBLOCK linetype through BYBLOCK: the outer DASHED");
    let dashes = segments(&scene).iter().filter(|(a, _)| (a.y - 10.0).abs() < 1e-6).count();
    assert_eq!(dashes, 10, "the BYBLOCK linetype of an entity on layer 0 too");
}

#[test]
fn viewports_name_the_layers_they_freeze() {
    let text = "0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nLAYER\n0\nLAYER\n2\n0\n5\n10\n62\n7\n\
0\nLAYER\n2\nWalls\n5\n2A\n62\n1\n0\nLAYER\n2\nNotes\n5\n2B\n62\n2\n0\nENDTAB\n0\nENDSEC\n\
0\nSECTION\n2\nENTITIES\n0\nVIEWPORT\n67\n1\n10\n100\n20\n50\n40\n80\n41\n60\n69\n2\n12\n5\n22\n5\n45\n10\n\
331\n2B\n331\nFFFF\n0\nVIEWPORT\n67\n1\n10\n300\n20\n50\n40\n80\n41\n60\n69\n3\n45\n10\n0\nENDSEC\n0\nEOF\n";
    let (d, _) = read(text.as_bytes(), &ReadOptions::default()).unwrap();
    let paper = d.layouts.iter().find(|l| !l.is_model()).unwrap();
    let (scene, _) = tessellate(&d, paper, &TessellateOptions::default()).unwrap();
    assert_eq!(scene.viewports.len(), 2);
    assert_eq!(scene.viewports[0].frozen_layers, vec![layer_named(&d, "Notes")], "a handle naming no layer is skipped");
    assert!(scene.viewports[1].frozen_layers.is_empty(), "the other viewport freezes nothing");
    assert!(scene.shows(layer_named(&d, "Notes")), "a viewport's freeze does not hide the layer elsewhere");
    let facts = crate::facts(&d, 32);
    let sheet = facts.layouts.iter().find(|l| l.name == paper.name).unwrap();
    assert_eq!(sheet.viewport_frozen_layers, vec!["Notes".to_owned()], "the facts name it for the CAD agent");
}

#[test]
fn facts_say_which_layers_are_off_or_frozen() {
    let facts = crate::facts(&layered("", &line("Off", 0.0, 0.0)), 32);
    let state = |name: &str| facts.layers.iter().find(|l| l.name == name).map(|l| (l.on, l.frozen));
    assert_eq!(state("Shown"), Some((true, false)));
    assert_eq!(state("Off"), Some((false, false)));
    assert_eq!(state("Frozen"), Some((true, true)));
}

#[test]
fn a_colour_that_blends_with_a_background_is_drawn_as_the_foreground() {
    let entity = |y: u32, colour: &str| format!("0\nLINE\n{colour}\n10\n0\n20\n{y}\n11\n10\n21\n{y}\n");
    let entities = [
        entity(0, "420\n16777215"), // true-colour white
        entity(1, "420\n16316664"), // #F8F8F8
        entity(2, "420\n0"),        // true-colour black
        entity(3, "62\n255"),       // ACI 255, white
        entity(4, "420\n14745600"), // #E10000: red, kept
        entity(5, "420\n15132390"), // #E6E6E6: ΔE 8.7 from white, kept
    ]
    .concat()
        + "0\nTEXT\n420\n16777215\n10\n0\n20\n8\n40\n1\n1\nWHITE\n";
    let text = format!("0\nSECTION\n2\nENTITIES\n{entities}0\nENDSEC\n0\nEOF\n");
    let (d, _) = read(text.as_bytes(), &ReadOptions::default()).unwrap();
    let (scene, _) = scene_of(&d, &TessellateOptions::default());
    let ink_at = |y: f32| {
        scene
            .batches
            .iter()
            .find(|b| b.lines.chunks_exact(4).any(|s| (s[1] + scene.origin.y as f32 - y).abs() < 1e-4))
            .map(|b| b.ink)
    };
    for y in 0..4 {
        assert_eq!(ink_at(y as f32), Some(Ink::Foreground), "line {y} blends with a background: drawn as ACI 7");
    }
    assert_eq!(ink_at(4.0), Some(Ink::Rgb(0xE10000)));
    assert_eq!(ink_at(5.0), Some(Ink::Rgb(0xE6E6E6)), "ΔE 8.7 from white is far enough");
    assert_eq!(scene.texts[0].ink, Ink::Foreground, "texts too");
    assert!(scene.glyphs.instances.iter().all(|g| g.ink == Ink::Foreground), "and their glyphs");
}

/// The two bombs of issue 12: one 32767 × 32767 MINSERT of a one-line block, and `levels` blocks
/// each holding a 2 × 2 MINSERT of the one before (the first holds the line), inserted once.
fn array_bomb() -> Drawing {
    dxf(
        &[(0, "BLOCK"), (2, "B"), (0, "LINE"), (11, "1"), (21, "1"), (0, "ENDBLK")],
        &[(0, "INSERT"), (2, "B"), (70, "32767"), (71, "32767"), (44, "2"), (45, "2")],
    )
}

fn nested_bomb(levels: usize) -> Drawing {
    let names: Vec<String> = (0..=levels).map(|k| format!("L{k}")).collect();
    let mut blocks = vec![(0, "BLOCK"), (2, "L0"), (0, "LINE"), (11, "1"), (21, "1"), (0, "ENDBLK")];
    for k in 1..=levels {
        blocks.extend([(0, "BLOCK"), (2, names[k].as_str()), (0, "INSERT"), (2, names[k - 1].as_str())]);
        blocks.extend([(70, "2"), (71, "2"), (44, "4"), (45, "4"), (0, "ENDBLK")]);
    }
    dxf(&blocks, &[(0, "INSERT"), (2, names[levels].as_str())])
}

#[test]
fn an_array_bomb_stops_at_the_instance_budget_and_counts_what_it_holds() {
    let d = array_bomb();
    let options = TessellateOptions { max_instances: 10_000, ..TessellateOptions::default() };
    let started = Instant::now();
    let (scene, diagnostics) = scene_of(&d, &options);
    assert!(started.elapsed().as_secs() < 10, "it ends quickly");
    assert!(scene.truncated, "a billion instances exceed the budget");
    let shortfall = scene.shortfall.expect("a truncated scene says why");
    assert_eq!(shortfall.limit, budget::Limit::Instances(10_000));
    assert_eq!(shortfall.instances_drawn, 10_000, "exactly the budget is drawn");
    assert_eq!(shortfall.instances_total, 32767 * 32767, "the total is counted, not drawn");
    assert_eq!(segments(&scene).len(), 10_000, "one line per instance drawn");
    let diagnostic = diagnostics.iter().find(|d| d.code == DiagnosticCode::OverBudget).expect("a diagnostic");
    assert!(
        diagnostic.message.starts_with("10000 of 1073676289 instances drawn: over the budget"),
        "{}",
        diagnostic.message
    );
}

#[test]
fn nested_arrays_are_counted_without_expanding_them() {
    let d = nested_bomb(30);
    let options = TessellateOptions { max_instances: 5_000, ..TessellateOptions::default() };
    let started = Instant::now();
    let (scene, diagnostics) = scene_of(&d, &options);
    assert!(started.elapsed().as_secs() < 10, "it ends quickly");
    let shortfall = scene.shortfall.expect("cut short");
    // 1 + 4 + 16 + … + 4^30 = (4^31 − 1) / 3 instances in all.
    assert_eq!(shortfall.instances_total, (4u64.pow(31) - 1) / 3);
    assert_eq!(shortfall.instances_drawn, 5_000);
    assert!(diagnostics.iter().any(|d| d.code == DiagnosticCode::OverBudget && d.message.contains("5000 of ")));
    // Deeper than u64 can count: the total saturates instead of overflowing.
    let deep = nested_bomb(40);
    let model = deep.layouts.iter().find(|l| l.is_model()).expect("model");
    assert_eq!(budget::instances_in(&deep, deep.layout_entities(model), 64), u64::MAX);
}

#[test]
fn the_vertex_budget_reports_the_instances_drawn_too() {
    let d = array_bomb();
    // Each instance costs one vertex and its line two: the vertex budget runs out first.
    let options = TessellateOptions { max_vertices: 3_000, ..TessellateOptions::default() };
    let (scene, diagnostics) = scene_of(&d, &options);
    let shortfall = scene.shortfall.expect("cut short");
    assert_eq!(shortfall.limit, budget::Limit::Vertices(3_000));
    assert!(shortfall.instances_drawn <= 1_000, "{shortfall:?}");
    assert!(scene.vertices <= 3_001, "no more than the budget: {}", scene.vertices);
    let message = &diagnostics.iter().find(|d| d.code == DiagnosticCode::OverBudget).expect("a diagnostic").message;
    assert!(message.contains("instances drawn: over the budget of 3000 vertices"), "{message}");
}

#[test]
fn a_drawing_within_its_budgets_reports_no_shortfall() {
    let d = nested_bomb(3);
    let (scene, diagnostics) = scene_of(&d, &TessellateOptions::default());
    assert!(!scene.truncated && scene.shortfall.is_none());
    assert_eq!(segments(&scene).len(), 64, "4^3 lines");
    assert!(diagnostics.iter().all(|d| d.code != DiagnosticCode::OverBudget));
    let model = d.layouts.iter().find(|l| l.is_model()).expect("model");
    assert_eq!(budget::instances_in(&d, d.layout_entities(model), 32), 1 + 4 + 16 + 64, "what it drew");
}
