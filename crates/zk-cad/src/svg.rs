//! A tessellated scene as SVG: one path of strokes and one of fills per batch, points as dots,
//! and texts as glyph outlines: each glyph once in `<defs>` as a path (em units), each character a
//! `<use>` of it with its transform, grouped by text (the group's `aria-label` carries the text, so
//! it stays searchable). Pure: returns a string, at most [`SvgOptions::max_bytes`] long (plus the
//! closing tags): past it the rest of the drawing is left out and the export says so.

use std::fmt::Write;

use crate::diagnostics::{Diagnostic, DiagnosticCode, Severity};
use crate::model::{Drawing, LayerId, Layout};
use crate::sheet::{Sheet, SheetView, fit, prepare};
use crate::tessellate::{Ink, Scene, TessellateError, TessellateOptions};
use crate::text::fonts::PathOp;
use crate::text::glyph_outline;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Background {
    Light,
    Dark,
}

#[derive(Clone, Copy, Debug)]
pub struct SvgOptions {
    /// Width of the image in pixels; the height follows the drawing's aspect ratio.
    pub width: u32,
    pub background: Background,
    /// The document stops growing past this many bytes: what is written so far is closed and
    /// returned, cut short (about 40 bytes a segment; a scene at the default vertex budget could
    /// otherwise make an SVG of gigabytes).
    pub max_bytes: usize,
}

/// The default of [`SvgOptions::max_bytes`].
pub const DEFAULT_MAX_SVG_BYTES: usize = 256 * 1024 * 1024;

impl Default for SvgOptions {
    fn default() -> Self {
        SvgOptions { width: 1200, background: Background::Light, max_bytes: DEFAULT_MAX_SVG_BYTES }
    }
}

/// The document being written and its byte budget.
struct Out {
    text: String,
    max_bytes: usize,
    /// The budget ran out: something was left out.
    cut: bool,
}

impl Out {
    /// True (and remembered) once the document has reached its budget: write nothing more.
    fn full(&mut self) -> bool {
        if self.text.len() >= self.max_bytes {
            self.cut = true;
        }
        self.cut
    }
}

fn color(ink: Ink, background: Background) -> String {
    match (ink, background) {
        // ACI 7 is the opposite of the background.
        (Ink::Foreground, Background::Light) => "#000000".to_owned(),
        (Ink::Foreground, Background::Dark) => "#FFFFFF".to_owned(),
        (Ink::Rgb(rgb), _) => format!("#{:06X}", rgb & 0xFF_FFFF),
    }
}

