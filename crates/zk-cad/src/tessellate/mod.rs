//! A layout of a drawing into compact buffers for the viewer: line segments, filled triangles
//! and points as `f32` pairs, grouped by layer and colour (one draw call per group), each
//! primitive tagged with the top-level entity it came from (for picking). Curves are flattened to
//! a tolerance; blocks are expanded (nested, arrayed, with BYBLOCK colours and layer-0 entities
//! taking the insert's layer); hatches become triangles or pattern lines. Text is handed over as
//! [`TextItem`]s (placed, sized and rotated) for the glyph stage that follows.
//!
//! Coordinates are relative to [`Scene::origin`] (the centre of the layout's extents), so `f32`
//! keeps sub-millimetre precision on drawings placed far from the world origin.
//!
//! Guards: a vertex budget and a block-instance budget (the scene is cut short with a diagnostic
//! saying how many instances were drawn of how many, see [`budget`]), the block depth cap and
//! cycle detection, per-curve segment caps, and the caller's deadline or cancel hook.

pub mod budget;
pub mod fill;
pub mod flatten;
mod pattern_library;
pub mod patterns;

use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;

use crate::color::{ACI_RGB, Color, blends_with_background};
use crate::diagnostics::{Diagnostic, DiagnosticCode, DiagnosticSink};
use crate::entity::{BoundaryEdges, Entity, EntityKind, Hatch, HatchEdge, PolylineKind, Text};
use crate::extents::entities_extents;
use crate::geometry::{Bounds, Ocs, Transform, Vec2, Vec3};
use crate::model::{BlockId, Drawing, LayerId, Layout, LinetypeRef, TextStyleId};
use crate::nesting::HARD_DEPTH_CAP;
use budget::{Limit, Shortfall};

/// The default vertex budget: about 170 MB of scene.
pub const DEFAULT_MAX_VERTICES: usize = 16 * 1024 * 1024;
/// The default block-instance budget.
pub const DEFAULT_MAX_INSTANCES: u64 = 1024 * 1024;

#[derive(Clone, Copy)]
pub struct TessellateOptions<'o> {
    /// Largest distance between a curve and its chords, in drawing units; 0 picks 1/2000 of the
    /// layout's extent (about half a pixel when the whole drawing fits a 1000-pixel view).
    pub tolerance: f64,
    pub max_block_depth: usize,
    /// Vertices beyond this are not produced; the scene says it was cut short. About 10 bytes
    /// each in a scene and as many again in its wire encoding.
    pub max_vertices: usize,
    /// Block instances (each cell of an INSERT's array, nested ones included) beyond this are not
    /// drawn; the scene says it was cut short and how many the layout holds.
    pub max_instances: u64,
    pub deadline: Option<Instant>,
    pub cancel: Option<&'o (dyn Fn() -> bool + Sync + std::panic::RefUnwindSafe)>,
}

impl Default for TessellateOptions<'_> {
    fn default() -> Self {
        TessellateOptions {
            tolerance: 0.0,
            max_block_depth: 32,
            max_vertices: DEFAULT_MAX_VERTICES,
            max_instances: DEFAULT_MAX_INSTANCES,
            deadline: None,
            cancel: None,
        }
    }
}

impl TessellateOptions<'_> {
    /// Why work must stop now: the cancel hook said so, or the deadline passed.
    pub(crate) fn stop_reason(&self) -> Option<TessellateError> {
        if self.cancel.is_some_and(|cancelled| cancelled()) {
            Some(TessellateError::Cancelled)
        } else if self.deadline.is_some_and(|d| Instant::now() >= d) {
            Some(TessellateError::DeadlineExceeded)
        } else {
            None
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TessellateError {
    #[error("drawing the layout was cancelled")]
    Cancelled,
    #[error("drawing the layout took longer than its time budget")]
    DeadlineExceeded,
}

/// What to draw a primitive with: a colour, or the foreground (ACI 7: white on a dark
/// background, black on a light one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "rgb", rename_all = "snake_case")]
pub enum Ink {
    Foreground,
    Rgb(u32),
}

/// One draw call's worth of primitives: everything of one layer in one colour.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub layer: LayerId,
    pub ink: Ink,
    /// Segments: x0, y0, x1, y1 per segment.
    pub lines: Vec<f32>,
    /// The top-level entity (its index in the layout) of each segment.
    pub line_owners: Vec<u32>,
    /// Triangles: x, y per corner, three corners each.
    pub triangles: Vec<f32>,
    pub triangle_owners: Vec<u32>,
    /// Points: x, y each.
    pub points: Vec<f32>,
    pub point_owners: Vec<u32>,
}

/// A text to draw, placed and sized in scene coordinates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TextItem {
    pub owner: u32,
    pub layer: LayerId,
    pub ink: Ink,
    /// Plain text; `\n` separates lines.
    pub text: String,
    /// The anchor the alignment refers to, relative to the scene origin.
    pub position: [f32; 2],
    pub height: f32,
    /// Radians, counter-clockwise, of the text's baseline.
    pub rotation: f32,
    pub width_factor: f32,
    /// Degrees.
    pub oblique: f32,
    /// 0 left, 1 centre, 2 right; TEXT also 3 aligned (the line spans `fit_length`, its height
    /// scaled with it) and 5 fit (spans `fit_length`, only its width scaled).
    pub halign: u8,
    /// TEXT: 0 baseline, 1 bottom, 2 middle, 3 top of the first line. MTEXT: 1 bottom, 2 middle,
    /// 3 top of the block of lines.
    pub valign: u8,
    /// MTEXT wrapping width, 0 for none.
    pub wrap_width: f32,
    pub style: TextStyleId,
    /// TEXT aligned or fit: the distance between its two points, along `rotation`.
    pub fit_length: f32,
    /// TEXT generation flags: 2 backwards (mirrored in X), 4 upside down (mirrored in Y).
    pub mirror: u8,
    /// Laid out as MTEXT: wrapped at `wrap_width`, the block of lines attached by `valign`.
    pub mtext: bool,
    /// MTEXT line spacing factor (1.0: lines 5/3 of the text height apart).
    pub line_spacing: f32,
    /// MTEXT styled runs over `text` (fonts, heights, colours, stacks); empty when plain. Heights
    /// are relative to `height`.
    #[serde(skip)]
    pub runs: Vec<crate::mtext::TextRun>,
}

/// A paper-space viewport: where on the sheet, and which part of model space it shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ViewportFrame {
    pub owner: u32,
    pub center: [f32; 2],
    pub width: f32,
    pub height: f32,
    /// Model-space view centre and height (drawing units, not relative to the origin).
    pub view_center: Vec2,
    pub view_height: f64,
    pub twist_deg: f64,
    /// Layers frozen in this viewport only (VIEWPORT group 331/341): model space drawn through
    /// it leaves them out. Handles that name no layer are skipped.
    pub frozen_layers: Vec<LayerId>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scene {
    /// Subtracted from every coordinate in the buffers.
    pub origin: Vec2,
    /// Bounds of what was drawn, in drawing coordinates (infinite lines excluded).
    pub bounds: Option<Bounds>,
    pub tolerance: f64,
    pub batches: Vec<Batch>,
    pub texts: Vec<TextItem>,
    pub viewports: Vec<ViewportFrame>,
    /// By layer index: whether the drawing's layer state shows the layer (on and not frozen).
    /// Every entity is in the scene, so the viewer can still show a hidden layer on request; the
    /// exports draw only the layers shown here, and [`Scene::bounds`] covers only them. See
    /// [`Scene::shows`].
    pub shown_layers: Vec<bool>,
    /// The texts' characters as instances of glyph meshes (empty until glyphs are laid out).
    pub glyphs: GlyphSet,
    pub vertices: usize,
    /// A budget ran out: the scene is incomplete.
    pub truncated: bool,
    /// Which budget, and how many block instances were drawn of how many (set when `truncated`).
    pub shortfall: Option<Shortfall>,
}

