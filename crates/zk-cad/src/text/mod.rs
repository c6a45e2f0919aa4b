//! Texts as glyphs: every [`TextItem`] of a scene laid out into instances of glyph meshes
//! ([`GlyphSet`]), drawn from the outlines of the bundled fonts ([`fonts`]).
//!
//! Layout follows AutoCAD's rules where they matter for a preview: the text height is the height of
//! the capitals (each font is scaled so; East Asian characters of an SHX style are sized as a big
//! font sizes them); TEXT alignments (left, centre, right, aligned, middle, fit; baseline, bottom,
//! middle, top), width factor, oblique angle and the backward / upside-down flags; MTEXT attachment
//! points, word wrap at the column width (East Asian text wraps between any two characters), line
//! spacing, paragraphs and the styled runs of [`crate::mtext`] (fonts, heights, width factors,
//! obliques, tracking, colours, stacked fractions, underlines).
//!
//! Each character is looked up in its style's font, then in the other bundled font, then drawn as
//! a visible box and counted ([`crate::DiagnosticCode::MissingGlyph`]). Each distinct glyph is
//! triangulated once; each drawn character is one [`GlyphInstance`]. Whitespace advances the pen
//! and draws nothing.
//!
//! Guards: each instance counts 4 vertices and each mesh its corners against the tessellator's
//! budget; a text is laid out up to [`MAX_TEXT_CHARS`] characters; texts or glyphs whose placement
//! is not finite are skipped and counted; the deadline and cancel hook are polled.

pub mod fonts;
pub mod mesh;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use lyon_tessellation::FillTessellator;

use crate::color::{ACI_RGB, Color};
use crate::diagnostics::{DiagnosticCode, DiagnosticSink};
use crate::model::Drawing;
use crate::mtext::{RunStyle, StackKind, TextHeight};
use crate::tessellate::{
    GlyphInstance, GlyphMesh, GlyphSet, GlyphSource, Ink, TessellateError, TessellateOptions, TextItem, rgb_ink,
};
use fonts::{BundledFont, FontKind, PathOp, StyleFont, face};

/// Characters of one text beyond this are not laid out (with a diagnostic): no drawing holds a
/// label this long, and a hostile one cannot make layout run away.
pub const MAX_TEXT_CHARS: usize = 100_000;

/// Vertices one glyph instance counts against the budget (it is drawn as about a quad's worth).
pub const INSTANCE_VERTICES: usize = 4;

/// Line pitch of AutoCAD's MTEXT at spacing factor 1: 5/3 of the text height.
const LINE_PITCH: f64 = 5.0 / 3.0;
/// Stacked fractions and tolerances are drawn at this share of the text height.
const STACK_SCALE: f64 = 0.7;
/// An italic run without its own oblique angle leans by this many degrees.
const ITALIC_DEGREES: f64 = 15.0;

