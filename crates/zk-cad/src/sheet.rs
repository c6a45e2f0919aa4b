//! What an export (SVG, PNG, thumbnail) draws for a layout: its scene tessellated at the
//! export's resolution (curves within about a quarter of an output pixel, whatever the size),
//! and for a paper layout, model space seen through each of its viewports (clipped to the
//! viewport's rectangle, at its scale, twist and view centre, without its frozen layers).
//! Pure: the renderers in [`crate::svg`] and [`crate::raster`] draw a [`Sheet`].

use crate::diagnostics::{Diagnostic, DiagnosticCode, Severity};
use crate::extents::entities_extents;
use crate::geometry::Bounds;
use crate::model::{Drawing, LayerId, Layout};
use crate::nesting::HARD_DEPTH_CAP;
use crate::tessellate::{Scene, TessellateError, TessellateOptions, ViewportFrame, tessellate};

/// The largest distance between a curve and its chords in an export, in output pixels.
pub const EXPORT_TOLERANCE_PX: f64 = 0.25;

/// A viewport's scale (paper units per model unit) outside this range draws nothing through it.
const SCALE_RANGE: (f64, f64) = (1e-12, 1e12);

/// The share of the frame's larger side left as a margin on each side (the SVG and PNG agree).
pub(crate) const MARGIN: f64 = 0.02;

/// A layout as an export draws it.
#[derive(Debug)]
pub struct Sheet {
    /// The layout's own scene (for a paper layout: the sheet's entities and viewport frames).
    pub scene: Scene,
    /// Model space, tessellated once for all the views, when a paper layout has a viewport that
    /// shows it.
    pub model: Option<Scene>,
    pub views: Vec<SheetView>,
}

/// Model space through one viewport.
#[derive(Clone, Debug, PartialEq)]
pub struct SheetView {
    /// Model-scene coordinates (relative to the model scene's origin) → layout-scene coordinates
    /// (relative to the layout scene's origin): `x' = a·x + c·y + e`, `y' = b·x + d·y + f` for
    /// `[a, b, c, d, e, f]`.
    pub affine: [f64; 6],
    /// The viewport's rectangle in layout-scene coordinates: min x, min y, max x, max y.
    pub clip: [f64; 4],
    /// The viewport's clipping boundary (a closed polygon in layout-scene coordinates) when the
    /// viewport is clipped by an entity (group 340, status bit 0x10000); it clips instead of
    /// `clip`.
    pub outline: Option<Vec<[f64; 2]>>,
    /// Layers frozen in this viewport.
    pub frozen_layers: Vec<LayerId>,
}

impl SheetView {
    /// Whether model space drawn through this view shows `layer` (the drawing's layer state, then
    /// the viewport's freezes).
    pub fn shows(&self, model: &Scene, layer: LayerId) -> bool {
        model.shows(layer) && !self.frozen_layers.contains(&layer)
    }
}

/// The frame of an export: the scene's bounds (relative to its origin) with the margin, fitted
/// within `width` pixels across and `max_height` down (a tall drawing is narrowed to fit, never
/// cut). Returns (min x, min y, width, height) in scene units, the pixel size and pixels per unit.
pub(crate) fn fit(
    bounds: Option<Bounds>,
    origin: crate::geometry::Vec2,
    width: u32,
    max_width: u32,
    max_height: u32,
) -> ([f64; 4], (u32, u32), f64) {
    let rect = match bounds {
        Some(b) if b.min.x.is_finite() && b.max.x.is_finite() && b.min.y.is_finite() && b.max.y.is_finite() => {
            let (x0, y0) = (b.min.x - origin.x, b.min.y - origin.y);
            let (w, h) = ((b.max.x - b.min.x).max(1e-9), (b.max.y - b.min.y).max(1e-9));
            let m = w.max(h) * MARGIN;
            [x0 - m, y0 - m, w + 2.0 * m, h + 2.0 * m]
        }
        _ => [-1.0, -1.0, 2.0, 2.0],
    };
    let (w, h) = (rect[2], rect[3]);
    let mut scale = f64::from(width.clamp(1, max_width)) / w;
    if h * scale > f64::from(max_height) {
        scale = f64::from(max_height) / h;
    }
    let px_w = (w * scale).round().clamp(1.0, f64::from(max_width)) as u32;
    let px_h = (h * scale).round().clamp(1.0, f64::from(max_height)) as u32;
    (rect, (px_w, px_h), scale)
}