impl Scene {
    /// Whether the drawing's layer state shows `layer`: false for a layer that is off or frozen,
    /// and for the batches and texts of what an INSERT on a frozen layer holds (they are put on
    /// that layer). A layer the scene does not list is shown.
    pub fn shows(&self, layer: LayerId) -> bool {
        self.shown_layers.get(layer.index()).copied().unwrap_or(true)
    }
}

/// Glyphs drawn once and placed many times: each distinct character of each font is one
/// triangle mesh in em units, and every character of every text is an instance of a mesh with
/// its own transform. A drawing with a million labels then costs a million small records, not a
/// million copies of each glyph's triangles.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GlyphSet {
    /// Triangles of every mesh: x, y per corner, in em units (1.0 = the font's em).
    pub vertices: Vec<f32>,
    pub meshes: Vec<GlyphMesh>,
    pub instances: Vec<GlyphInstance>,
}

impl GlyphSet {
    /// The box a mesh's triangles cover, em units: min x, min y, max x, max y; `None` when the
    /// mesh has no corners or lies outside [`GlyphSet::vertices`].
    pub fn mesh_bounds(&self, mesh: &GlyphMesh) -> Option<[f32; 4]> {
        let start = (mesh.first as usize).checked_mul(2)?;
        let end = start.checked_add((mesh.count as usize).checked_mul(2)?)?;
        let corners = self.vertices.get(start..end)?;
        let mut b = [f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY];
        for xy in corners.chunks_exact(2) {
            b = [b[0].min(xy[0]), b[1].min(xy[1]), b[2].max(xy[0]), b[3].max(xy[1])];
        }
        (b[0] <= b[2] && b[1] <= b[3]).then_some(b)
    }
}

/// A glyph's triangles: corners `first .. first + count` of [`GlyphSet::vertices`] (pairs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GlyphMesh {
    pub first: u32,
    pub count: u32,
    /// What the mesh draws, for renderers that fill the outline instead
    /// ([`crate::text::glyph_outline`]).
    pub source: GlyphSource,
}

/// Where a glyph mesh comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum GlyphSource {
    /// A glyph of a bundled font.
    Font { font: crate::text::fonts::BundledFont, glyph: u16 },
    /// The box drawn for a character no bundled font has.
    #[default]
    MissingBox,
    /// The unit square (0, 0) to (1, 1): underlines, overlines and fraction bars.
    Rule,
}

/// One character of a text: a mesh placed by an affine transform from em units to scene
/// coordinates, `x' = a·x + c·y + tx`, `y' = b·x + d·y + ty`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlyphInstance {
    /// Index into [`GlyphSet::meshes`].
    pub mesh: u32,
    /// Index into [`Scene::texts`]: the text it belongs to (its layer and owner).
    pub text: u32,
    /// Its colour: the text's, or that of an MTEXT colour run.
    pub ink: Ink,
    /// `[a, b, c, d, tx, ty]`.
    pub transform: [f32; 6],
}

/// How a colour is drawn: as the foreground (the contrast to the background, as ACI 7) when it
/// blends with a background the outputs draw on ([`blends_with_background`]: within ΔE\*ab 8 of
/// white, black or the dark backgrounds), else as itself.
pub fn rgb_ink(rgb: u32) -> Ink {
    if blends_with_background(rgb) { Ink::Foreground } else { Ink::Rgb(rgb & 0xFF_FFFF) }
}

/// Tessellates one layout of `drawing`.
pub fn tessellate(
    drawing: &Drawing,
    layout: &Layout,
    options: &TessellateOptions<'_>,
) -> Result<(Scene, Vec<Diagnostic>), TessellateError> {
    let depth = options.max_block_depth.min(HARD_DEPTH_CAP);
    let extents = entities_extents(drawing, drawing.layout_entities(layout), depth);
    let origin = extents.map_or(Vec2::default(), |b| Vec2::new((b.min.x + b.max.x) / 2.0, (b.min.y + b.max.y) / 2.0));
    let tolerance = if options.tolerance > 0.0 && options.tolerance.is_finite() {
        options.tolerance
    } else {
        let size = extents.map_or(1.0, |b| (b.max.x - b.min.x).max(b.max.y - b.min.y));
        if size.is_finite() && size > 0.0 { size / 2000.0 } else { 1.0 }
    };
    let layer_zero = drawing.find_layer("0");
    let shown_layers: Vec<bool> = drawing.layers.iter().map(|l| l.visible()).collect();
    let mut t = Tessellator {
        drawing,
        options,
        max_depth: depth,
        origin,
        tolerance,
        layer_zero,
        batches: Vec::new(),
        batch_index: HashMap::new(),
        last_batch: None,
        scene_texts: Vec::new(),
        viewports: Vec::new(),
        rays: Vec::new(),
        bounds: Bounds::EMPTY,
        vertices: 0,
        truncated: false,
        limit: None,
        instances: 0,
        stopped: None,
        block_stack: Vec::new(),
        diag: DiagnosticSink::default(),
        polled: 0,
        flat2: Vec::new(),
        flat3: Vec::new(),
        plane: Vec::new(),
        ltscale: drawing.header.ltscale.filter(|s| s.is_finite() && *s > 0.0).unwrap_or(1.0),
        dash: None,
        current_linetype: LinetypeRef::ByLayer,
        shown_layers,
        shown: true,
        inks: HashMap::new(),
        last_ink: None,
        layer_handles: None,
    };
    let top = Context {
        transform: Transform::IDENTITY,
        layer: None,
        block_ink: Ink::Foreground,
        block_linetype: LinetypeRef::ByLayer,
        frozen_by: None,
        depth: 0,
        owner: 0,
    };
    for (index, entity) in drawing.layout_entities(layout).enumerate() {
        if t.stopped.is_some() || t.truncated {
            break;
        }
        let ctx = Context { owner: index.min(u32::MAX as usize) as u32, ..top };
        t.entity(entity, &ctx);
    }
    if let Some(error) = t.stopped.take() {
        return Err(error);
    }
    t.draw_rays();
    let glyphs = if t.truncated {
        GlyphSet::default()
    } else {
        let out = crate::text::lay_out(drawing, &t.scene_texts, &t.shown_layers, t.vertices, options, &mut t.diag);
        if let Some(error) = out.stopped {
            return Err(error);
        }
        if let Some([x0, y0, x1, y1]) = out.bounds {
            t.bounds.include(Vec3::new(x0 + origin.x, y0 + origin.y, 0.0));
            t.bounds.include(Vec3::new(x1 + origin.x, y1 + origin.y, 0.0));
        }
        t.vertices = out.vertices;
        t.truncated |= out.truncated;
        out.set
    };
    let shortfall = t.truncated.then(|| Shortfall {
        limit: t.limit.unwrap_or(Limit::Vertices(options.max_vertices)),
        instances_drawn: t.instances,
        // Counted only now, for the message: a whole walk of the layout's blocks, never an expansion.
        instances_total: budget::instances_in(drawing, drawing.layout_entities(layout), depth).max(t.instances),
    });
    if let Some(shortfall) = &shortfall {
        t.diag.warn(DiagnosticCode::OverBudget, None, shortfall.message());
    }
    let scene = Scene {
        origin,
        bounds: (!t.bounds.is_empty()).then_some(t.bounds),
        tolerance,
        batches: t.batches,
        texts: t.scene_texts,
        viewports: t.viewports,
        shown_layers: t.shown_layers,
        glyphs,
        vertices: t.vertices,
        truncated: t.truncated,
        shortfall,
    };
    Ok((scene, t.diag.finish()))
}

