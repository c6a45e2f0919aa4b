#![allow(clippy::unwrap_used)]

use super::*;
use crate::diagnostics::Diagnostic;
use crate::tessellate::{Scene, tessellate};
use crate::{ReadOptions, read};

fn entities(body: &str) -> String {
    format!("0\nSECTION\n2\nENTITIES\n{body}0\nENDSEC\n0\nEOF\n")
}

fn scene_of_bytes(dxf: &[u8]) -> (Scene, Vec<Diagnostic>) {
    let (drawing, _) = read(dxf, &ReadOptions::default()).unwrap();
    let layout = drawing.layouts.iter().find(|l| l.is_model()).cloned().unwrap_or_default();
    tessellate(&drawing, &layout, &TessellateOptions::default()).unwrap()
}

fn scene_of(body: &str) -> (Scene, Vec<Diagnostic>) {
    scene_of_bytes(entities(body).as_bytes())
}

/// A TEXT entity: `extra` holds more groups (alignment, second point, angles…).
fn text(s: &str, height: f64, extra: &str) -> String {
    format!("0\nTEXT\n10\n0\n20\n0\n40\n{height}\n1\n{s}\n{extra}")
}

/// The box the glyphs of text `index` cover, scene coordinates plus the origin (drawing units).
fn ink_box(scene: &Scene, index: u32) -> [f64; 4] {
    let set = &scene.glyphs;
    let mut b = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for i in set.instances.iter().filter(|i| i.text == index) {
        let m = set.meshes[i.mesh as usize];
        let [a, bb, c, d, tx, ty] = i.transform.map(f64::from);
        for xy in set.vertices[m.first as usize * 2..(m.first + m.count) as usize * 2].chunks_exact(2) {
            let (x, y) = (f64::from(xy[0]), f64::from(xy[1]));
            let (px, py) = (a * x + c * y + tx + scene.origin.x, bb * x + d * y + ty + scene.origin.y);
            b = [b[0].min(px), b[1].min(py), b[2].max(px), b[3].max(py)];
        }
    }
    b
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

#[test]
fn capitals_are_as_tall_as_the_text_height_on_the_baseline() {
    let (scene, _) = scene_of(&text("HH", 10.0, ""));
    let b = ink_box(&scene, 0);
    assert!(close(b[1], 0.0, 0.01) && close(b[3], 10.0, 0.01), "H stands on the baseline, 10 tall: {b:?}");
    assert!(b[0] > 0.0 && b[0] < 2.0, "left alignment starts at the insertion point (plus the side bearing): {b:?}");
}

#[test]
fn horizontal_and_vertical_alignments() {
    // Alignment point (11, 21) at (50, 20) for every case but left/baseline.
    let aligned = |h: i32, v: i32| text("HH", 10.0, &format!("72\n{h}\n73\n{v}\n11\n50\n21\n20\n"));
    let (scene, _) = scene_of(&[aligned(1, 0), aligned(2, 0), aligned(0, 3), aligned(4, 0), aligned(0, 1)].concat());
    let centre = ink_box(&scene, 0);
    assert!(close((centre[0] + centre[2]) / 2.0, 50.0, 0.5), "centred on the point: {centre:?}");
    assert!(close(centre[1], 20.0, 0.01), "on the point's baseline: {centre:?}");
    let right = ink_box(&scene, 1);
    assert!(right[2] < 50.0 && right[2] > 48.0, "ends at the point (less the side bearing): {right:?}");
    let top = ink_box(&scene, 2);
    assert!(close(top[3], 20.0, 0.01), "capitals hang from the point: {top:?}");
    let middle = ink_box(&scene, 3);
    assert!(close((middle[1] + middle[3]) / 2.0, 20.0, 0.01), "middle: half the capitals above: {middle:?}");
    assert!(close((middle[0] + middle[2]) / 2.0, 50.0, 0.5), "and centred: {middle:?}");
    let bottom = ink_box(&scene, 4);
    assert!(close(bottom[1], 20.0 + 10.0 / 3.0, 0.01), "bottom: the baseline a descender above: {bottom:?}");
}

#[test]
fn aligned_and_fit_span_their_two_points() {
    let between = |h: i32| text("HHHH", 10.0, &format!("72\n{h}\n11\n100\n21\n0\n"));
    let (scene, _) = scene_of(&[between(5), between(3)].concat());
    let fit = ink_box(&scene, 0);
    assert!(fit[0] >= 0.0 && fit[2] <= 100.0 && fit[2] - fit[0] > 90.0, "fit spans the points: {fit:?}");
    assert!(close(fit[3], 10.0, 0.01), "fit keeps the height: {fit:?}");
    let aligned = ink_box(&scene, 1);
    assert!(aligned[2] - aligned[0] > 90.0, "{aligned:?}");
    assert!(aligned[3] > 20.0, "aligned scales the height with the width: {aligned:?}");
    // Backwards: still between the two points, at the points' angle plus a half turn (as files
    // write it: 71 = 2, 50 = 180), so mirrored in X and turned it hangs below the baseline.
    let (scene, _) = scene_of(&text("HHHH", 10.0, "72\n5\n71\n2\n50\n180\n11\n100\n21\n0\n"));
    let backwards = ink_box(&scene, 0);
    assert!(backwards[0] >= -0.01 && backwards[2] <= 100.01 && backwards[2] - backwards[0] > 90.0, "{backwards:?}");
    let [a, _, _, d, _, _] = scene.glyphs.instances[0].transform;
    assert!(a > 0.0 && d < 0.0 && close(backwards[1], -10.0, 0.01), "{backwards:?}");
    // Slanted points turn the text with them.
    let (scene, _) = scene_of(&text("HHHH", 10.0, "72\n5\n11\n0\n21\n100\n"));
    let up = ink_box(&scene, 0);
    assert!(up[3] - up[1] > 90.0 && up[2] - up[0] < 15.0, "runs upwards: {up:?}");
}

#[test]
fn rotation_oblique_and_width_factor_shape_the_instance_transform() {
    let (scene, _) =
        scene_of(&[text("H", 10.0, ""), text("H", 10.0, "50\n90\n"), text("H", 10.0, "51\n30\n41\n2\n")].concat());
    let t = |i: u32| scene.glyphs.instances.iter().find(|g| g.text == i).unwrap().transform;
    let s = 10.0 / face(BundledFont::Latin).unwrap().cap_height;
    let [a, b, c, d, _, _] = t(0);
    assert!(close(f64::from(a), f64::from(s), 1e-3) && b == 0.0 && c == 0.0 && close(f64::from(d), f64::from(s), 1e-3));
    let [a, b, c, d, _, _] = t(1);
    assert!(a.abs() < 1e-4 && close(f64::from(b), f64::from(s), 1e-3), "rotated a quarter turn: {:?}", t(1));
    assert!(close(f64::from(c), -f64::from(s), 1e-3) && d.abs() < 1e-4);
    let [a, b, c, d, _, _] = t(2);
    assert!(close(f64::from(a), 2.0 * f64::from(s), 1e-3) && b == 0.0, "twice as wide: {:?}", t(2));
    assert!(close(f64::from(c), f64::from(s) * 30f64.to_radians().tan(), 1e-3), "leaning 30°: {:?}", t(2));
    assert!(close(f64::from(d), f64::from(s), 1e-3));
}

#[test]
fn backwards_and_upside_down_texts_are_mirrored() {
    let (scene, _) = scene_of(&[text("HH", 10.0, "71\n2\n"), text("HH", 10.0, "71\n4\n")].concat());
    let backwards = ink_box(&scene, 0);
    assert!(backwards[2] <= 0.01 && backwards[0] < -10.0, "runs left of the point: {backwards:?}");
    let upside_down = ink_box(&scene, 1);
    assert!(upside_down[3] <= 0.01 && close(upside_down[1], -10.0, 0.01), "hangs below: {upside_down:?}");
    let t = scene.glyphs.instances.iter().find(|g| g.text == 0).unwrap().transform;
    assert!(t[0] < 0.0, "x mirrored: {t:?}");
}

#[test]
fn one_mesh_per_glyph_one_instance_per_character() {
    let (scene, _) = scene_of(&[text("AA", 5.0, ""), text("A A", 5.0, "20\n20\n")].concat());
    assert_eq!(scene.glyphs.meshes.len(), 1, "A is triangulated once");
    assert_eq!(scene.glyphs.instances.len(), 4, "four A's, the space draws nothing");
    assert!(scene.glyphs.instances.iter().all(|i| i.mesh == 0));
    let xs: Vec<f32> = scene.glyphs.instances.iter().filter(|i| i.text == 1).map(|i| i.transform[4]).collect();
    assert!(xs[1] - xs[0] > 5.0, "the space advances the pen: {xs:?}");
}

#[test]
fn chinese_falls_back_to_the_cjk_font_and_gbk_text_too() {
    let (scene, diagnostics) = scene_of(&text("Room 房间 A", 10.0, ""));
    let fonts: Vec<BundledFont> = scene
        .glyphs
        .instances
        .iter()
        .map(|i| match scene.glyphs.meshes[i.mesh as usize].source {
            GlyphSource::Font { font, .. } => font,
            other => panic!("{other:?}"),
        })
        .collect();
    use BundledFont::{Cjk, Latin};
    assert_eq!(fonts, [Latin, Latin, Latin, Latin, Cjk, Cjk, Latin]);
    assert!(diagnostics.iter().all(|d| d.code != DiagnosticCode::MissingGlyph));
    // An SHX style sizes the ideographs as a big font does: as tall as the text, on the baseline.
    let (scene, _) = scene_of(&text("中", 10.0, ""));
    let b = ink_box(&scene, 0);
    assert!(close(b[1], 0.0, 0.05) && close(b[3], 10.0, 0.05), "{b:?}");

    // 中文 in GBK under $DWGCODEPAGE ANSI_936.
    let mut dxf = b"0\nSECTION\n2\nHEADER\n9\n$DWGCODEPAGE\n3\nANSI_936\n0\nENDSEC\n0\nSECTION\n2\nENTITIES\n0\nTEXT\n10\n0\n20\n0\n40\n5\n1\n".to_vec();
    dxf.extend_from_slice(&[0xD6, 0xD0, 0xCE, 0xC4]);
    dxf.extend_from_slice(b"\n0\nENDSEC\n0\nEOF\n");
    let (scene, _) = scene_of_bytes(&dxf);
    assert_eq!(scene.texts[0].text, "中文");
    assert_eq!(scene.glyphs.meshes.len(), 2);
    assert!(
        scene.glyphs.meshes.iter().all(|m| matches!(m.source, GlyphSource::Font { font: BundledFont::Cjk, .. })),
        "{:?}",
        scene.glyphs.meshes
    );
}

#[test]
fn a_truetype_cjk_style_draws_latin_from_its_own_font() {
    let style = "0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nSTYLE\n0\nSTYLE\n2\nCN\n70\n0\n40\n0\n41\n1\n3\nsimsun.ttc\n4\n\n0\nENDTAB\n0\nENDSEC\n";
    let dxf = format!("{style}{}", entities(&text("Ab中", 10.0, "7\nCN\n")));
    let (scene, _) = scene_of_bytes(dxf.as_bytes());
    assert!(
        scene.glyphs.meshes.iter().all(|m| matches!(m.source, GlyphSource::Font { font: BundledFont::Cjk, .. })),
        "SimSun maps to the CJK font, which has Latin letters too"
    );
    let b = ink_box(&scene, 0);
    assert!(b[3] > 11.0, "TrueType sizing: capitals 10 tall, ideographs taller: {b:?}");
}

#[test]
fn missing_characters_are_boxes_and_counted() {
    let (scene, diagnostics) = scene_of(&[text("aक", 5.0, ""), text("กกก", 5.0, "20\n20\n")].concat());
    let boxes = scene.glyphs.meshes.iter().position(|m| m.source == GlyphSource::MissingBox).unwrap() as u32;
    assert_eq!(scene.glyphs.instances.iter().filter(|i| i.mesh == boxes).count(), 4);
    let missing: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.code == DiagnosticCode::MissingGlyph).collect();
    assert_eq!(missing.len(), 1, "one diagnostic for all of them: {diagnostics:?}");
    assert!(missing[0].message.starts_with("4 characters"), "{}", missing[0].message);
    assert!(missing[0].message.contains("U+0915") && missing[0].message.contains("U+0E01"));
    // A text entirely of missing characters still shows where it is and how long.
    let b = ink_box(&scene, 1);
    assert!(b[2] - b[0] > 5.0 && close(b[3], 25.0, 0.01), "{b:?}");
    assert!(scene.bounds.unwrap().max.y >= 25.0, "and frames the drawing");
}