/// Tessellates `layout` for an export `width` pixels across (at most `max_width` × `max_height`),
/// and for a paper layout model space for its viewports. The tolerance is the caller's when set,
/// else [`EXPORT_TOLERANCE_PX`] at the export's scale.
pub fn prepare(
    drawing: &Drawing,
    layout: &Layout,
    options: &TessellateOptions<'_>,
    width: u32,
    max_size: (u32, u32),
) -> Result<(Sheet, Vec<Diagnostic>), TessellateError> {
    let (max_width, max_height) = max_size;
    let depth = options.max_block_depth.min(HARD_DEPTH_CAP);
    let fixed = options.tolerance > 0.0 && options.tolerance.is_finite();
    let tolerance_for = |bounds: Option<Bounds>| {
        let (rect, _, scale) = fit(bounds, crate::geometry::Vec2::default(), width, max_width, max_height);
        // Never finer than f32 coordinates can tell apart.
        (EXPORT_TOLERANCE_PX / scale).max(rect[2].max(rect[3]) * 1e-7)
    };
    let extents = entities_extents(drawing, drawing.layout_entities(layout), depth);
    let mut layout_options = TessellateOptions { ..*options };
    if !fixed {
        layout_options.tolerance = tolerance_for(extents);
    }
    let (mut scene, mut diagnostics) = tessellate(drawing, layout, &layout_options)?;
    if !fixed {
        // What the layer state hides is not framed: the picture may be larger than the extents
        // said. Once more, finer, when the chords would stray past half a pixel.
        let wanted = tolerance_for(scene.bounds);
        if wanted < scene.tolerance * 0.5 {
            layout_options.tolerance = wanted;
            (scene, diagnostics) = tessellate(drawing, layout, &layout_options)?;
        }
    }
    let mut sheet = Sheet { scene, model: None, views: Vec::new() };
    if layout.is_model() || sheet.scene.viewports.is_empty() {
        return Ok((sheet, diagnostics));
    }
    let Some(model_layout) = drawing.layouts.iter().find(|l| l.is_model()) else {
        return Ok((sheet, diagnostics));
    };
    // The model scene's origin is the centre of model space's extents (as `tessellate` picks it).
    let model_extents = entities_extents(drawing, drawing.layout_entities(model_layout), depth);
    let Some(model_bounds) = model_extents else {
        return Ok((sheet, diagnostics));
    };
    let model_origin = crate::geometry::Vec2::new(
        (model_bounds.min.x + model_bounds.max.x) / 2.0,
        (model_bounds.min.y + model_bounds.max.y) / 2.0,
    );
    let mut largest_scale: f64 = 0.0;
    let paper_origin = sheet.scene.origin;
    for frame in &sheet.scene.viewports {
        match view(frame, model_origin) {
            Some((mut view, k)) => {
                largest_scale = largest_scale.max(k);
                match clip_outline(drawing, layout, frame, paper_origin, sheet.scene.tolerance) {
                    Ok(outline) => view.outline = outline,
                    Err(problem) => diagnostics.push(Diagnostic {
                        severity: Severity::Warning,
                        code: DiagnosticCode::InvalidGeometry,
                        message: format!(
                            "a viewport of layout {} is clipped by an entity that {problem}: it is clipped to its \
                             rectangle instead",
                            layout.name
                        ),
                        location: None,
                    }),
                }
                sheet.views.push(view);
            }
            None => diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                code: DiagnosticCode::InvalidGeometry,
                message: format!(
                    "a viewport of layout {} has a size, scale, twist or view centre that is zero or not a number \
                     ({} × {}, view height {}, twist {}°): model space is not drawn through it",
                    layout.name, frame.width, frame.height, frame.view_height, frame.twist_deg
                ),
                location: None,
            }),
        }
    }
    if sheet.views.is_empty() {
        return Ok((sheet, diagnostics));
    }
    // Fine enough for the most magnified view, and no finer than model space's size allows.
    let model_size = (model_bounds.max.x - model_bounds.min.x).max(model_bounds.max.y - model_bounds.min.y);
    let model_tolerance =
        if fixed { options.tolerance } else { (sheet.scene.tolerance / largest_scale).max(model_size * 5e-6) };
    let model_options = TessellateOptions { tolerance: model_tolerance, ..*options };
    let (model, more) = tessellate(drawing, model_layout, &model_options)?;
    diagnostics.extend(more);
    // Bounds that hide layers move the origin: the affines are relative to the model scene's.
    if model.origin != model_origin {
        let (dx, dy) = (model.origin.x - model_origin.x, model.origin.y - model_origin.y);
        for view in &mut sheet.views {
            let [a, b, c, d, e, f] = view.affine;
            view.affine = [a, b, c, d, e + a * dx + c * dy, f + b * dx + d * dy];
        }
    }
    sheet.model = Some(model);
    Ok((sheet, diagnostics))
}