/// What an entity inherits from the inserts it is drawn through.
#[derive(Clone, Copy)]
struct Context {
    transform: Transform,
    /// The insert's layer, for entities on layer 0 inside a block.
    layer: Option<LayerId>,
    /// The insert's colour, for BYBLOCK.
    block_ink: Ink,
    /// The insert's linetype, for BYBLOCK.
    block_linetype: LinetypeRef,
    /// The layer of the outermost insert (or dimension, table, multileader block) drawn through
    /// that is frozen: a frozen insert hides all it holds, so its content is put on that layer.
    frozen_by: Option<LayerId>,
    depth: usize,
    owner: u32,
}

impl Context {
    /// How much the transform scales lengths at most (for the flattening tolerance).
    fn scale(&self) -> f64 {
        let c = &self.transform.cols;
        c[0].length().max(c[1].length()).max(c[2].length()).max(1e-12)
    }
}

struct Tessellator<'d, 'o> {
    drawing: &'d Drawing,
    options: &'o TessellateOptions<'o>,
    max_depth: usize,
    origin: Vec2,
    tolerance: f64,
    layer_zero: Option<LayerId>,
    batches: Vec<Batch>,
    batch_index: HashMap<(LayerId, Ink), usize>,
    last_batch: Option<((LayerId, Ink), usize)>,
    scene_texts: Vec<TextItem>,
    viewports: Vec<ViewportFrame>,
    rays: Vec<(Context, LayerId, Ink, Vec3, Vec3, bool)>,
    bounds: Bounds,
    vertices: usize,
    truncated: bool,
    /// The budget that ran out (`None` with `truncated`: the vertex budget, in a stage that
    /// does not say, such as a hatch fill or the glyphs).
    limit: Option<Limit>,
    /// Block instances drawn so far.
    instances: u64,
    stopped: Option<TessellateError>,
    block_stack: Vec<BlockId>,
    diag: DiagnosticSink,
    polled: u32,
    flat2: Vec<Vec2>,
    flat3: Vec<Vec3>,
    /// Reused: (vertex, bulge, start width, end width) of a 2D polyline.
    plane: Vec<(Vec2, f64, f64, f64)>,
    /// `$LTSCALE`.
    ltscale: f64,
    /// The dash pattern of the entity being drawn.
    dash: Option<Dash>,
    /// The linetype of the entity being drawn, as it stands (for BYBLOCK in its block).
    current_linetype: LinetypeRef,
    /// [`Scene::shown_layers`].
    shown_layers: Vec<bool>,
    /// Whether the entity being drawn is shown (its geometry then counts in the bounds).
    shown: bool,
    /// Each colour met, as drawn: its own, or the foreground when it blends with a background.
    inks: HashMap<u32, Ink>,
    last_ink: Option<(u32, Ink)>,
    /// Layer by handle, built the first time a viewport freezes layers.
    layer_handles: Option<HashMap<u64, LayerId>>,
}

/// A linetype's pattern in drawing units: positive dashes, negative gaps, zero dots.
#[derive(Clone, Debug)]
struct Dash {
    elements: Vec<f64>,
    period: f64,
}

impl Tessellator<'_, '_> {
    fn poll(&mut self) {
        self.polled += 1;
        if !self.polled.is_multiple_of(256) {
            return;
        }
        self.stopped = self.options.stop_reason();
    }

    fn halted(&self) -> bool {
        self.stopped.is_some() || self.truncated
    }

    /// The layer and ink an entity is drawn with in this context: its own layer, or the
    /// insert's for an entity on layer 0 inside a block; its colour through BYLAYER (that layer's)
    /// and BYBLOCK (the insert's).
    fn style(&mut self, e: &Entity, ctx: &Context) -> (LayerId, Ink) {
        let layer = match ctx.layer {
            Some(insert_layer) if Some(e.common.layer) == self.layer_zero => insert_layer,
            _ => e.common.layer,
        };
        let ink = match e.common.color {
            Color::ByBlock => ctx.block_ink,
            Color::ByLayer => match self.drawing.layer(layer).map(|l| l.color) {
                Some(Color::Rgb(rgb)) => self.ink(rgb),
                Some(Color::Aci(i)) if i != 7 => self.ink(ACI_RGB[usize::from(i)]),
                _ => Ink::Foreground,
            },
            Color::Aci(7) => Ink::Foreground,
            Color::Aci(i) => self.ink(ACI_RGB[usize::from(i)]),
            Color::Rgb(rgb) => self.ink(rgb),
        };
        (layer, ink)
    }

    /// How a colour is drawn (see [`rgb_ink`]), remembered per colour (consecutive entities
    /// mostly share one).
    fn ink(&mut self, rgb: u32) -> Ink {
        let rgb = rgb & 0xFF_FFFF;
        if let Some((last, ink)) = self.last_ink
            && last == rgb
        {
            return ink;
        }
        let ink = *self.inks.entry(rgb).or_insert_with(|| rgb_ink(rgb));
        self.last_ink = Some((rgb, ink));
        ink
    }

    /// Whether the drawing's layer state shows what is drawn on `layer`.
    fn layer_shown(&self, layer: LayerId) -> bool {
        self.shown_layers.get(layer.index()).copied().unwrap_or(true)
    }

    /// `ctx.frozen_by`, or `layer` when the insert drawn on it is the first frozen one.
    fn frozen_by(&self, ctx: &Context, layer: LayerId) -> Option<LayerId> {
        ctx.frozen_by.or_else(|| self.drawing.layer(layer).is_some_and(|l| l.frozen).then_some(layer))
    }

    /// The layers a viewport freezes, by their handles.
    fn viewport_frozen_layers(&mut self, handles: &[u64]) -> Vec<LayerId> {
        if handles.is_empty() {
            return Vec::new();
        }
        let drawing = self.drawing;
        let by_handle = self.layer_handles.get_or_insert_with(|| {
            drawing
                .layers
                .iter()
                .enumerate()
                .filter(|(_, l)| l.handle != 0)
                .map(|(i, l)| (l.handle, LayerId(i as u32)))
                .collect()
        });
        let mut layers: Vec<LayerId> = handles.iter().filter_map(|h| by_handle.get(h).copied()).collect();
        layers.sort_unstable();
        layers.dedup();
        layers
    }

    fn batch(&mut self, layer: LayerId, ink: Ink) -> usize {
        // Consecutive entities mostly share a layer and colour.
        if let Some((key, i)) = self.last_batch
            && key == (layer, ink)
        {
            return i;
        }
        if let Some(&i) = self.batch_index.get(&(layer, ink)) {
            self.last_batch = Some(((layer, ink), i));
            return i;
        }
        self.batches.push(Batch {
            layer,
            ink,
            lines: Vec::new(),
            line_owners: Vec::new(),
            triangles: Vec::new(),
            triangle_owners: Vec::new(),
            points: Vec::new(),
            point_owners: Vec::new(),
        });
        let i = self.batches.len() - 1;
        self.batch_index.insert((layer, ink), i);
        self.last_batch = Some(((layer, ink), i));
        i
    }