/// Whether a character is East Asian (CJK ideographs, kana, Hangul, CJK punctuation, full-width
/// forms): such text wraps between any two characters and, in SHX styles, is sized as a big font.
pub fn is_east_asian(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x11FF | 0x2E80..=0x2FDF | 0x3000..=0x30FF | 0x3100..=0x31FF | 0x3200..=0x33FF
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xA960..=0xA97F | 0xAC00..=0xD7FF | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// The outline of a mesh's glyph in em units (for renderers that fill outlines rather than
/// triangles); false when it has none.
pub fn glyph_outline(source: GlyphSource, out: &mut Vec<PathOp>) -> bool {
    match source {
        GlyphSource::Font { font, glyph } => face(font).is_some_and(|f| f.outline(glyph, out)),
        GlyphSource::MissingBox => {
            mesh::missing_box(cap_height(BundledFont::Latin), out);
            true
        }
        GlyphSource::Rule => {
            mesh::unit_square(out);
            true
        }
    }
}

fn cap_height(font: BundledFont) -> f32 {
    face(font).map_or(0.7, |f| f.cap_height)
}

/// What laying out the texts produced.
pub(crate) struct GlyphOutput {
    pub set: GlyphSet,
    /// Bounds of the placed glyphs, scene coordinates: min x, min y, max x, max y.
    pub bounds: Option<[f64; 4]>,
    /// Vertices spent, the tessellator's count included.
    pub vertices: usize,
    pub truncated: bool,
    pub stopped: Option<TessellateError>,
}

/// Lays out `texts` into glyph instances; `vertices` is what the tessellator already spent.
/// The bounds cover only the texts on layers `shown_layers` shows (by layer index; a layer past
/// its end is shown).
pub(crate) fn lay_out(
    drawing: &Drawing,
    texts: &[TextItem],
    shown_layers: &[bool],
    vertices: usize,
    options: &TessellateOptions<'_>,
    diag: &mut DiagnosticSink,
) -> GlyphOutput {
    let mut layout = Layout::new(drawing, options, vertices);
    for (index, text) in texts.iter().enumerate() {
        if layout.truncated || layout.stopped.is_some() {
            break;
        }
        let bounds = layout.bounds;
        layout.text(index as u32, text);
        if !shown_layers.get(text.layer.index()).copied().unwrap_or(true) {
            layout.bounds = bounds;
        }
    }
    layout.report(diag);
    GlyphOutput {
        bounds: layout.bounds[0].is_finite().then_some(layout.bounds),
        set: layout.set,
        vertices: layout.vertices,
        truncated: layout.truncated,
        stopped: layout.stopped,
    }
}

/// A small, fast hash for (font, character) keys (SipHash would be a third of layout's time).
#[derive(Default)]
struct CharHasher(u64);

impl Hasher for CharHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<CharHasher>>;

/// No mesh: the character only advances the pen.
const NO_MESH: u32 = u32::MAX;

/// A character resolved to a font's glyph.
#[derive(Clone, Copy, Debug)]
struct CharGlyph {
    mesh: u32,
    /// The font whose metrics size it (the Latin font for the missing-glyph box).
    font: BundledFont,
    /// Advance, em units of `font`.
    advance: f32,
    missing: bool,
    space: bool,
    wide: bool,
}

/// The style in force at a character.
#[derive(Clone, Copy, Debug)]
struct Style {
    font: StyleFont,
    /// Capital height, scene units.
    height: f64,
    width_factor: f64,
    /// tan(oblique angle).
    shear: f64,
    tracking: f64,
    ink: Ink,
    underline: bool,
    overline: bool,
    strike: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Break {
    None,
    /// A line may break after this item (a space, an East Asian character).
    After,
    /// The end of a paragraph: the line ends here.
    Paragraph,
}

/// A glyph (or a pen advance) placed on its paragraph's baseline: local units are scene units,
/// x along the baseline from the paragraph's start, y up.
#[derive(Clone, Copy, Debug)]
struct Pending {
    mesh: u32,
    x: f64,
    advance: f64,
    /// Glyph em → local: (x + sx·gx + k·gy, dy + sy·gy).
    sx: f64,
    sy: f64,
    k: f64,
    dy: f64,
    /// The text height here (line pitch).
    height: f64,
    ink: Ink,
    brk: Break,
    space: bool,
    wide: bool,
}

#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    end: usize,
    /// Local x where the line starts, and its width (trailing spaces excluded).
    x0: f64,
    width: f64,
    height: f64,
}

struct Layout<'d, 'o> {
    drawing: &'d Drawing,
    options: &'o TessellateOptions<'o>,
    style_fonts: Vec<Option<StyleFont>>,
    set: GlyphSet,
    /// Characters below 128, per primary font.
    ascii: [[Option<CharGlyph>; 128]; 2],
    chars: FastMap<(BundledFont, char), CharGlyph>,
    meshes: FastMap<GlyphSource, u32>,
    /// Each mesh's bounding box, em units.
    mesh_boxes: Vec<[f32; 4]>,
    tessellator: FillTessellator,
    ops: Vec<PathOp>,
    pending: Vec<Pending>,
    lines: Vec<Line>,
    baselines: Vec<f64>,
    missing: u64,
    missing_sample: Vec<char>,
    unplaced_texts: u64,
    unplaced_glyphs: u64,
    cut_texts: u64,
    bounds: [f64; 4],
    vertices: usize,
    truncated: bool,
    stopped: Option<TessellateError>,
    polled: u32,
    caps: [f64; 2],
    ideograph: (f64, f64),
}

impl<'d, 'o> Layout<'d, 'o> {
    fn new(drawing: &'d Drawing, options: &'o TessellateOptions<'o>, vertices: usize) -> Self {
        let caps = BundledFont::ALL.map(|f| f64::from(cap_height(f)));
        let ideograph =
            face(BundledFont::Cjk).map_or((-0.12, 0.88), |f| (f64::from(f.ideograph.0), f64::from(f.ideograph.1)));
        Layout {
            drawing,
            options,
            style_fonts: vec![None; drawing.text_styles.len()],
            set: GlyphSet::default(),
            ascii: [[None; 128]; 2],
            chars: FastMap::default(),
            meshes: FastMap::default(),
            mesh_boxes: Vec::new(),
            tessellator: FillTessellator::new(),
            ops: Vec::new(),
            pending: Vec::new(),
            lines: Vec::new(),
            baselines: Vec::new(),
            missing: 0,
            missing_sample: Vec::new(),
            unplaced_texts: 0,
            unplaced_glyphs: 0,
            cut_texts: 0,
            bounds: [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY],
            vertices,
            truncated: false,
            stopped: None,
            polled: 0,
            caps,
            ideograph,
        }
    }

    fn report(&self, diag: &mut DiagnosticSink) {
        if self.missing > 0 {
            let sample: String = self.missing_sample.iter().map(|c| format!("U+{:04X} ", u32::from(*c))).collect();
            diag.info(
                DiagnosticCode::MissingGlyph,
                None,
                format!(
                    "{} characters are in none of the bundled fonts and were drawn as boxes (among them {})",
                    self.missing,
                    sample.trim_end()
                ),
            );
        }
        if self.unplaced_texts > 0 || self.unplaced_glyphs > 0 {
            diag.warn(
                DiagnosticCode::InvalidGeometry,
                None,
                format!(
                    "{} texts without a finite position, height or direction and {} characters placed out of range were not drawn",
                    self.unplaced_texts, self.unplaced_glyphs
                ),
            );
        }
        if self.cut_texts > 0 {
            diag.warn(
                DiagnosticCode::InvalidGeometry,
                None,
                format!(
                    "{} texts are longer than {MAX_TEXT_CHARS} characters: drawn up to that length",
                    self.cut_texts
                ),
            );
        }
    }

    fn poll(&mut self) {
        self.polled = self.polled.wrapping_add(1);
        if !self.polled.is_multiple_of(4096) {
            return;
        }
        self.stopped = self.options.stop_reason();
    }

    fn spend(&mut self, vertices: usize) -> bool {
        self.vertices = self.vertices.saturating_add(vertices);
        if self.vertices > self.options.max_vertices {
            self.truncated = true;
        }
        !self.truncated
    }

    fn style_font(&mut self, style: crate::model::TextStyleId) -> StyleFont {
        let Some(slot) = self.style_fonts.get_mut(style.index()) else { return StyleFont::default() };
        *slot.get_or_insert_with(|| self.drawing.text_style(style).map(fonts::style_font).unwrap_or_default())
    }

    /// The mesh of a glyph, triangulated on first use; `NO_MESH` for an empty outline (or when
    /// the budget ran out).
    fn mesh(&mut self, source: GlyphSource) -> u32 {
        if let Some(&mesh) = self.meshes.get(&source) {
            return mesh;
        }
        self.ops.clear();
        let mut mesh = NO_MESH;
        if glyph_outline(source, &mut self.ops) {
            let first = self.set.vertices.len() / 2;
            let corners = mesh::triangulate(&mut self.tessellator, &self.ops, &mut self.set.vertices);
            if corners > 0 && self.spend(corners) {
                mesh = self.set.meshes.len() as u32;
                self.set.meshes.push(GlyphMesh { first: first as u32, count: corners as u32, source });
                self.mesh_boxes.push(mesh::outline_bounds(&self.ops).unwrap_or([0.0; 4]));
            } else {
                self.set.vertices.truncate(first * 2);
            }
        }
        if !self.truncated {
            self.meshes.insert(source, mesh);
        }
        mesh
    }

    /// A character in the style's font, then the other bundled font, then the missing box.
    fn resolve(&mut self, primary: BundledFont, c: char) -> CharGlyph {
        let ascii = usize::try_from(u32::from(c)).ok().filter(|&i| i < 128);
        if let Some(i) = ascii
            && let Some(glyph) = self.ascii[primary.index()][i]
        {
            return glyph;
        }
        if let Some(glyph) = self.chars.get(&(primary, c)) {
            return *glyph;
        }
        let glyph = self.resolve_uncached(primary, c);
        if !self.truncated {
            match ascii {
                Some(i) => self.ascii[primary.index()][i] = Some(glyph),
                None => {
                    self.chars.insert((primary, c), glyph);
                }
            }
        }
        glyph
    }

    fn resolve_uncached(&mut self, primary: BundledFont, c: char) -> CharGlyph {
        let wide = is_east_asian(c);
        let blank = |font: BundledFont, advance: f32| CharGlyph {
            mesh: NO_MESH,
            font,
            advance,
            missing: false,
            space: true,
            wide: false,
        };
        let space = |font: BundledFont| face(font).map_or(0.3, |f| f.space);
        match c {
            '\t' => return blank(primary, 4.0 * space(primary)),
            '\u{3000}' => return blank(BundledFont::Cjk, 1.0),
            c if c.is_whitespace() => return blank(primary, space(primary)),
            c if c.is_control() => return blank(primary, 0.0),
            _ => {}
        }
        for font in [primary, primary.other()] {
            let Some(f) = face(font) else { continue };
            if let Some(glyph) = f.glyph(c) {
                let advance = f.advance(glyph);
                let mesh = self.mesh(GlyphSource::Font { font, glyph });
                return CharGlyph { mesh, font, advance, missing: false, space: mesh == NO_MESH, wide };
            }
        }
        let mesh = self.mesh(GlyphSource::MissingBox);
        CharGlyph { mesh, font: BundledFont::Latin, advance: mesh::MISSING_ADVANCE, missing: true, space: false, wide }
    }

    /// Scale and lift of a glyph of `font` in `style`: em → local units.
    fn em_scale(&self, style: &Style, font: BundledFont, wide: bool) -> (f64, f64) {
        if style.font.kind == FontKind::Shx && font == BundledFont::Cjk && wide {
            let (bottom, top) = self.ideograph;
            let s = style.height / (top - bottom).max(0.1);
            return (s, -bottom * s);
        }
        (style.height / self.caps[font.index()].max(0.1), 0.0)
    }

    /// Appends a character at pen `x`; returns the pen after it.
    fn push_char(&mut self, style: &Style, c: char, x: f64, dy: f64) -> f64 {
        let glyph = self.resolve(style.font.primary, c);
        if glyph.missing {
            self.missing += 1;
            if self.missing_sample.len() < 8 && !self.missing_sample.contains(&c) {
                self.missing_sample.push(c);
            }
        }
        let (s, lift) = self.em_scale(style, glyph.font, glyph.wide);
        let sx = s * style.width_factor;
        let advance = f64::from(glyph.advance) * sx * style.tracking;
        self.pending.push(Pending {
            mesh: glyph.mesh,
            x,
            advance,
            sx,
            sy: s,
            k: s * style.shear,
            dy: dy + lift,
            height: style.height,
            ink: style.ink,
            brk: if glyph.space || glyph.wide { Break::After } else { Break::None },
            space: glyph.space,
            wide: glyph.wide,
        });
        if style.underline || style.overline || style.strike {
            let h = style.height;
            for (on, y) in [(style.underline, -0.2 * h), (style.overline, 1.2 * h), (style.strike, 0.45 * h)] {
                if on {
                    self.push_rule(style.ink, x, x + advance, dy + y, 0.06 * h);
                }
            }
        }
        x + advance
    }

    /// A filled bar from `x0` to `x1` centred on `y`.
    fn push_rule(&mut self, ink: Ink, x0: f64, x1: f64, y: f64, thickness: f64) {
        let mesh = self.mesh(GlyphSource::Rule);
        self.pending.push(Pending {
            mesh,
            x: x0,
            advance: 0.0,
            sx: x1 - x0,
            sy: thickness,
            k: 0.0,
            dy: y - thickness / 2.0,
            height: 0.0,
            ink,
            brk: Break::None,
            space: false,
            wide: false,
        });
    }

    /// Width of a string in a style (for stacks).
    fn measure(&mut self, style: &Style, s: &str) -> f64 {
        s.chars()
            .map(|c| {
                let glyph = self.resolve(style.font.primary, c);
                let (scale, _) = self.em_scale(style, glyph.font, glyph.wide);
                f64::from(glyph.advance) * scale * style.width_factor * style.tracking
            })
            .sum()
    }

    /// A stacked fraction or tolerance at pen `x`; returns the pen after it.
    fn push_stack(&mut self, style: &Style, upper: &str, lower: &str, kind: StackKind, x: f64) -> f64 {
        let small = Style { height: style.height * STACK_SCALE, ..*style };
        let h = style.height;
        let first = self.pending.len();
        let end = match kind {
            StackKind::Diagonal => {
                let mut pen = x;
                for c in upper.chars() {
                    pen = self.push_char(&small, c, pen, 0.45 * h);
                }
                pen = self.push_char(style, '/', pen, 0.0);
                for c in lower.chars() {
                    pen = self.push_char(&small, c, pen, 0.0);
                }
                pen
            }
            StackKind::Fraction | StackKind::Tolerance => {
                let (wu, wl) = (self.measure(&small, upper), self.measure(&small, lower));
                let width = wu.max(wl);
                let (mut pen_u, mut pen_l) = (x + (width - wu) / 2.0, x + (width - wl) / 2.0);
                if kind == StackKind::Tolerance {
                    (pen_u, pen_l) = (x, x);
                }
                for c in upper.chars() {
                    pen_u = self.push_char(&small, c, pen_u, 0.6 * h);
                }
                for c in lower.chars() {
                    pen_l = self.push_char(&small, c, pen_l, -0.35 * h);
                }
                if kind == StackKind::Fraction {
                    self.push_rule(style.ink, x, x + width, 0.45 * h, 0.05 * h);
                }
                x + width + 0.1 * h
            }
        };
        // A stack is one unit for wrapping, as wide as its widest part.
        let count = self.pending.len() - first;
        for (i, p) in self.pending[first..].iter_mut().enumerate() {
            p.brk = Break::None;
            p.space = false;
            p.advance = if i + 1 == count { end - p.x } else { 0.0 };
            p.height = h;
        }
        end
    }

    fn run_style(&self, base: &Style, run: &RunStyle) -> Style {
        let mut style = *base;
        if let Some(name) = &run.font {
            style.font = fonts::code_font(name);
        }
        // Absolute heights were made relative to the entity's height when the item was made.
        if let Some(TextHeight::Relative(f) | TextHeight::Absolute(f)) = run.height
            && f.is_finite()
            && f > 0.0
        {
            style.height = base.height * f;
        }
        if let Some(w) = run.width_factor.filter(|w| w.is_finite() && *w > 0.0) {
            style.width_factor = w;
        }
        let oblique = run.oblique_deg.or(run.italic.then_some(ITALIC_DEGREES));
        if let Some(o) = oblique.filter(|o| o.is_finite()) {
            style.shear = o.clamp(-85.0, 85.0).to_radians().tan();
        }
        if let Some(t) = run.tracking.filter(|t| t.is_finite() && *t > 0.0) {
            style.tracking = t.clamp(0.1, 10.0);
        }
        if let Some(color) = run.color {
            style.ink = match color {
                Color::ByLayer | Color::ByBlock => base.ink,
                Color::Aci(7) => Ink::Foreground,
                Color::Aci(i) => rgb_ink(ACI_RGB[usize::from(i)]),
                Color::Rgb(rgb) => rgb_ink(rgb),
            };
        }
        style.underline = run.underline;
        style.overline = run.overline;
        style.strike = run.strike;
        style
    }

    /// Lays out one text: its characters into `pending`, broken into `lines`, then placed.
    fn text(&mut self, index: u32, t: &TextItem) {
        let height = f64::from(t.height);
        let rotation = f64::from(t.rotation);
        let (px, py) = (f64::from(t.position[0]), f64::from(t.position[1]));
        if !(height.is_finite() && height > 0.0 && rotation.is_finite() && px.is_finite() && py.is_finite()) {
            self.unplaced_texts += 1;
            return;
        }
        let width_factor = Some(f64::from(t.width_factor)).filter(|w| w.is_finite() && *w > 0.0).unwrap_or(1.0);
        let oblique = Some(f64::from(t.oblique)).filter(|o| o.is_finite()).unwrap_or(0.0).clamp(-85.0, 85.0);
        let base = Style {
            font: self.style_font(t.style),
            height,
            width_factor,
            shear: oblique.to_radians().tan(),
            tracking: 1.0,
            ink: t.ink,
            underline: false,
            overline: false,
            strike: false,
        };
        self.pending.clear();
        self.lines.clear();
        self.fill(t, &base);
        if self.pending.is_empty() {
            return;
        }
        let wrap = f64::from(t.wrap_width);
        let wrap = if t.mtext && wrap.is_finite() && wrap > 0.0 { wrap } else { f64::INFINITY };
        self.break_lines(wrap);
        self.place(index, t, &base);
    }

    /// The characters of a text into `pending`, a paragraph mark at each `\n`.
    fn fill(&mut self, t: &TextItem, base: &Style) {
        let text = t.text.as_str();
        let mut count = 0usize;
        let mut x = 0.0;
        let mut push_plain = |layout: &mut Self, style: &Style, s: &str, x: &mut f64| -> bool {
            for c in s.chars() {
                count += 1;
                if count > MAX_TEXT_CHARS {
                    layout.cut_texts += 1;
                    return false;
                }
                layout.poll();
                if layout.stopped.is_some() || layout.truncated {
                    return false;
                }
                if c == '\n' {
                    layout.pending.push(paragraph_mark(*x, style.height));
                    *x = 0.0;
                } else {
                    *x = layout.push_char(style, c, *x, 0.0);
                }
            }
            true
        };
        if t.runs.is_empty() {
            push_plain(self, base, text, &mut x);
            return;
        }
        let mut covered = 0;
        for run in &t.runs {
            let (start, end) = (run.start.min(text.len()), run.end.min(text.len()));
            if start < covered || start > end || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
                continue;
            }
            // Text between runs (the parser covers it all; this keeps nothing from vanishing).
            if !push_plain(self, base, &text[covered..start], &mut x) {
                return;
            }
            let style = self.run_style(base, &run.style);
            let more = match &run.stack {
                Some(stack) => {
                    x = self.push_stack(&style, &stack.upper, &stack.lower, stack.kind, x);
                    true
                }
                None => push_plain(self, &style, &text[start..end], &mut x),
            };
            covered = end;
            if !more {
                return;
            }
        }
        push_plain(self, base, &text[covered..], &mut x);
    }

    /// Splits `pending` into lines: at paragraph marks, and greedily at break opportunities when
    /// a line grows wider than `wrap` (a word longer than the column overflows it, as in AutoCAD).
    fn break_lines(&mut self, wrap: f64) {
        let n = self.pending.len();
        let mut start = 0;
        while start < n {
            let x0 = self.pending[start].x;
            let mut last_break: Option<usize> = None;
            let mut end = n;
            for i in start..n {
                let p = self.pending[i];
                if p.brk == Break::Paragraph {
                    end = i + 1;
                    break;
                }
                if p.wide && i > start {
                    last_break = Some(i - 1);
                }
                if p.x + p.advance - x0 > wrap + 1e-9 * wrap
                    && !p.space
                    && i > start
                    && let Some(b) = last_break
                {
                    end = b + 1;
                    break;
                }
                if p.brk == Break::After {
                    last_break = Some(i);
                }
            }
            let mut line_height: f64 = 0.0;
            let mut right = x0;
            for p in &self.pending[start..end] {
                line_height = line_height.max(p.height);
                if !p.space && p.brk != Break::Paragraph && p.height > 0.0 {
                    right = right.max(p.x + p.advance);
                }
            }
            let x_start = self.pending[start..end].iter().find(|p| !p.space).map_or(x0, |p| p.x);
            self.lines.push(Line {
                start,
                end,
                x0: x_start.min(right),
                width: right - x_start.min(right),
                height: line_height,
            });
            let wrapped = end < n && self.pending[end - 1].brk != Break::Paragraph;
            start = end;
            // A wrapped line's next line starts after the spaces that ended it.
            while wrapped && start < n && self.pending[start].space {
                start += 1;
            }
        }
    }

    /// Places the lines by the text's alignment and emits the instances.
    fn place(&mut self, index: u32, t: &TextItem, base: &Style) {
        let h = base.height;
        // Baselines, the first line's capitals touching y = 0.
        let spacing = Some(f64::from(t.line_spacing)).filter(|s| s.is_finite() && *s > 0.0).unwrap_or(1.0);
        let mut baselines = std::mem::take(&mut self.baselines);
        baselines.clear();
        let mut y = 0.0;
        for (i, line) in self.lines.iter().enumerate() {
            let lh = if line.height > 0.0 { line.height } else { h };
            y -= if i == 0 { lh } else { LINE_PITCH * lh * spacing.clamp(0.25, 4.0) };
            baselines.push(y);
        }
        let first_cap = -baselines.first().copied().unwrap_or(-h);
        let last = baselines.last().copied().unwrap_or(0.0);
        let shift = if t.mtext {
            match t.valign {
                3 => 0.0,
                2 => -last / 2.0,
                _ => -last,
            }
        } else {
            match t.valign {
                1 => first_cap + h / 3.0,
                2 => first_cap - h / 2.0,
                3 => first_cap - h,
                _ => first_cap,
            }
        };
        // Aligned and fit: the line spans the two points.
        let (mut fx, mut fy) = (1.0, 1.0);
        if matches!(t.halign, 3 | 5) {
            let width = self.lines.iter().map(|l| l.width).fold(0.0, f64::max);
            let length = f64::from(t.fit_length);
            if width > 0.0 && length.is_finite() && length > 0.0 {
                fx = length / width;
                if t.halign == 3 {
                    fy = fx;
                }
            }
        }
        let (sin, cos) = f64::from(t.rotation).sin_cos();
        let (mx, my) = (if t.mirror & 2 != 0 { -1.0 } else { 1.0 }, if t.mirror & 4 != 0 { -1.0 } else { 1.0 });
        // Local → scene, without the translation: rotation · mirror · fit.
        let m = [cos * mx * fx, -sin * my * fy, sin * mx * fx, cos * my * fy];
        let (px, py) = (f64::from(t.position[0]), f64::from(t.position[1]));
        let mut local = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        'lines: for (li, &baseline) in baselines.iter().enumerate() {
            let Some(&line) = self.lines.get(li) else { break };
            let x_off = match t.halign {
                1 | 4 => -line.x0 - line.width / 2.0,
                2 => -line.x0 - line.width,
                _ => -line.x0,
            };
            let baseline = baseline + shift;
            for pi in line.start..line.end {
                let p = self.pending[pi];
                if p.mesh == NO_MESH {
                    continue;
                }
                let (x, y) = (p.x + x_off, baseline + p.dy);
                let transform = [
                    m[0] * p.sx,
                    m[2] * p.sx,
                    m[0] * p.k + m[1] * p.sy,
                    m[2] * p.k + m[3] * p.sy,
                    px + m[0] * x + m[1] * y,
                    py + m[2] * x + m[3] * y,
                ];
                let transform = transform.map(|v| v as f32);
                if !transform.iter().all(|v| v.is_finite()) {
                    self.unplaced_glyphs += 1;
                    continue;
                }
                if !self.spend(INSTANCE_VERTICES) {
                    break 'lines;
                }
                self.set.instances.push(GlyphInstance { mesh: p.mesh, text: index, ink: p.ink, transform });
                if let Some(b) = self.mesh_boxes.get(p.mesh as usize) {
                    let (b0, b1, b2, b3) = (f64::from(b[0]), f64::from(b[1]), f64::from(b[2]), f64::from(b[3]));
                    let (k0, k1) = ((p.k * b1).min(p.k * b3), (p.k * b1).max(p.k * b3));
                    let (xa, xb) = (x + p.sx * b0, x + p.sx * b2);
                    let (ya, yb) = (y + p.sy * b1, y + p.sy * b3);
                    local = [
                        local[0].min(xa.min(xb) + k0),
                        local[1].min(ya.min(yb)),
                        local[2].max(xa.max(xb) + k1),
                        local[3].max(ya.max(yb)),
                    ];
                }
            }
        }
        self.baselines = baselines;
        if local[0].is_finite() {
            for (x, y) in [(local[0], local[1]), (local[2], local[1]), (local[2], local[3]), (local[0], local[3])] {
                let (sx, sy) = (px + m[0] * x + m[1] * y, py + m[2] * x + m[3] * y);
                if sx.is_finite() && sy.is_finite() {
                    self.bounds = [
                        self.bounds[0].min(sx),
                        self.bounds[1].min(sy),
                        self.bounds[2].max(sx),
                        self.bounds[3].max(sy),
                    ];
                }
            }
        }
    }
}

/// The item that ends a paragraph (as tall as its text, so an empty paragraph keeps its line).
fn paragraph_mark(x: f64, height: f64) -> Pending {
    Pending {
        mesh: NO_MESH,
        x,
        advance: 0.0,
        sx: 0.0,
        sy: 0.0,
        k: 0.0,
        dy: 0.0,
        height,
        ink: Ink::Foreground,
        brk: Break::Paragraph,
        space: false,
        wide: false,
    }
}

#[cfg(test)]
mod tests;