/// The view through a viewport frame and its scale, `None` when its size, scale, twist or view
/// centre is not usable.
fn view(frame: &ViewportFrame, model_origin: crate::geometry::Vec2) -> Option<(SheetView, f64)> {
    let (w, h) = (f64::from(frame.width), f64::from(frame.height));
    let (cx, cy) = (f64::from(frame.center[0]), f64::from(frame.center[1]));
    let k = h / frame.view_height;
    let usable = w.is_finite()
        && h.is_finite()
        && w > 0.0
        && h > 0.0
        && cx.is_finite()
        && cy.is_finite()
        && k.is_finite()
        && (SCALE_RANGE.0..=SCALE_RANGE.1).contains(&k)
        && frame.twist_deg.is_finite()
        && frame.view_center.x.is_finite()
        && frame.view_center.y.is_finite();
    if !usable {
        return None;
    }
    let angle = frame.twist_deg.to_radians();
    let (cos, sin) = (angle.cos() * k, angle.sin() * k);
    // p = C + R·k·(m + O − V)
    let (dx, dy) = (model_origin.x - frame.view_center.x, model_origin.y - frame.view_center.y);
    let affine = [cos, sin, -sin, cos, cx + cos * dx - sin * dy, cy + sin * dx + cos * dy];
    if affine.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let clip = [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0];
    Some((SheetView { affine, clip, outline: None, frozen_layers: frame.frozen_layers.clone() }, k))
}

/// Status bit of a VIEWPORT (group 90): clipped by the entity its group 340 names.
const NON_RECTANGULAR_CLIP: i32 = 0x10000;