    /// World point of `p` in this context, counted against the budget; `None` when not finite.
    fn place(&mut self, ctx: &Context, p: Vec3) -> Option<[f32; 2]> {
        let w = ctx.transform.apply(p);
        if !w.is_finite() {
            return None;
        }
        if self.shown {
            self.bounds.include(Vec3::new(w.x, w.y, 0.0));
        }
        Some([(w.x - self.origin.x) as f32, (w.y - self.origin.y) as f32])
    }

    fn spend(&mut self, vertices: usize) -> bool {
        self.vertices = self.vertices.saturating_add(vertices);
        if self.vertices > self.options.max_vertices && !self.truncated {
            self.truncated = true;
            self.limit = Some(Limit::Vertices(self.options.max_vertices));
        }
        !self.truncated
    }

    /// Counts one block instance against its budget (and a vertex's worth against the vertex
    /// budget, so an array of an empty block ends too); false when it is not to be drawn.
    fn spend_instance(&mut self) -> bool {
        if self.halted() {
            return false;
        }
        if self.instances >= self.options.max_instances {
            self.truncated = true;
            self.limit = Some(Limit::Instances(self.options.max_instances));
            return false;
        }
        if !self.spend(1) {
            return false;
        }
        self.instances += 1;
        true
    }

    fn segment(&mut self, ctx: &Context, batch: usize, a: Vec3, b: Vec3) {
        if !self.spend(2) {
            return;
        }
        if let (Some(a), Some(b)) = (self.place(ctx, a), self.place(ctx, b)) {
            let batch = &mut self.batches[batch];
            batch.lines.extend_from_slice(&[a[0], a[1], b[0], b[1]]);
            batch.line_owners.push(ctx.owner);
        }
    }

    fn polyline(&mut self, ctx: &Context, batch: usize, points: &[Vec3], closed: bool) {
        for w in points.windows(2) {
            self.segment(ctx, batch, w[0], w[1]);
        }
        if closed && points.len() > 2 {
            self.segment(ctx, batch, points[points.len() - 1], points[0]);
        }
    }

    /// Draws a polyline in the current entity's linetype (see `dash`): dashes as segments, dots
    /// as points, continuous when the entity has no pattern or the pattern is too fine to see.
    fn stroke(&mut self, ctx: &Context, batch: usize, points: &[Vec3], closed: bool) {
        let Some(dash) = self.dash.take() else {
            self.polyline(ctx, batch, points, closed);
            return;
        };
        let closing = (closed && points.len() > 2).then(|| [points[points.len() - 1], points[0]]);
        let segments = points.windows(2).map(|w| (w[0], w[1])).chain(closing.map(|[a, b]| (a, b)));
        let total: f64 = segments.clone().map(|(a, b)| b.minus(a).length()).sum();
        if !(total.is_finite() && total / dash.period <= 20_000.0) {
            self.polyline(ctx, batch, points, closed);
            self.dash = Some(dash);
            return;
        }
        let n = dash.elements.len();
        let mut element = 0;
        let mut left = dash.elements[0].abs();
        for (a, b) in segments {
            let length = b.minus(a).length();
            let Some(direction) = b.minus(a).normalized() else { continue };
            let mut t = 0.0;
            let mut guard = 0;
            while t < length && guard < 4 * n + 200_000 {
                guard += 1;
                let value = dash.elements[element];
                if value == 0.0 {
                    self.point(ctx, batch, a.plus(direction.scale(t)));
                } else {
                    let step = left.min(length - t);
                    if value > 0.0 {
                        self.segment(ctx, batch, a.plus(direction.scale(t)), a.plus(direction.scale(t + step)));
                    }
                    t += step;
                    left -= step;
                    if left > 1e-12 * dash.period {
                        continue;
                    }
                }
                element = (element + 1) % n;
                left = dash.elements[element].abs();
            }
        }
        self.dash = Some(dash);
    }

    /// The dash pattern an entity is drawn with: its linetype (through BYLAYER and BYBLOCK),
    /// scaled by `$LTSCALE` and the entity's own scale; `None` for continuous lines.
    fn dash_for(&self, e: &Entity, ctx: &Context, layer: LayerId) -> Option<Dash> {
        let linetype = match e.common.linetype {
            LinetypeRef::ByLayer => self.drawing.layer(layer).map(|l| l.linetype)?,
            LinetypeRef::ByBlock => ctx.block_linetype,
            named => named,
        };
        let LinetypeRef::Named(id) = linetype else { return None };
        let pattern = &self.drawing.linetype(id)?.pattern;
        let scale = self.ltscale * f64::from(e.common.linetype_scale);
        if pattern.len() < 2 || !pattern.iter().any(|d| *d < 0.0) || !(scale.is_finite() && scale > 0.0) {
            return None;
        }
        let elements: Vec<f64> = pattern.iter().map(|d| d * scale).collect();
        let period: f64 = elements.iter().map(|d| d.abs()).sum();
        (period.is_finite() && period > 0.0).then_some(Dash { elements, period })
    }

    fn triangle(&mut self, ctx: &Context, batch: usize, corners: [Vec3; 3]) {
        if !self.spend(3) {
            return;
        }
        let [a, b, c] = corners;
        if let (Some(a), Some(b), Some(c)) = (self.place(ctx, a), self.place(ctx, b), self.place(ctx, c)) {
            let batch = &mut self.batches[batch];
            batch.triangles.extend_from_slice(&[a[0], a[1], b[0], b[1], c[0], c[1]]);
            batch.triangle_owners.push(ctx.owner);
        }
    }

    fn point(&mut self, ctx: &Context, batch: usize, p: Vec3) {
        if !self.spend(1) {
            return;
        }
        if let Some(p) = self.place(ctx, p) {
            let batch = &mut self.batches[batch];
            batch.points.extend_from_slice(&p);
            batch.point_owners.push(ctx.owner);
        }
    }

    /// The flattening tolerance in the entity's own units.
    fn local_tolerance(&self, ctx: &Context) -> f64 {
        self.tolerance / ctx.scale()
    }

    fn entity(&mut self, e: &Entity, ctx: &Context) {
        self.poll();
        if e.common.invisible || self.halted() {
            return;
        }
        let (layer, ink) = self.style(e, ctx);
        // Blocks drawn below set their own; this entity's pattern comes back after.
        let dash = self.dash_for(e, ctx, layer);
        let outer_dash = std::mem::replace(&mut self.dash, dash);
        let outer_linetype = std::mem::replace(&mut self.current_linetype, e.common.linetype);
        let shown = self.layer_shown(ctx.frozen_by.unwrap_or(layer));
        let outer_shown = std::mem::replace(&mut self.shown, shown);
        self.entity_kind(e, ctx, layer, ink);
        self.dash = outer_dash;
        self.current_linetype = outer_linetype;
        self.shown = outer_shown;
    }