fn escape(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// The glyphs: the outline of each mesh an instance uses once in `<defs>`, then the instances
/// text by text (a group per text and colour); texts on layers the scene does not show are left out.
fn write_glyphs(out: &mut Out, scene: &Scene, shows: &dyn Fn(LayerId) -> bool, prefix: &str, background: Background) {
    let set = &scene.glyphs;
    let shown = |text: u32| scene.texts.get(text as usize).is_some_and(|t| shows(t.layer));
    let mut defined = vec![false; set.meshes.len()];
    let mut outline = Vec::new();
    let mut defs = String::new();
    for instance in set.instances.iter().filter(|i| shown(i.text)) {
        let Some(mesh) = set.meshes.get(instance.mesh as usize) else { continue };
        if std::mem::replace(&mut defined[instance.mesh as usize], true) {
            continue;
        }
        outline.clear();
        glyph_outline(mesh.source, &mut outline);
        let _ = write!(defs, r#"<path id="{prefix}{}" d=""#, instance.mesh);
        for op in &outline {
            let _ = match *op {
                PathOp::Move(x, y) => write!(defs, "M{x} {y}"),
                PathOp::Line(x, y) => write!(defs, "L{x} {y}"),
                PathOp::Quad(cx, cy, x, y) => write!(defs, "Q{cx} {cy} {x} {y}"),
                PathOp::Cubic(ax, ay, bx, by, x, y) => write!(defs, "C{ax} {ay} {bx} {by} {x} {y}"),
                PathOp::Close => write!(defs, "Z"),
            };
        }
        defs.push_str("\"/>\n");
    }
    if defs.is_empty() || out.full() {
        return;
    }
    let _ = writeln!(out.text, "<defs>\n{defs}</defs>");
    let mut group: Option<(u32, Ink)> = None;
    for instance in set.instances.iter().filter(|i| shown(i.text)) {
        if out.full() {
            break;
        }
        let (Some(text), Some(true)) = (scene.texts.get(instance.text as usize), defined.get(instance.mesh as usize))
        else {
            continue;
        };
        if group != Some((instance.text, instance.ink)) {
            if group.is_some() {
                out.text.push_str("</g>\n");
            }
            let ink = color(instance.ink, background);
            let label = if group.is_some_and(|(t, _)| t == instance.text) { String::new() } else { escape(&text.text) };
            let _ = write!(out.text, r#"<g fill="{ink}" stroke="none""#);
            if !label.is_empty() {
                let _ = write!(out.text, r#" aria-label="{label}""#);
            }
            out.text.push_str(">\n");
            group = Some((instance.text, instance.ink));
        }
        let [a, b, c, d, e, f] = instance.transform;
        let _ = writeln!(
            out.text,
            r##"<use href="#{prefix}{}" transform="matrix({a} {b} {c} {d} {e} {f})"/>"##,
            instance.mesh
        );
    }
    if group.is_some() {
        out.text.push_str("</g>\n");
    }
}

/// The largest height of an SVG document, in pixels: a taller drawing is narrowed to fit.
pub const MAX_SVG_HEIGHT: u32 = 20_000;

/// Renders `scene` as a standalone SVG document. Y points up in drawings and down in SVG: the
/// whole drawing is flipped once (glyph outlines are in em units with y up, as the drawing).
pub fn scene_to_svg(scene: &Scene, options: &SvgOptions) -> String {
    document(scene, None, options).0
}

/// Renders a layout of `drawing` as a standalone SVG document, as an export should: curves within
/// a quarter of a pixel at this size, and a paper layout with model space through its viewports
/// (see [`crate::sheet`]). Returns the sheet drawn (for its `truncated` flags) and the diagnostics;
/// a document cut short at [`SvgOptions::max_bytes`] adds an [`DiagnosticCode::OverBudget`] one.
pub fn render_svg(
    drawing: &Drawing,
    layout: &Layout,
    tessellate: &TessellateOptions<'_>,
    options: &SvgOptions,
) -> Result<(String, Sheet, Vec<Diagnostic>), TessellateError> {
    let (sheet, mut diagnostics) = prepare(drawing, layout, tessellate, options.width, (u32::MAX, MAX_SVG_HEIGHT))?;
    let (svg, cut) = sheet_svg(&sheet, options);
    if cut {
        diagnostics.push(Diagnostic {
            severity: Severity::Warning,
            code: DiagnosticCode::OverBudget,
            message: format!(
                "the SVG reached its budget of {} bytes; the rest of the layout was not drawn",
                options.max_bytes
            ),
            location: None,
        });
    }
    Ok((svg, sheet, diagnostics))
}

/// A [`Sheet`] as a standalone SVG document: the layout's scene, then model space through each
/// viewport in a group clipped by the viewport's rectangle (`<clipPath id="vp0">`…).
pub fn sheet_to_svg(sheet: &Sheet, options: &SvgOptions) -> String {
    sheet_svg(sheet, options).0
}

/// The document of a sheet, and whether it was cut short at its byte budget.
fn sheet_svg(sheet: &Sheet, options: &SvgOptions) -> (String, bool) {
    document(&sheet.scene, sheet.model.as_ref().map(|model| (model, sheet.views.as_slice())), options)
}

/// The document of a layout's scene and, for a sheet, model space and the views through it, and
/// whether it was cut short at its byte budget.
fn document(scene: &Scene, model: Option<(&Scene, &[SheetView])>, options: &SvgOptions) -> (String, bool) {
    let ([min_x, min_y, w, h], (width, height), _) =
        fit(scene.bounds, scene.origin, options.width, u32::MAX, MAX_SVG_HEIGHT);
    let pixel = w / f64::from(width);
    let background = match options.background {
        Background::Light => "#FFFFFF",
        Background::Dark => "#1E1E1E",
    };
    let mut out = Out { text: String::new(), max_bytes: options.max_bytes, cut: false };
    let _ = writeln!(
        out.text,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="{min_x} {} {w} {h}">"#,
        -(min_y + h)
    );
    let _ =
        writeln!(out.text, r#"<rect x="{min_x}" y="{}" width="{w}" height="{h}" fill="{background}"/>"#, -(min_y + h));
    let _ = writeln!(out.text, r#"<g transform="scale(1,-1)" stroke-linecap="round">"#);
    write_scene(&mut out, scene, &|layer| scene.shows(layer), pixel, "g", options.background);
    if let Some((model, views)) = model {
        for (i, view) in views.iter().enumerate() {
            if out.full() {
                break;
            }
            let [x0, y0, x1, y1] = view.clip;
            let [a, b, c, d, e, f] = view.affine;
            // The view's scale: strokes stay one pixel wide.
            let k = a.hypot(b);
            match &view.outline {
                None => {
                    let _ = writeln!(
                        out.text,
                        r#"<clipPath id="vp{i}"><rect x="{x0}" y="{y0}" width="{}" height="{}"/></clipPath>"#,
                        x1 - x0,
                        y1 - y0
                    );
                }
                Some(outline) => {
                    let mut d = String::new();
                    for (j, p) in outline.iter().enumerate() {
                        let _ = write!(d, "{}{} {}", if j == 0 { "M" } else { "L" }, p[0], p[1]);
                    }
                    let _ = writeln!(out.text, r#"<clipPath id="vp{i}"><path d="{d}Z"/></clipPath>"#);
                }
            }
            let _ = writeln!(out.text, r#"<g clip-path="url(#vp{i})"><g transform="matrix({a} {b} {c} {d} {e} {f})">"#);
            let prefix = format!("v{i}g");
            write_scene(&mut out, model, &|layer| view.shows(model, layer), pixel / k, &prefix, options.background);
            out.text.push_str("</g></g>\n");
        }
    }
    out.text.push_str("</g>\n</svg>\n");
    (out.text, out.cut)
}

/// The batches and texts of `scene` on the layers `shows` lets through; `pixel` is the size of an
/// output pixel in the scene's units, `prefix` names its glyph definitions.
fn write_scene(
    out: &mut Out,
    scene: &Scene,
    shows: &dyn Fn(LayerId) -> bool,
    pixel: f64,
    prefix: &str,
    background: Background,
) {
    // Layers that are off or frozen draw nothing (the batches of a frozen insert's content are on
    // its layer).
    // Each path's data is written straight into the document (no copy of a batch's worth), and
    // every primitive checks the budget first.
    for batch in scene.batches.iter().filter(|b| shows(b.layer)) {
        if out.full() {
            return;
        }
        let ink = color(batch.ink, background);
        if !batch.triangles.is_empty() {
            let _ = write!(out.text, r#"<path fill="{ink}" stroke="{ink}" stroke-width="{}" d=""#, pixel * 0.3);
            for t in batch.triangles.chunks_exact(6) {
                if out.full() {
                    break;
                }
                let _ = write!(out.text, "M{} {}L{} {}L{} {}Z", t[0], t[1], t[2], t[3], t[4], t[5]);
            }
            out.text.push_str("\"/>\n");
        }
        if !batch.lines.is_empty() {
            let _ = write!(out.text, r#"<path fill="none" stroke="{ink}" stroke-width="{pixel}" d=""#);
            for s in batch.lines.chunks_exact(4) {
                if out.full() {
                    break;
                }
                let _ = write!(out.text, "M{} {}L{} {}", s[0], s[1], s[2], s[3]);
            }
            out.text.push_str("\"/>\n");
        }
        for p in batch.points.chunks_exact(2) {
            if out.full() {
                break;
            }
            let _ = writeln!(out.text, r#"<circle cx="{}" cy="{}" r="{}" fill="{ink}"/>"#, p[0], p[1], pixel * 1.5);
        }
    }
    write_glyphs(out, scene, shows, prefix, background);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ReadOptions, TessellateOptions, read, tessellate};

    #[test]
    fn a_line_a_fill_and_a_text() {
        let dxf = "0\nSECTION\n2\nENTITIES\n0\nLINE\n62\n1\n10\n0\n20\n0\n11\n10\n21\n5\n0\nSOLID\n10\n0\n20\n0\n11\n1\n21\n0\n12\n0\n22\n1\n0\nTEXT\n1\nA<B & \"C\"\n10\n1\n20\n1\n40\n2\n0\nENDSEC\n0\nEOF\n";
        let (drawing, _) = read(dxf.as_bytes(), &ReadOptions::default()).unwrap();
        let (scene, _) = tessellate(&drawing, &drawing.layouts[0], &TessellateOptions::default()).unwrap();
        let svg =
            scene_to_svg(&scene, &SvgOptions { width: 400, background: Background::Dark, ..SvgOptions::default() });
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("stroke=\"#FF0000\""), "the red line");
        assert!(svg.contains("fill=\"#FFFFFF\""), "the solid in the foreground colour on dark");
        assert!(svg.contains("aria-label=\"A&lt;B &amp; &quot;C&quot;\""), "the text, escaped, labels its glyphs");
        let uses = svg.matches("<use href=\"#g").count();
        let defs = svg.matches("<path id=\"g").count();
        assert_eq!(uses, 7, "one use per visible character of A<B & \"C\"");
        assert_eq!(defs, 6, "each glyph defined once (the two quotes share one)");
    }

    #[test]
    fn layers_that_are_off_or_frozen_are_left_out_and_white_is_swapped() {
        let dxf = "0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nLAYER\n0\nLAYER\n2\nOff\n62\n-1\n\
0\nLAYER\n2\nFrozen\n70\n1\n62\n5\n0\nENDTAB\n0\nENDSEC\n0\nSECTION\n2\nENTITIES\n\
0\nLINE\n8\nOff\n11\n10\n0\nTEXT\n8\nFrozen\n1\nHIDDEN\n10\n1\n20\n1\n40\n2\n\
0\nLINE\n420\n16777215\n20\n5\n11\n10\n21\n5\n0\nENDSEC\n0\nEOF\n";
        let (drawing, _) = read(dxf.as_bytes(), &ReadOptions::default()).unwrap();
        let model = drawing.layouts.iter().find(|l| l.is_model()).unwrap();
        let (scene, _) = tessellate(&drawing, model, &TessellateOptions::default()).unwrap();
        let svg =
            scene_to_svg(&scene, &SvgOptions { width: 400, background: Background::Light, ..SvgOptions::default() });
        assert!(!svg.contains("#FF0000"), "the off layer's red line is left out");
        assert!(!svg.contains("HIDDEN") && !svg.contains("<use"), "the frozen layer's text too");
        assert!(svg.contains("stroke=\"#000000\""), "the true-colour white line is drawn black on white");
    }
    #[test]
    fn a_document_stops_at_its_byte_budget_and_says_so() {
        let mut dxf = String::from("0\nSECTION\n2\nENTITIES\n");
        for i in 0..2000 {
            dxf.push_str(&format!("0\nLINE\n10\n{i}\n20\n0\n11\n{i}\n21\n100\n"));
        }
        dxf.push_str("0\nENDSEC\n0\nEOF\n");
        let (drawing, _) = read(dxf.as_bytes(), &ReadOptions::default()).unwrap();
        let model = drawing.layouts.iter().find(|l| l.is_model()).unwrap();
        let tessellate = TessellateOptions::default();
        let (whole, _, diagnostics) = render_svg(&drawing, model, &tessellate, &SvgOptions::default()).unwrap();
        assert!(diagnostics.iter().all(|d| d.code != DiagnosticCode::OverBudget), "within the default budget");
        let options = SvgOptions { max_bytes: 10_000, ..SvgOptions::default() };
        let (cut, _, diagnostics) = render_svg(&drawing, model, &tessellate, &options).unwrap();
        assert!(whole.len() > 30_000, "the whole document is larger than the budget: {}", whole.len());
        assert!(cut.len() < 10_000 + 200, "cut at the budget, plus a segment and the closing tags: {}", cut.len());
        assert!(cut.trim_end().ends_with("</g>\n</svg>"), "still a whole document");
        let diagnostic =
            diagnostics.iter().find(|d| d.code == DiagnosticCode::OverBudget).expect("the cut is reported");
        assert!(diagnostic.message.contains("10000 bytes"), "{}", diagnostic.message);
    }
}