/// The clipping boundary of the viewport behind `frame`, as a polygon in layout-scene coordinates:
/// `Ok(None)` when the viewport is clipped by its rectangle, `Err` (what is wrong with the entity)
/// when it names one that cannot clip (missing, open, not a polyline or circle, degenerate).
fn clip_outline(
    drawing: &Drawing,
    layout: &Layout,
    frame: &ViewportFrame,
    origin: crate::geometry::Vec2,
    tolerance: f64,
) -> Result<Option<Vec<[f64; 2]>>, String> {
    use crate::entity::EntityKind;
    use crate::geometry::Vec2;
    use crate::tessellate::flatten;

    let Some(EntityKind::Viewport(viewport)) =
        drawing.layout_entities(layout).nth(frame.owner as usize).map(|e| &e.kind)
    else {
        return Ok(None);
    };
    if viewport.status & NON_RECTANGULAR_CLIP == 0 || viewport.clip_boundary == 0 {
        return Ok(None);
    }
    let handle = viewport.clip_boundary;
    let Some(entity) = drawing.layout_entities(layout).find(|e| e.common.handle == handle) else {
        return Err(format!("the sheet does not hold (handle {handle:X})"));
    };
    let mut points: Vec<Vec2> = Vec::new();
    match &entity.kind {
        EntityKind::LwPolyline(p) => {
            let closed = p.closed || (p.vertices.len() > 2 && p.vertices.first() == p.vertices.last());
            if !closed {
                return Err("is not closed".to_owned());
            }
            if p.normal.z < 0.0 {
                return Err("is upside down (extrusion -Z)".to_owned());
            }
            let n = p.vertices.len();
            for (i, v) in p.vertices.iter().enumerate() {
                points.push(*v);
                if let Some(next) = p.vertices.get((i + 1) % n) {
                    flatten::bulge(*v, *next, p.bulge(i), tolerance, &mut points);
                    points.pop();
                }
            }
        }
        EntityKind::Polyline(p) => {
            if !p.closed {
                return Err("is not closed".to_owned());
            }
            let n = p.vertices.len();
            for (i, v) in p.vertices.iter().enumerate() {
                points.push(v.location.xy());
                if let Some(next) = p.vertices.get((i + 1) % n) {
                    flatten::bulge(v.location.xy(), next.location.xy(), v.bulge, tolerance, &mut points);
                    points.pop();
                }
            }
        }
        EntityKind::Circle { center, radius, .. } => {
            flatten::arc(center.xy(), *radius, 0.0, 0.0, tolerance, &mut points);
            points.pop();
        }
        other => return Err(format!("is a {} (a polyline or circle clips)", other.dxf_name())),
    }
    let outline: Vec<[f64; 2]> = points.iter().map(|p| [p.x - origin.x, p.y - origin.y]).collect();
    // The shoelace area: a polygon with no area (or a point that is not a number) clips nothing.
    let area: f64 =
        outline.iter().zip(outline.iter().cycle().skip(1)).map(|(a, b)| a[0] * b[1] - b[0] * a[1]).sum::<f64>() / 2.0;
    if outline.len() < 3 || !area.is_finite() || area == 0.0 {
        return Err("has no area".to_owned());
    }
    Ok(Some(outline))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::raster::{RasterOptions, render_png, sheet_to_pixmap};
    use crate::svg::{Background, SvgOptions, render_svg};
    use crate::{ReadOptions, read};
    use tiny_skia::Pixmap;

    /// Layers Walls (red, handle 2A) and Notes (green, 2B). Model space: a red solid over
    /// [-500, 100] × [-500, 500] and a green one over [200, 300] × [0, 100]. The sheet (420 × 297,
    /// its border a closed polyline): the sheet's own viewport (id 1, not a view), viewport A
    /// (id 2) centred at (100, 100), 160 × 60, on model (150, 50) at scale 0.5 (view height 120),
    /// freezing Notes; viewport B (id 3) centred at (300, 100), 120 × 80, on model (150, 50) at
    /// scale 0.2 (view height 400), twisted 30°.
    const SHEET: &str = "0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nLAYER\n\
0\nLAYER\n2\nWalls\n5\n2A\n62\n1\n0\nLAYER\n2\nNotes\n5\n2B\n62\n3\n0\nENDTAB\n0\nENDSEC\n\
0\nSECTION\n2\nENTITIES\n\
0\nSOLID\n8\nWalls\n10\n-500\n20\n-500\n11\n100\n21\n-500\n12\n-500\n22\n500\n13\n100\n23\n500\n\
0\nSOLID\n8\nNotes\n10\n200\n20\n0\n11\n300\n21\n0\n12\n200\n22\n100\n13\n300\n23\n100\n\
0\nLWPOLYLINE\n67\n1\n90\n4\n70\n1\n10\n0\n20\n0\n10\n420\n20\n0\n10\n420\n20\n297\n10\n0\n20\n297\n\
0\nVIEWPORT\n67\n1\n10\n210\n20\n148.5\n40\n420\n41\n297\n69\n1\n12\n0\n22\n0\n45\n297\n\
0\nVIEWPORT\n67\n1\n10\n100\n20\n100\n40\n160\n41\n60\n69\n2\n12\n150\n22\n50\n45\n120\n341\n2B\n\
0\nVIEWPORT\n67\n1\n10\n300\n20\n100\n40\n120\n41\n80\n69\n3\n12\n150\n22\n50\n45\n400\n51\n30\n\
0\nENDSEC\n0\nEOF\n";

    /// The sheet's frame at `width` pixels: paper (x, y) → pixel.
    fn to_pixel(width: u32, x: f64, y: f64) -> (u32, u32) {
        let margin = 420.0 * MARGIN;
        let scale = f64::from(width) / (420.0 + 2.0 * margin);
        (((x + margin) * scale) as u32, ((297.0 + margin - y) * scale) as u32)
    }

    fn rgb(pixmap: &Pixmap, (x, y): (u32, u32)) -> [u8; 3] {
        let p = pixmap.pixel(x, y).unwrap();
        [p.red(), p.green(), p.blue()]
    }

    const RED: [u8; 3] = [0xFF, 0, 0];
    const GREEN: [u8; 3] = [0, 0xFF, 0];
    const WHITE: [u8; 3] = [0xFF, 0xFF, 0xFF];

    fn sheet(dxf: &str) -> (Drawing, Layout) {
        let (drawing, _) = read(dxf.as_bytes(), &ReadOptions::default()).unwrap();
        let paper = drawing.layouts.iter().find(|l| !l.is_model()).cloned().unwrap();
        (drawing, paper)
    }

    /// Compares `png` with the pinned `tests/snapshots/cad/NAME.png` (at most 1 % of pixels
    /// differing by more than 64 in a channel), or pins it under `ZK_UPDATE_SNAPSHOTS=1`.
    fn check_snapshot(name: &str, png: &[u8]) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/snapshots/cad")
            .join(format!("{name}.png"));
        if std::env::var("ZK_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
            std::fs::write(&path, png).unwrap();
            return;
        }
        let pinned = Pixmap::decode_png(&std::fs::read(&path).expect("the snapshot is pinned")).unwrap();
        let actual = Pixmap::decode_png(png).unwrap();
        assert_eq!((pinned.width(), pinned.height()), (actual.width(), actual.height()), "{name}: size");
        let differing = pinned
            .pixels()
            .iter()
            .zip(actual.pixels())
            .filter(|(a, b)| {
                let c = |p: &tiny_skia::PremultipliedColorU8| [p.red(), p.green(), p.blue(), p.alpha()];
                c(a).iter().zip(c(b)).any(|(x, y)| x.abs_diff(y) > 64)
            })
            .count();
        assert!(differing * 100 <= pinned.pixels().len(), "{name}: {differing} pixels differ from the pinned image");
    }

    #[test]
    fn a_sheet_shows_model_space_through_each_viewport_clipped_at_its_scale_and_twist() {
        let (drawing, paper) = sheet(SHEET);
        let options = RasterOptions { width: 874, background: Background::Light, ..Default::default() };
        let (png, sheet, diagnostics) = render_png(&drawing, &paper, &TessellateOptions::default(), &options).unwrap();
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(sheet.views.len(), 2, "the sheet's own viewport (id 1) is not a view");
        let pixmap = Pixmap::decode_png(&png).unwrap();
        let at = |x, y| rgb(&pixmap, to_pixel(874, x, y));
        // A: model (50, 50) lands at paper (50, 100); the red solid's edge x = 100 at paper x 75.
        assert_eq!(at(50.0, 100.0), RED, "model space inside viewport A");
        assert_eq!(at(73.0, 100.0), RED, "left of the solid's edge, at scale 0.5");
        assert_eq!(at(77.0, 100.0), WHITE, "right of the solid's edge, at scale 0.5");
        // Above A (its top is y 130) the red solid goes on in model space, but not on the sheet.
        assert_eq!(at(40.0, 140.0), WHITE, "nothing of model space outside viewport A");
        assert_eq!(at(10.0, 60.0), WHITE, "nothing below or left of it either");
        // B: model (250, 50) lands at (300, 100) + R(30°)·0.2·(100, 0) = (317.3, 110).
        assert_eq!(at(317.3, 110.0), GREEN, "the green solid through the twisted viewport B");
        assert_eq!(at(327.7, 116.0), WHITE, "past the green solid's edge (model x 310), at scale 0.2");
        assert_eq!(at(279.0, 76.3), RED, "model (0, 0) through B: red");
        assert_eq!(at(230.0, 100.0), WHITE, "the red solid left of B is not drawn on the sheet");
        assert_eq!(at(300.0, 150.0), WHITE, "nor above it");
        check_snapshot(
            "sheet-viewports",
            &render_png(
                &drawing,
                &paper,
                &TessellateOptions::default(),
                &RasterOptions { width: 256, background: Background::Light, ..Default::default() },
            )
            .unwrap()
            .0,
        );
    }

    #[test]
    fn a_layer_frozen_in_one_viewport_is_hidden_there_only() {
        let (drawing, paper) = sheet(SHEET);
        let options = RasterOptions { width: 874, background: Background::Light, ..Default::default() };
        let (png, _, _) = render_png(&drawing, &paper, &TessellateOptions::default(), &options).unwrap();
        let pixmap = Pixmap::decode_png(&png).unwrap();
        // Model (250, 50) through A: (100, 100) + 0.5·(100, 0) = (150, 100).
        assert_eq!(rgb(&pixmap, to_pixel(874, 150.0, 100.0)), WHITE, "Notes is frozen in viewport A");
        assert_eq!(rgb(&pixmap, to_pixel(874, 317.3, 110.0)), GREEN, "and shows in viewport B");
        let (svg, _, _) = render_svg(&drawing, &paper, &TessellateOptions::default(), &SvgOptions::default()).unwrap();
        let a = svg.find(r#"clip-path="url(#vp0)""#).unwrap();
        let b = svg.find(r#"clip-path="url(#vp1)""#).unwrap();
        assert!(!svg[a..b].contains("#00FF00"), "viewport A's group leaves Notes out");
        assert!(svg[b..].contains("#00FF00"), "viewport B's group draws it");
    }

    #[test]
    fn the_svg_of_a_sheet_clips_each_viewport_to_its_rectangle() {
        let (drawing, paper) = sheet(SHEET);
        let (svg, sheet, _) =
            render_svg(&drawing, &paper, &TessellateOptions::default(), &SvgOptions::default()).unwrap();
        assert_eq!(svg.matches("<clipPath id=").count(), 2, "one clip per view");
        let [x0, y0, ..] = sheet.views[0].clip;
        assert!(
            svg.contains(&format!(
                r#"<clipPath id="vp0"><rect x="{x0}" y="{y0}" width="160" height="60"/></clipPath>"#
            )),
            "viewport A's rectangle: {svg}"
        );
        assert!(svg.contains(r#"<g clip-path="url(#vp1)"><g transform="matrix("#), "B's model space, transformed");
        let [a, b, ..] = sheet.views[1].affine;
        assert!((a.hypot(b) - 0.2).abs() < 1e-9 && (b.atan2(a).to_degrees() - 30.0).abs() < 1e-9, "B: 0.2 at 30°");
    }

    #[test]
    fn a_viewport_with_zero_or_nan_scale_draws_nothing_through_it_with_a_diagnostic() {
        for (bad, what) in
            [("45\n0\n", "view height 0"), ("45\nnan\n", "view height NaN"), ("45\n1e-300\n", "huge scale")]
        {
            let dxf = SHEET.replace("45\n400\n", bad);
            let (drawing, paper) = sheet(&dxf);
            let options = RasterOptions { width: 874, background: Background::Light, ..Default::default() };
            let (png, sheet, diagnostics) =
                render_png(&drawing, &paper, &TessellateOptions::default(), &options).unwrap();
            assert_eq!(sheet.views.len(), 1, "{what}: viewport B is left out");
            assert!(diagnostics.iter().any(|d| d.code == DiagnosticCode::InvalidGeometry), "{what}: {diagnostics:?}");
            let pixmap = Pixmap::decode_png(&png).unwrap();
            assert_eq!(rgb(&pixmap, to_pixel(874, 279.0, 76.3)), WHITE, "{what}: nothing through B");
            assert_eq!(rgb(&pixmap, to_pixel(874, 50.0, 100.0)), RED, "{what}: A still shows model space");
        }
    }

    #[test]
    fn a_viewport_at_a_huge_scale_or_twist_renders_within_its_rectangle() {
        for (view, what) in [("45\n1e-9\n51\n1e6\n", "scale 8e10, twist 1e6°"), ("45\n1e9\n", "scale 2e-7")] {
            let (drawing, paper) = sheet(&SHEET.replace("45\n400\n51\n30\n", view));
            let options = RasterOptions { width: 874, background: Background::Light, ..Default::default() };
            let (png, sheet, _) = render_png(&drawing, &paper, &TessellateOptions::default(), &options).unwrap();
            assert_eq!(sheet.views.len(), 2, "{what}: B is a view");
            let pixmap = Pixmap::decode_png(&png).unwrap();
            assert_eq!(rgb(&pixmap, to_pixel(874, 230.0, 100.0)), WHITE, "{what}: nothing outside B");
            let (svg, _, _) =
                render_svg(&drawing, &paper, &TessellateOptions::default(), &SvgOptions::default()).unwrap();
            assert!(svg.contains(r#"clip-path="url(#vp1)""#), "{what}");
        }
    }

    /// [`SHEET`] with viewport A clipped (status 0x10000) by the entity `handle` names, and a
    /// paper-space circle C1 at (70, 100), radius 25, and an open polyline C2.
    fn clipped_sheet(handle: &str) -> String {
        SHEET.replace("45\n120\n341\n2B\n", &format!("45\n120\n341\n2B\n90\n65536\n340\n{handle}\n")).replace(
            "0\nENDSEC\n0\nEOF",
            "0\nCIRCLE\n5\nC1\n67\n1\n10\n70\n20\n100\n40\n25\n\
0\nLWPOLYLINE\n5\nC2\n67\n1\n90\n3\n70\n0\n10\n40\n20\n80\n10\n90\n20\n80\n10\n90\n20\n120\n0\nENDSEC\n0\nEOF",
        )
    }

    #[test]
    fn a_viewport_clipped_by_a_circle_shows_model_space_inside_the_circle_only() {
        let (drawing, paper) = sheet(&clipped_sheet("C1"));
        let options = RasterOptions { width: 874, background: Background::Light, ..Default::default() };
        let (png, sheet, diagnostics) = render_png(&drawing, &paper, &TessellateOptions::default(), &options).unwrap();
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert!(sheet.views[0].outline.as_ref().is_some_and(|o| o.len() >= 24), "A is clipped by the circle's polygon");
        assert!(sheet.views[1].outline.is_none(), "B by its rectangle");
        let pixmap = Pixmap::decode_png(&png).unwrap();
        assert_eq!(rgb(&pixmap, to_pixel(874, 60.0, 100.0)), RED, "inside the circle (and the red solid)");
        assert_eq!(rgb(&pixmap, to_pixel(874, 30.0, 100.0)), WHITE, "inside A's rectangle, outside the circle");
        assert_eq!(rgb(&pixmap, to_pixel(874, 279.0, 76.3)), RED, "B is not affected");
        let (svg, _, _) = render_svg(&drawing, &paper, &TessellateOptions::default(), &SvgOptions::default()).unwrap();
        assert!(svg.contains(r#"<clipPath id="vp0"><path d="M"#), "the SVG clips A by a path");
        let small = RasterOptions { width: 256, background: Background::Light, ..Default::default() };
        check_snapshot(
            "sheet-viewport-clip-boundary",
            &render_png(&drawing, &paper, &TessellateOptions::default(), &small).unwrap().0,
        );
    }

    #[test]
    fn a_clip_entity_that_is_missing_or_open_leaves_the_rectangle_with_a_diagnostic() {
        for (handle, what) in [("FFF", "does not hold"), ("C2", "is not closed")] {
            let (drawing, paper) = sheet(&clipped_sheet(handle));
            let options = RasterOptions { width: 874, background: Background::Light, ..Default::default() };
            let (png, sheet, diagnostics) =
                render_png(&drawing, &paper, &TessellateOptions::default(), &options).unwrap();
            assert!(diagnostics.iter().any(|d| d.message.contains(what)), "{handle}: {diagnostics:?}");
            assert!(sheet.views[0].outline.is_none(), "{handle}: clipped by the rectangle");
            let pixmap = Pixmap::decode_png(&png).unwrap();
            assert_eq!(rgb(&pixmap, to_pixel(874, 30.0, 100.0)), RED, "{handle}: the whole rectangle shows");
            assert_eq!(rgb(&pixmap, to_pixel(874, 40.0, 140.0)), WHITE, "{handle}: nothing outside it");
        }
    }

    #[test]
    fn a_circle_exported_at_8000_pixels_deviates_under_a_pixel() {
        let dxf = "0\nSECTION\n2\nENTITIES\n0\nCIRCLE\n10\n0\n20\n0\n40\n100\n0\nENDSEC\n0\nEOF\n";
        let (drawing, _) = read(dxf.as_bytes(), &ReadOptions::default()).unwrap();
        let model = drawing.layouts.iter().find(|l| l.is_model()).unwrap();
        let (sheet, _) = prepare(&drawing, model, &TessellateOptions::default(), 8000, (8192, 8192)).unwrap();
        let scene = &sheet.scene;
        let (_, (width, _), scale) = fit(scene.bounds, scene.origin, 8000, 8192, 8192);
        assert_eq!(width, 8000);
        let lines: Vec<f32> = scene.batches.iter().flat_map(|b| b.lines.iter().copied()).collect();
        let segments = lines.len() / 4;
        // A chord of angle θ on radius r strays r·(1 − cos(θ/2)) from the circle, at its middle.
        let mut worst: f64 = 0.0;
        for s in lines.chunks_exact(4) {
            let (mx, my) = (f64::from(s[0] + s[2]) / 2.0, f64::from(s[1] + s[3]) / 2.0);
            worst = worst.max(100.0 - mx.hypot(my));
        }
        assert!(worst * scale < 0.5, "{segments} segments stray {} pixels", worst * scale);
        assert!(segments >= 200, "a 7700-pixel circle needs more than the viewer's polygon: {segments}");
    }

    #[test]
    fn a_drawing_ten_times_taller_than_wide_is_drawn_whole_within_the_cap() {
        let dxf = "0\nSECTION\n2\nENTITIES\n0\nLINE\n62\n1\n10\n0\n20\n0\n11\n100\n21\n1000\n\
0\nSOLID\n62\n1\n10\n0\n20\n990\n11\n100\n21\n990\n12\n0\n22\n1000\n13\n100\n23\n1000\n0\nENDSEC\n0\nEOF\n";
        let (drawing, _) = read(dxf.as_bytes(), &ReadOptions::default()).unwrap();
        let model = drawing.layouts.iter().find(|l| l.is_model()).cloned().unwrap();
        let options = RasterOptions { width: 4000, background: Background::Light, ..Default::default() };
        let (png, sheet, _) = render_png(&drawing, &model, &TessellateOptions::default(), &options).unwrap();
        let pixmap = Pixmap::decode_png(&png).unwrap();
        assert_eq!(pixmap.height(), crate::raster::MAX_RASTER_SIDE, "as tall as the cap allows");
        assert!(pixmap.width() < 1200, "narrowed to keep the drawing's shape: {}", pixmap.width());
        // The solid at the top (model y 990 to 1000) is in the image.
        let top = (0..pixmap.height() / 50).any(|y| rgb(&pixmap, (pixmap.width() / 2, y)) == RED);
        assert!(top, "the top of the drawing is not cut off");
        let again = sheet_to_pixmap(&sheet, &options).unwrap();
        assert_eq!(again.height(), pixmap.height());
        let (svg, _, _) = render_svg(
            &drawing,
            &model,
            &TessellateOptions::default(),
            &SvgOptions { width: 4000, background: Background::Light, ..SvgOptions::default() },
        )
        .unwrap();
        assert!(svg.contains(r#"height="20000""#), "the SVG is narrowed within its cap too");
    }
}