#[test]
fn mtext_wraps_words_and_cjk_and_keeps_paragraphs() {
    // 41: column width. Words of three letters, one per line at width 20 with height 5.
    let mtext =
        |content: &str, width: f64| format!("0\nMTEXT\n10\n0\n20\n0\n40\n5\n41\n{width}\n71\n1\n1\n{content}\n");
    let lines = |scene: &Scene, index: u32| {
        let mut ys: Vec<i64> = scene
            .glyphs
            .instances
            .iter()
            .filter(|i| i.text == index)
            .map(|i| (f64::from(i.transform[5]) * 100.0).round() as i64)
            .collect();
        ys.sort_unstable();
        ys.dedup();
        ys.len()
    };
    let (scene, _) = scene_of(
        &[
            mtext("abc def ghi", 20.0),
            mtext("abc def ghi", 0.0),
            mtext("中文中文中文", 12.0),
            mtext(r"one\Ptwo\P\Pfour", 0.0),
            mtext("abcdefghijklmnop", 10.0),
        ]
        .concat(),
    );
    assert_eq!(lines(&scene, 0), 3, "a word a line");
    assert_eq!(lines(&scene, 1), 1, "no width, no wrapping");
    assert_eq!(lines(&scene, 2), 3, "ideographs wrap between any two: two a line");
    assert_eq!(lines(&scene, 3), 3, "paragraphs, the empty one keeping its line");
    assert_eq!(lines(&scene, 4), 1, "a word wider than the column overflows it");
    let top = ink_box(&scene, 0);
    assert!(close(top[3], 0.0, 0.3) && top[0] >= 0.0, "attachment 1: capitals hang from the point, left: {top:?}");
    let four = ink_box(&scene, 3);
    let pitch = 5.0 * 5.0 / 3.0;
    assert!(close(four[1], -5.0 - 3.0 * pitch, 0.5), "four lines down, 5/3 of the height apart: {four:?}");
}