    /// Draws one entity on `layer` (its own or, on layer 0 in a block, the insert's), which its
    /// blocks' layer-0 entities inherit; its primitives go to the batch of the frozen insert it is
    /// drawn through, if any, else of `layer`.
    fn entity_kind(&mut self, e: &Entity, ctx: &Context, layer: LayerId, ink: Ink) {
        let drawn = ctx.frozen_by.unwrap_or(layer);
        let batch = self.batch(drawn, ink);
        let tol = self.local_tolerance(ctx);
        match &e.kind {
            EntityKind::Line { start, end } => self.stroke(ctx, batch, &[*start, *end], false),
            EntityKind::Point { location } => self.point(ctx, batch, *location),
            EntityKind::Circle { center, radius, normal } => {
                self.arc_entity(ctx, batch, *center, *radius, 0.0, 360.0, *normal, tol)
            }
            EntityKind::Arc(a) => {
                self.arc_entity(ctx, batch, a.center, a.radius, a.start_angle, a.end_angle, a.normal, tol)
            }
            EntityKind::Ellipse(el) => {
                let mut pts = std::mem::take(&mut self.flat3);
                pts.clear();
                flatten::ellipse(el, tol, &mut pts);
                self.stroke(ctx, batch, &pts, false);
                self.flat3 = pts;
            }
            EntityKind::LwPolyline(p) => {
                let mut vertices = std::mem::take(&mut self.plane);
                vertices.clear();
                vertices.extend(p.vertices.iter().enumerate().map(|(i, v)| {
                    let (sw, ew) = p.widths.get(i).copied().unwrap_or((p.constant_width, p.constant_width));
                    (*v, p.bulge(i), sw, ew)
                }));
                self.plane_polyline(ctx, batch, &vertices, p.closed, p.elevation, p.normal, tol);
                self.plane = vertices;
            }
            EntityKind::Polyline(p) => self.polyline_entity(ctx, batch, p, tol),
            EntityKind::Spline(s) => {
                let mut pts = std::mem::take(&mut self.flat3);
                pts.clear();
                if let Some(fallback) = flatten::spline(s, tol, &mut pts) {
                    self.diag.info(
                        DiagnosticCode::InvalidGeometry,
                        None,
                        format!(
                            "a SPLINE was drawn through its {} points instead of as a curve ({fallback:?})",
                            pts.len()
                        ),
                    );
                }
                self.stroke(ctx, batch, &pts, s.closed() && s.control_points.is_empty());
                self.flat3 = pts;
            }
            EntityKind::Text(t) => self.text(ctx, drawn, ink, t, t.text.clone()),
            EntityKind::AttributeDefinition(a) => {
                // Templates: drawn (as their tag) only where they stand on their own.
                if ctx.depth == 0 && !a.invisible() {
                    self.text(ctx, drawn, ink, &a.text, a.tag.clone());
                }
            }
            EntityKind::MText(m) => {
                let ocs_normal = m.normal;
                let position = ctx.transform.apply(m.insert);
                let direction = ctx.transform.apply(m.x_axis).minus(ctx.transform.apply(Vec3::ZERO));
                let up = ctx
                    .transform
                    .apply(
                        ocs_normal
                            .normalized()
                            .unwrap_or(Vec3::Z)
                            .cross(m.x_axis.normalized().unwrap_or(Vec3::new(1.0, 0.0, 0.0))),
                    )
                    .minus(ctx.transform.apply(Vec3::ZERO));
                let attachment = m.attachment.clamp(1, 9) - 1;
                let style = self.drawing.text_style(m.style);
                let height = if m.char_height > 0.0 { m.char_height } else { style.map_or(0.0, |s| s.fixed_height) };
                // Absolute heights of the runs become factors of the entity's height.
                let runs = m
                    .content
                    .runs
                    .iter()
                    .map(|run| {
                        let mut run = run.clone();
                        if let Some(crate::mtext::TextHeight::Absolute(h)) = run.style.height {
                            run.style.height = (height > 0.0).then(|| crate::mtext::TextHeight::Relative(h / height));
                        }
                        run
                    })
                    .collect();
                let turned = direction.x * up.y - direction.y * up.x < 0.0;
                self.push_text(TextItem {
                    owner: ctx.owner,
                    layer: drawn,
                    ink,
                    text: m.content.plain.clone(),
                    position: [(position.x - self.origin.x) as f32, (position.y - self.origin.y) as f32],
                    height: (height * up.length()) as f32,
                    rotation: direction.y.atan2(direction.x) as f32,
                    width_factor: style.map_or(1.0, |s| s.width_factor) as f32,
                    oblique: style.map_or(0.0, |s| s.oblique) as f32,
                    halign: (attachment % 3) as u8,
                    valign: [3, 2, 1][(attachment / 3) as usize],
                    wrap_width: (m.width * direction.length()) as f32,
                    style: m.style,
                    fit_length: 0.0,
                    mirror: if turned { 4 } else { 0 },
                    mtext: true,
                    line_spacing: m.line_spacing as f32,
                    runs,
                });
                if self.shown {
                    self.bounds.include(Vec3::new(position.x, position.y, 0.0));
                }
            }
            EntityKind::Attribute(a) => {
                if !a.invisible() {
                    self.text(ctx, drawn, ink, &a.text, a.text.text.clone());
                }
            }
            EntityKind::Insert(insert) => {
                // Attributes sit in the insert's coordinates; layer 0 and BYBLOCK refer to the
                // insert, and a frozen insert hides them with its block.
                let attribute_ctx = Context {
                    layer: Some(layer),
                    block_ink: ink,
                    block_linetype: self.block_linetype(ctx, layer),
                    frozen_by: self.frozen_by(ctx, layer),
                    ..*ctx
                };
                for attribute in &insert.attributes {
                    self.entity(attribute, &attribute_ctx);
                }
                let child_ink = ink;
                let Some(block) = self.drawing.block(insert.block).filter(|b| !b.entities.is_empty()) else { return };
                let base = block.base_point;
                let (s, c) = insert.rotation.to_radians().sin_cos();
                'array: for row in 0..insert.rows {
                    for column in 0..insert.columns {
                        // Each instance counts against the budgets, so a 65535 × 65535 array of an
                        // almost empty block still ends.
                        if !self.spend_instance() {
                            break 'array;
                        }
                        self.poll();
                        let (dx, dy) = (f64::from(column) * insert.column_spacing, f64::from(row) * insert.row_spacing);
                        let offset = Vec3::new(dx * c - dy * s, dx * s + dy * c, 0.0);
                        let local = Transform::insert(
                            base,
                            insert.insert.plus(offset),
                            insert.scale,
                            insert.rotation,
                            insert.normal,
                        );
                        self.block(insert.block, ctx, local, layer, child_ink);
                    }
                }
            }
            EntityKind::Dimension(d) => match d.block {
                // The dimension's block is drawn in world coordinates.
                Some(block) if self.drawing.block(block).is_some_and(|b| b.defined && !b.entities.is_empty()) => {
                    self.block(block, ctx, Transform::IDENTITY, layer, ink)
                }
                _ => {
                    let text = d.display_text();
                    // `$DIMTXT`, else AutoCAD's metric default.
                    let height = match self.drawing.header.vars.get("$DIMTXT").and_then(|v| v.first()) {
                        Some(crate::model::HeaderValue::Real(h)) if h.is_finite() && *h > 0.0 => *h,
                        _ => 2.5,
                    };
                    let item = Text {
                        text: text.clone(),
                        insert: d.text_midpoint,
                        align_point: Some(d.text_midpoint),
                        height,
                        rotation: d.text_rotation,
                        width_factor: 1.0,
                        oblique: 0.0,
                        style: TextStyleId(0),
                        halign: 1,
                        valign: 2,
                        generation: 0,
                        normal: d.normal,
                    };
                    self.text(ctx, drawn, ink, &item, text);
                }
            },
            EntityKind::Leader(l) => self.stroke(ctx, batch, &l.vertices, false),
            EntityKind::MLeader(m) => {
                for line in &m.lines {
                    self.stroke(ctx, batch, line, false);
                }
                if let (Some(content), Some(at)) = (&m.text, m.text_location) {
                    let item = Text {
                        text: content.plain.clone(),
                        insert: at,
                        align_point: None,
                        height: m.text_height,
                        rotation: 0.0,
                        width_factor: 1.0,
                        oblique: 0.0,
                        style: TextStyleId(0),
                        halign: 0,
                        valign: 3,
                        generation: 0,
                        normal: Vec3::Z,
                    };
                    self.text(ctx, drawn, ink, &item, content.plain.clone());
                }
                if let (Some(handle), Some(at)) = (m.block_handle, m.block_location) {
                    let block =
                        self.drawing.blocks.iter().position(|b| b.block_record == handle).map(|i| BlockId(i as u32));
                    if let Some(block) = block {
                        let base = self.drawing.block(block).map(|b| b.base_point).unwrap_or_default();
                        self.block(
                            block,
                            ctx,
                            Transform::insert(base, at, Vec3::new(1.0, 1.0, 1.0), 0.0, Vec3::Z),
                            layer,
                            ink,
                        );
                    }
                }
            }
            EntityKind::Hatch(h) => self.hatch(ctx, batch, h, tol),
            EntityKind::Solid(s) => {
                let ocs = Ocs::new(s.normal);
                let [a, b, c, d] = s.corners.map(|p| ocs.to_wcs(p));
                // The corners go 1-2-4-3 around the outline.
                self.triangle(ctx, batch, [a, b, d]);
                if c != d {
                    self.triangle(ctx, batch, [a, d, c]);
                }
            }
            EntityKind::Face3d(f) => {
                let corners = f.corners;
                for i in 0..4 {
                    if f.invisible_edges & (1 << i) == 0 && corners[i] != corners[(i + 1) % 4] {
                        self.stroke(ctx, batch, &[corners[i], corners[(i + 1) % 4]], false);
                    }
                }
            }
            EntityKind::Image(image) => {
                let (u, v) = (image.u_vector, image.v_vector);
                let at = |x: f64, y: f64| image.insert.plus(u.scale(x)).plus(v.scale(y));
                // Clip polygons are in pixels from the image's lower-left corner, offset half a pixel.
                let outline: Vec<Vec3> = match image.clip.len() {
                    0 | 1 => {
                        vec![at(0.0, 0.0), at(image.size.x, 0.0), at(image.size.x, image.size.y), at(0.0, image.size.y)]
                    }
                    2 => {
                        let (p, q) = (image.clip[0], image.clip[1]);
                        vec![
                            at(p.x + 0.5, p.y + 0.5),
                            at(q.x + 0.5, p.y + 0.5),
                            at(q.x + 0.5, q.y + 0.5),
                            at(p.x + 0.5, q.y + 0.5),
                        ]
                    }
                    _ => image.clip.iter().map(|p| at(p.x + 0.5, p.y + 0.5)).collect(),
                };
                self.polyline(ctx, batch, &outline, true);
            }
            EntityKind::Viewport(v) => {
                if v.id != 1 && v.width > 0.0 && v.height > 0.0 {
                    let (hw, hh) = (v.width / 2.0, v.height / 2.0);
                    let c = v.center;
                    let frame = [
                        Vec3::new(c.x - hw, c.y - hh, 0.0),
                        Vec3::new(c.x + hw, c.y - hh, 0.0),
                        Vec3::new(c.x + hw, c.y + hh, 0.0),
                        Vec3::new(c.x - hw, c.y + hh, 0.0),
                    ];
                    self.polyline(ctx, batch, &frame, true);
                    let frozen_layers = self.viewport_frozen_layers(&v.frozen_layers);
                    self.viewports.push(ViewportFrame {
                        owner: ctx.owner,
                        center: [(c.x - self.origin.x) as f32, (c.y - self.origin.y) as f32],
                        width: v.width as f32,
                        height: v.height as f32,
                        view_center: v.view_center,
                        view_height: v.view_height,
                        twist_deg: v.twist_angle,
                        frozen_layers,
                    });
                }
            }
            EntityKind::Table(table) => {
                if let Some(block) = table.block {
                    let base = self.drawing.block(block).map(|b| b.base_point).unwrap_or_default();
                    self.block(
                        block,
                        ctx,
                        Transform::insert(base, table.insert, Vec3::new(1.0, 1.0, 1.0), 0.0, Vec3::Z),
                        layer,
                        ink,
                    );
                }
            }
            EntityKind::Ray { start, direction, infinite } => {
                self.rays.push((*ctx, drawn, ink, *start, *direction, *infinite))
            }
            EntityKind::Mesh(m) => {
                for face in &m.faces {
                    let pts: Vec<Vec3> = face.iter().filter_map(|&i| m.vertices.get(i as usize).copied()).collect();
                    self.stroke(ctx, batch, &pts, true);
                }
            }
        }
    }

    /// The linetype BYBLOCK entities inside the current insert get: the insert's own.
    fn block_linetype(&self, ctx: &Context, layer: LayerId) -> LinetypeRef {
        match self.current_linetype {
            LinetypeRef::ByLayer => self.drawing.layer(layer).map_or(LinetypeRef::ByLayer, |l| l.linetype),
            LinetypeRef::ByBlock => ctx.block_linetype,
            named => named,
        }
    }

    /// Draws a block's entities through `local` (then the context's transform).
    fn block(&mut self, id: BlockId, ctx: &Context, local: Transform, layer: LayerId, ink: Ink) {
        let Some(block) = self.drawing.block(id) else { return };
        if ctx.depth >= self.max_depth {
            self.diag.warn(
                DiagnosticCode::BlockTooDeep,
                None,
                format!("block {:?} is nested deeper than {} levels: not drawn", block.name, self.max_depth),
            );
            return;
        }
        if self.block_stack.contains(&id) {
            // Reported by the reader (BlockCycle); here it only must not recurse.
            return;
        }
        self.block_stack.push(id);
        let block_linetype = self.block_linetype(ctx, layer);
        let child = Context {
            transform: ctx.transform.then_inner(&local),
            layer: Some(layer),
            block_ink: ink,
            block_linetype,
            frozen_by: self.frozen_by(ctx, layer),
            depth: ctx.depth + 1,
            owner: ctx.owner,
        };
        for e in &block.entities {
            if self.halted() {
                break;
            }
            self.entity(e, &child);
        }
        self.block_stack.pop();
    }

    #[allow(clippy::too_many_arguments)]
    fn arc_entity(
        &mut self,
        ctx: &Context,
        batch: usize,
        center: Vec3,
        radius: f64,
        start_deg: f64,
        end_deg: f64,
        normal: Vec3,
        tol: f64,
    ) {
        let mut pts2 = std::mem::take(&mut self.flat2);
        pts2.clear();
        flatten::arc(center.xy(), radius, start_deg.to_radians(), end_deg.to_radians(), tol, &mut pts2);
        let ocs = Ocs::new(normal);
        let pts: Vec<Vec3> = pts2.iter().map(|p| ocs.to_wcs(p.extend(center.z))).collect();
        self.stroke(ctx, batch, &pts, false);
        self.flat2 = pts2;
    }

    /// A 2D polyline in its OCS: (vertex, bulge, start width, end width) per vertex.
    #[allow(clippy::too_many_arguments)]
    fn plane_polyline(
        &mut self,
        ctx: &Context,
        batch: usize,
        vertices: &[(Vec2, f64, f64, f64)],
        closed: bool,
        elevation: f64,
        normal: Vec3,
        tol: f64,
    ) {
        if vertices.is_empty() {
            return;
        }
        let ocs = Ocs::new(normal);
        let n = vertices.len();
        let segments = if closed { n } else { n - 1 };
        let mut pts = std::mem::take(&mut self.flat2);
        for i in 0..segments {
            let (a, bulge, start_width, end_width) = vertices[i];
            let b = vertices[(i + 1) % n].0;
            if bulge == 0.0 && start_width <= 0.0 && end_width <= 0.0 {
                // The common case: a straight, thin segment.
                self.stroke(ctx, batch, &[ocs.to_wcs(a.extend(elevation)), ocs.to_wcs(b.extend(elevation))], false);
                continue;
            }
            pts.clear();
            pts.push(a);
            flatten::bulge(a, b, bulge, tol, &mut pts);
            let world: Vec<Vec3> = pts.iter().map(|p| ocs.to_wcs(p.extend(elevation))).collect();
            if start_width > 0.0 || end_width > 0.0 {
                // A wide segment: a band of quads, its width interpolated along the segment.
                let last = (world.len() - 1).max(1) as f64;
                for (k, w) in world.windows(2).enumerate() {
                    let (wa, wb) = (
                        start_width + (end_width - start_width) * k as f64 / last,
                        start_width + (end_width - start_width) * (k + 1) as f64 / last,
                    );
                    let along = w[1].minus(w[0]);
                    let Some(side) = ocs.z.cross(along).normalized() else { continue };
                    let (a0, a1) = (w[0].plus(side.scale(wa / 2.0)), w[0].minus(side.scale(wa / 2.0)));
                    let (b0, b1) = (w[1].plus(side.scale(wb / 2.0)), w[1].minus(side.scale(wb / 2.0)));
                    self.triangle(ctx, batch, [a0, a1, b1]);
                    self.triangle(ctx, batch, [a0, b1, b0]);
                }
            } else {
                self.stroke(ctx, batch, &world, false);
            }
        }
        if n == 1 {
            self.point(ctx, batch, ocs.to_wcs(vertices[0].0.extend(elevation)));
        }
        self.flat2 = pts;
    }

    fn polyline_entity(&mut self, ctx: &Context, batch: usize, p: &crate::entity::Polyline, tol: f64) {
        match p.kind {
            PolylineKind::Polyline2d => {
                // A spline-fit polyline keeps its frame points (flag 16) beside the fitted ones.
                let fitted = p.vertices.iter().any(|v| v.flags & 8 != 0);
                let vertices: Vec<(Vec2, f64, f64, f64)> = p
                    .vertices
                    .iter()
                    .filter(|v| !(fitted && v.flags & 16 != 0))
                    .map(|v| (v.location.xy(), v.bulge, v.start_width, v.end_width))
                    .collect();
                self.plane_polyline(ctx, batch, &vertices, p.closed, p.elevation, p.normal, tol);
            }
            PolylineKind::Polyline3d => {
                let fitted = p.vertices.iter().any(|v| v.flags & 8 != 0);
                let pts: Vec<Vec3> =
                    p.vertices.iter().filter(|v| !(fitted && v.flags & 16 != 0)).map(|v| v.location).collect();
                self.polyline(ctx, batch, &pts, p.closed);
            }
            PolylineKind::PolygonMesh { m, n, closed_m, closed_n } => {
                let (m, n) = (m as usize, n as usize);
                let at = |i: usize, j: usize| p.vertices.get(i * n + j).map(|v| v.location);
                for i in 0..m {
                    let row: Vec<Vec3> = (0..n).filter_map(|j| at(i, j)).collect();
                    self.stroke(ctx, batch, &row, closed_n);
                }
                for j in 0..n {
                    let column: Vec<Vec3> = (0..m).filter_map(|i| at(i, j)).collect();
                    self.stroke(ctx, batch, &column, closed_m);
                }
            }
            PolylineKind::PolyfaceMesh => {
                for face in &p.faces {
                    let corners: Vec<i32> = face.iter().copied().filter(|&i| i != 0).collect();
                    for k in 0..corners.len() {
                        let (i, j) = (corners[k], corners[(k + 1) % corners.len()]);
                        // A negative index hides the edge that starts at it.
                        if i < 0 || corners.len() < 2 {
                            continue;
                        }
                        let get = |idx: i32| p.vertices.get(idx.unsigned_abs() as usize - 1).map(|v| v.location);
                        if let (Some(a), Some(b)) = (get(i), get(j)) {
                            self.stroke(ctx, batch, &[a, b], false);
                        }
                    }
                }
            }
        }
    }

    fn hatch(&mut self, ctx: &Context, batch: usize, h: &Hatch, tol: f64) {
        let ocs = Ocs::new(h.normal);
        let mut loops: Vec<Vec<Vec2>> = Vec::new();
        let ignore_islands = h.style == 2;
        for path in &h.paths {
            if ignore_islands && path.flags & (1 | 16) == 0 && h.paths.iter().any(|p| p.flags & (1 | 16) != 0) {
                continue;
            }
            let mut pts: Vec<Vec2> = Vec::new();
            match &path.edges {
                BoundaryEdges::Polyline { vertices, bulges, .. } => {
                    for (i, v) in vertices.iter().enumerate() {
                        if i == 0 {
                            pts.push(*v);
                        }
                        let next = vertices[(i + 1) % vertices.len()];
                        flatten::bulge(*v, next, bulges.get(i).copied().unwrap_or(0.0), tol, &mut pts);
                    }
                }
                BoundaryEdges::Edges(edges) => {
                    for edge in edges {
                        match edge {
                            HatchEdge::Line { start, end } => pts.extend([*start, *end]),
                            HatchEdge::Arc { center, radius, start_angle, end_angle, counter_clockwise } => {
                                let (s, e) = (start_angle.to_radians(), end_angle.to_radians());
                                let mut arc = Vec::new();
                                if *counter_clockwise {
                                    flatten::arc(*center, *radius, s, e, tol, &mut arc);
                                } else {
                                    // Clockwise edges store their angles mirrored: the arc runs
                                    // from -start to -end, clockwise.
                                    flatten::arc(*center, *radius, -e, -s, tol, &mut arc);
                                    arc.reverse();
                                }
                                pts.extend(arc);
                            }
                            HatchEdge::Ellipse {
                                center,
                                major_axis,
                                ratio,
                                start_angle,
                                end_angle,
                                counter_clockwise,
                            } => {
                                // Hatch ellipse edges give geometric angles, not parameters.
                                let param = |deg: f64| {
                                    let a = deg.to_radians();
                                    (a.sin() / ratio.abs().max(1e-12)).atan2(a.cos())
                                };
                                let (s, e) = (param(*start_angle), param(*end_angle));
                                let mut arc = Vec::new();
                                let (start, end) = if *counter_clockwise { (s, e) } else { (-e, -s) };
                                let edge = crate::entity::Ellipse {
                                    center: center.extend(0.0),
                                    major_axis: major_axis.extend(0.0),
                                    ratio: *ratio,
                                    start,
                                    end,
                                    normal: Vec3::Z,
                                };
                                flatten::ellipse(&edge, tol, &mut arc);
                                if !*counter_clockwise {
                                    arc.reverse();
                                }
                                pts.extend(arc.iter().map(|p| p.xy()));
                            }
                            HatchEdge::Spline(s) => {
                                let mut curve = Vec::new();
                                flatten::spline(s, tol, &mut curve);
                                pts.extend(curve.iter().map(|p| p.xy()));
                            }
                        }
                    }
                }
            }
            pts.dedup();
            if pts.len() >= 2 {
                loops.push(pts);
            }
        }
        if loops.is_empty() {
            return;
        }
        let to_world = |p: Vec2| ocs.to_wcs(p.extend(h.elevation));
        let budget = self.options.max_vertices.saturating_sub(self.vertices) / 3;
        let mut solid = h.solid || h.gradient.is_some();
        let mut dense = false;
        let mut library_lines = Vec::new();
        if !solid && h.pattern_lines.is_empty() {
            // A named pattern without its lines: from the bundled library, else ANSI31.
            let imperial = self.drawing.header.measurement == Some(0);
            let pattern = patterns::find(&h.pattern_name).or_else(|| {
                self.diag.warn(
                    DiagnosticCode::UnknownHatchPattern,
                    None,
                    format!(
                        "hatch pattern {:?} is neither in the file nor in the bundled library: drawn as {}",
                        h.pattern_name,
                        patterns::FALLBACK
                    ),
                );
                patterns::find(patterns::FALLBACK)
            });
            match pattern {
                Some(p) if p.name == "SOLID" => solid = true,
                Some(p) => {
                    library_lines = patterns::lines(p, h.pattern_scale, h.pattern_angle, h.pattern_double, imperial)
                }
                None => {}
            }
        }
        let pattern_lines = if library_lines.is_empty() { &h.pattern_lines } else { &library_lines };
        if !solid {
            let mut segments = Vec::new();
            for line in pattern_lines {
                match fill::pattern(&loops, line, 20_000, &mut segments) {
                    Ok(()) => {}
                    Err(fill::PatternProblem::TooDense) => dense = true,
                    Err(fill::PatternProblem::Degenerate) => {}
                }
                if segments.len() > budget {
                    break;
                }
            }
            if dense {
                self.diag.info(
                    DiagnosticCode::InvalidGeometry,
                    None,
                    format!("hatch pattern {:?} is too dense to draw line by line: filled solid", h.pattern_name),
                );
            } else {
                for (a, b) in segments {
                    if a == b {
                        self.point(ctx, batch, to_world(a));
                    } else {
                        self.segment(ctx, batch, to_world(a), to_world(b));
                    }
                }
                return;
            }
        }
        let mut triangles = Vec::new();
        if !fill::solid(&loops, budget, &mut triangles) {
            self.truncated = true;
        }
        for [a, b, c] in triangles {
            self.triangle(ctx, batch, [to_world(a), to_world(b), to_world(c)]);
        }
    }

    /// TEXT, ATTRIB and ATTDEF: placed at their alignment point, sized and turned by the context.
    fn text(&mut self, ctx: &Context, layer: LayerId, ink: Ink, t: &Text, text: String) {
        if text.is_empty() {
            return;
        }
        let ocs = Ocs::new(t.normal);
        let world = |p: Vec3| ctx.transform.apply(ocs.to_wcs(p));
        let fitted = matches!(t.halign, 3 | 5) && t.align_point.is_some_and(|p| p != t.insert);
        let anchor =
            if (t.halign, t.valign) == (0, 0) || fitted { t.insert } else { t.align_point.unwrap_or(t.insert) };
        let position = world(anchor);
        let (s, c) = t.rotation.to_radians().sin_cos();
        let origin = world(Vec3::ZERO);
        let mut direction = world(Vec3::new(c, s, 0.0)).minus(origin);
        let up = world(Vec3::new(-s, c, 0.0)).minus(origin);
        let mut fit_length = 0.0;
        if fitted && let Some(end) = t.align_point {
            // Aligned and fit texts run from the first point to the second, at their angle; a
            // backwards one is turned half round, so that mirrored it still runs to the second.
            let span = world(end).minus(position);
            fit_length = span.length();
            direction = if t.generation & 2 != 0 { span.scale(-1.0) } else { span };
        }
        let (halign, valign) = match t.halign {
            3 | 5 if fitted => (t.halign as u8, 0),
            3 | 5 => (1, 0),
            4 => (1, 2), // middle
            h => (h.clamp(0, 2) as u8, t.valign.clamp(0, 3) as u8),
        };
        // A mirroring insert turns the text over: upside down along its mirrored direction.
        let (d, u) = (direction.normalized().unwrap_or(Vec3::new(1.0, 0.0, 0.0)), up);
        let turned = d.x * u.y - d.y * u.x < 0.0;
        let mirror = (t.generation & 6) as u8 ^ if turned { 4 } else { 0 };
        let scale = up.length();
        let height =
            if t.height > 0.0 { t.height } else { self.drawing.text_style(t.style).map_or(0.0, |s| s.fixed_height) };
        let width_factor = t.width_factor * direction.length().max(1e-300) / scale.max(1e-300);
        if self.shown {
            self.bounds.include(Vec3::new(position.x, position.y, 0.0));
        }
        self.push_text(TextItem {
            owner: ctx.owner,
            layer,
            ink,
            text,
            position: [(position.x - self.origin.x) as f32, (position.y - self.origin.y) as f32],
            height: (height * scale) as f32,
            rotation: direction.y.atan2(direction.x) as f32,
            width_factor: if fitted { t.width_factor as f32 } else { width_factor as f32 },
            oblique: t.oblique as f32,
            halign,
            valign,
            wrap_width: 0.0,
            style: t.style,
            fit_length: fit_length as f32,
            mirror,
            mtext: false,
            line_spacing: 1.0,
            runs: Vec::new(),
        });
    }

    /// A text costs what it holds, in vertices' worth of memory (8 bytes each): its record, its
    /// characters and its styled runs. So an array of a block with a long text ends at the budget
    /// like one of lines does, instead of allocating a copy of the text per instance at will.
    fn push_text(&mut self, item: TextItem) {
        const RECORD: usize = std::mem::size_of::<TextItem>().div_ceil(8);
        const RUN: usize = 8;
        let cost = RECORD + item.text.len().div_ceil(8) + item.runs.len() * RUN;
        if self.spend(cost) {
            self.scene_texts.push(item);
        }
    }

    /// RAY and XLINE, clipped to the drawing's bounds (grown by a tenth) once those are known.
    fn draw_rays(&mut self) {
        if self.bounds.is_empty() || self.rays.is_empty() {
            return;
        }
        let b = self.bounds;
        let span = (b.max.x - b.min.x).max(b.max.y - b.min.y).max(1.0);
        let reach = span * 1.2;
        for (ctx, layer, ink, start, direction, infinite) in std::mem::take(&mut self.rays) {
            let Some(dir) = direction.normalized() else { continue };
            let batch = self.batch(layer, ink);
            // Measured from the bounds' centre so a ray starting far away still crosses the view.
            let centre = Vec3::new((b.min.x + b.max.x) / 2.0, (b.min.y + b.max.y) / 2.0, 0.0);
            let along = centre.minus(start).dot(dir);
            let far = start.plus(dir.scale(along + reach));
            let near = if infinite { start.plus(dir.scale(along - reach)) } else { start };
            let saved = self.bounds;
            self.segment(&ctx, batch, near, far);
            self.bounds = saved; // infinite lines do not grow the drawing
        }
    }
}

#[cfg(test)]
mod tests;