#[test]
fn mtext_runs_change_font_height_colour_and_stack_fractions() {
    let body = "0\nMTEXT\n10\n0\n20\n0\n40\n10\n71\n7\n1\n{\\C1;R}{\\H2x;B}\\S1/2;{\\fSimHei;x}\n";
    let (scene, _) = scene_of(body);
    let set = &scene.glyphs;
    assert_eq!(set.instances[0].ink, Ink::Rgb(0xFF0000), "\\C1: red");
    assert_eq!(set.instances[1].ink, Ink::Foreground);
    let height = |i: usize| {
        let m = set.meshes[set.instances[i].mesh as usize];
        let ys = set.vertices[m.first as usize * 2..(m.first + m.count) as usize * 2].chunks_exact(2).map(|v| v[1]);
        let (lo, hi) = ys.fold((f32::MAX, f32::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
        (hi - lo) * set.instances[i].transform[3]
    };
    assert!(close(f64::from(height(1)), 20.0, 0.05), "\\H2x doubles B: {}", height(1));
    // 1/2 stacked: two small digits and a bar (a rule), side by side with nothing else.
    let rule = set.meshes.iter().position(|m| m.source == GlyphSource::Rule).unwrap() as u32;
    assert_eq!(set.instances.iter().filter(|i| i.mesh == rule).count(), 1, "the fraction's bar");
    let digits: Vec<&GlyphInstance> = set.instances[2..4].iter().collect();
    assert!(digits[0].transform[5] > digits[1].transform[5], "1 above 2");
    assert!(close(f64::from(digits[0].transform[4]), f64::from(digits[1].transform[4]), 0.5), "stacked");
    let last = set.instances.last().unwrap();
    assert!(
        matches!(set.meshes[last.mesh as usize].source, GlyphSource::Font { font: BundledFont::Cjk, .. }),
        "\\fSimHei switches to the CJK font"
    );
    // Attachment 7: bottom left; the block's last baseline on the point.
    assert!(close(f64::from(set.instances[0].transform[5]) + scene.origin.y, 0.0, 0.01));
}

#[test]
fn hostile_texts_stay_bounded() {
    // Ten million characters: laid out up to the cap, with a diagnostic.
    let long = "W".repeat(10_000_000);
    let (scene, diagnostics) = scene_of(&text(&long, 1.0, ""));
    assert_eq!(scene.glyphs.instances.len(), MAX_TEXT_CHARS);
    assert!(diagnostics.iter().any(|d| d.message.contains("longer than")), "{diagnostics:?}");
    // A height of 1e300 and 1e30: nothing placed out of range, nothing infinite in the scene.
    let (scene, diagnostics) = scene_of(&[text("H", 1e300, ""), text("H", 1e30, "20\n5\n")].concat());
    assert!(scene.glyphs.instances.iter().all(|i| i.transform.iter().all(|v| v.is_finite())));
    assert!(diagnostics.iter().any(|d| d.message.contains("not drawn")), "{diagnostics:?}");
    // Not-a-number placements, straight into the layout.
    let drawing = Drawing::default();
    let item = |position: [f32; 2], height: f32, rotation: f32| TextItem {
        owner: 0,
        layer: crate::model::LayerId(0),
        ink: Ink::Foreground,
        text: "AB".into(),
        position,
        height,
        rotation,
        width_factor: f32::NAN,
        oblique: f32::INFINITY,
        halign: 5,
        valign: 9,
        wrap_width: f32::NAN,
        style: crate::model::TextStyleId(7),
        fit_length: f32::NAN,
        mirror: 255,
        mtext: true,
        line_spacing: f32::NAN,
        runs: Vec::new(),
    };
    let texts = [
        item([f32::NAN, 0.0], 1.0, 0.0),
        item([0.0, 0.0], f32::NAN, 0.0),
        item([0.0, 0.0], 1.0, f32::INFINITY),
        item([0.0, 0.0], 1.0, 0.0),
    ];
    let mut diag = DiagnosticSink::default();
    let out = lay_out(&drawing, &texts, &[], 0, &TessellateOptions::default(), &mut diag);
    assert_eq!(out.set.instances.len(), 2, "only the last text is placeable");
    assert!(out.set.instances.iter().all(|i| i.transform.iter().all(|v| v.is_finite())));
    // The vertex budget counts instances: a small budget cuts the layout short.
    let options = TessellateOptions { max_vertices: 1000, ..TessellateOptions::default() };
    let out = lay_out(&drawing, &vec![item([0.0, 0.0], 1.0, 0.0); 500], &[], 0, &options, &mut diag);
    assert!(out.truncated && out.set.instances.len() < 250, "{}", out.set.instances.len());
}
