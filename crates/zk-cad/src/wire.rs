//! The viewer's scene format: one tessellated layout as a single binary document that a browser
//! maps straight onto WebGL buffers, with no per-vertex parsing.
//!
//! ```text
//! bytes 0..8      magic "ZKSCENE1"
//! bytes 8..12     u32: length H of the header
//! bytes 12..12+H  the header, JSON (UTF-8): SceneHeader
//! then            zero bytes up to the next multiple of 8: the payload starts there
//! payload         arrays referenced by the header as { offset, count }: offset in bytes from the
//!                 payload's start (always a multiple of 4), count in elements
//! ```
//!
//! Every number in the payload is little-endian. Element types follow from the field:
//!
//! | header field | element | layout |
//! |---|---|---|
//! | `batches[].lines` | segment | 4 × f32: x0, y0, x1, y1 |
//! | `batches[].triangles` | triangle | 6 × f32: three corners |
//! | `batches[].points` | point | 2 × f32 |
//! | `…Owners` | u32 | the top-level entity (index in the layout) of each primitive |
//! | `glyphs.vertices` | corner | 2 × f32, em units, three corners a triangle |
//! | `glyphs.instances` | instance | 6 × f32 transform `a b c d tx ty`, u32 layer, u32 ink |
//! | `glyphs.instanceOwners` | u32 | the owner of each instance's text |
//! | `texts` | byte | JSON: `SceneText[]`, read when the viewer needs it (search, picking) |
//!
//! `viewports[].frozenLayers` and `shortfall` came within version 1 (a scene without them freezes
//! no layer in its viewports and reports no budget), so a viewer of either age reads a scene of
//! either age.
//!
//! Coordinates are relative to `origin` (drawing units); `x' = a·x + c·y + tx`,
//! `y' = b·x + d·y + ty` places a glyph's em-unit corner in the scene. Inks are `null` in JSON and
//! [`INK_FOREGROUND`] in the payload for "the foreground" (ACI 7: black on a light background,
//! white on a dark one), else `0xRRGGBB`. Instances come sorted by mesh, and `glyphs.runs` lists
//! the instances of each mesh, so a viewer draws each glyph with one instanced call.

use serde::Serialize;

use crate::color::{Color, blends_with_background};
use crate::model::{Drawing, Layout, LinetypeRef, units_name};
use crate::tessellate::{GlyphInstance, Ink, Scene};

/// The first eight bytes of every scene.
pub const MAGIC: &[u8; 8] = b"ZKSCENE1";
/// The header's `version`; a viewer refuses a version it does not know.
pub const FORMAT_VERSION: u32 = 1;
/// What the tessellator draws for the same drawing, counted apart from the format: raised whenever a
/// change draws the same bytes differently (layer state, colours against the background: 2; the
/// block-instance budget and the header's shortfall: 3), so a scene a browser cached under an older
/// revision is sent again instead of confirmed.
pub const SCENE_REVISION: u32 = 3;
/// The payload's ink for "the foreground colour".
pub const INK_FOREGROUND: u32 = 0xFFFF_FFFF;

/// Where an array lies in the payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Slice {
    /// Bytes from the start of the payload.
    pub offset: u32,
    /// Elements (segments, triangles, points, owners, corners, instances, bytes).
    pub count: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SceneHeader {
    pub version: u32,
    /// The layout's name (`Model` for model space).
    pub layout: String,
    pub paper_space: bool,
    /// Drawing coordinates of the scene's (0, 0).
    pub origin: [f64; 2],
    /// What was drawn, in drawing coordinates: min x, min y, max x, max y.
    pub bounds: Option<[f64; 4]>,
    /// `$INSUNITS` by name (`millimeters`…), when the file says.
    pub units: Option<String>,
    /// The flattening tolerance used, in drawing units.
    pub tolerance: f64,
    /// A budget ran out: part of the layout is missing.
    pub truncated: bool,
    /// When `truncated`: how many block instances were drawn of how many the layout holds, and
    /// the budget's message ("N of M instances drawn: over the budget…"). Added within version 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub shortfall: Option<SceneShortfall>,
    /// Owners are `0 .. entityCount`.
    pub entity_count: u32,
    pub layers: Vec<SceneLayer>,
    pub batches: Vec<SceneBatch>,
    pub glyphs: SceneGlyphs,
    /// JSON bytes of `SceneText[]`.
    pub texts: Slice,
    pub viewports: Vec<SceneViewport>,
}

/// What a scene cut short by a budget drew.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SceneShortfall {
    /// Block instances drawn (inserts, every cell of an array, nested ones included).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub instances_drawn: u64,
    /// Block instances the layout holds, counted without drawing them (at most `u64::MAX`; a
    /// JSON number, exact below 2^53).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub instances_total: u64,
    /// The diagnostic's message, in English.
    pub message: String,
}

/// A layer of the drawing, indexed as batches and instances refer to it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SceneLayer {
    pub name: String,
    /// `0xRRGGBB`, or `null` for the foreground colour (ACI 7, or a colour that blends with a
    /// background, which is drawn as ACI 7).
    pub color: Option<u32>,
    /// The layer's ACI number when its colour is one (for the swatch's tooltip).
    pub aci: Option<u8>,
    /// Off or frozen layers are hidden when the viewer opens the scene: what an INSERT on a
    /// frozen layer holds is put on that layer, so it hides with it.
    pub on: bool,
    pub frozen: bool,
    pub locked: bool,
    pub linetype: Option<String>,
    /// Hundredths of a millimetre; negative for BYLAYER (-1), BYBLOCK (-2), default (-3).
    pub lineweight: i16,
}

/// One draw call's worth of primitives: one layer, one ink.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SceneBatch {
    pub layer: u32,
    /// `0xRRGGBB`, or `null` for the foreground colour.
    pub ink: Option<u32>,
    pub lines: Slice,
    pub line_owners: Slice,
    pub triangles: Slice,
    pub triangle_owners: Slice,
    pub points: Slice,
    pub point_owners: Slice,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SceneGlyphs {
    pub vertices: Slice,
    /// Each mesh's corners: `first .. first + count` of `vertices`.
    pub meshes: Vec<GlyphRange>,
    pub instances: Slice,
    pub instance_owners: Slice,
    /// The instances of each mesh: `first .. first + count` of `instances`.
    pub runs: Vec<GlyphRun>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GlyphRange {
    pub first: u32,
    pub count: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GlyphRun {
    pub mesh: u32,
    pub first: u32,
    pub count: u32,
}

/// A text of the layout, for search and picking (the `texts` JSON of the payload).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SceneText {
    pub owner: u32,
    pub layer: u32,
    pub text: String,
    /// The anchor, scene coordinates.
    pub position: [f32; 2],
    pub height: f32,
    /// Radians, counter-clockwise.
    pub rotation: f32,
    /// What its glyphs cover (scene coordinates: min x, min y, max x, max y); `null` when it has
    /// no glyphs (an empty or unsupported text).
    pub bounds: Option<[f32; 4]>,
}

/// A paper-space viewport: its frame on the sheet (scene coordinates) and the model-space view it
/// shows (drawing coordinates).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SceneViewport {
    pub owner: u32,
    pub center: [f32; 2],
    pub width: f32,
    pub height: f32,
    pub view_center: [f64; 2],
    pub view_height: f64,
    pub twist_deg: f64,
    /// Layers (indices into `layers`) frozen in this viewport only: the model space it shows
    /// leaves them out. Added within version 1: a scene without it freezes none.
    pub frozen_layers: Vec<u32>,
}

/// Encodes a tessellated layout of `drawing` as a scene document.
///
/// The payload's layout follows from the sizes of the scene's buffers alone, so it is planned
/// first (offsets for the header), and then the header and the payload are written once into a
/// buffer of the exact size: no second copy of a scene that can run to hundreds of megabytes.
pub fn encode_scene(drawing: &Drawing, layout: &Layout, scene: &Scene, entity_count: u32) -> Vec<u8> {
    let plan = GlyphPlan::new(scene);
    let texts: Vec<SceneText> = scene
        .texts
        .iter()
        .zip(&plan.text_bounds)
        .map(|(t, bounds)| SceneText {
            owner: t.owner,
            layer: t.layer.0,
            text: t.text.clone(),
            position: t.position,
            height: t.height,
            rotation: t.rotation,
            bounds: *bounds,
        })
        .collect();
    // Serialising plain structs of strings and finite-or-null numbers cannot fail; an empty
    // list is the safe answer if it ever did.
    let texts_json = serde_json::to_vec(&texts).unwrap_or_else(|_| b"[]".to_vec());
    drop(texts);

    let mut measure = Payload { out: None, len: 0 };
    let sections = write_sections(scene, &plan, &texts_json, &mut measure);
    let header = SceneHeader {
        version: FORMAT_VERSION,
        layout: layout.name.clone(),
        paper_space: !layout.is_model(),
        origin: [scene.origin.x, scene.origin.y],
        bounds: scene.bounds.map(|b| [b.min.x, b.min.y, b.max.x, b.max.y]),
        units: drawing.header.insunits.filter(|&u| u > 0).map(|u| units_name(u).to_owned()),
        tolerance: scene.tolerance,
        truncated: scene.truncated,
        shortfall: scene.shortfall.map(|s| SceneShortfall {
            instances_drawn: s.instances_drawn,
            instances_total: s.instances_total,
            message: s.message(),
        }),
        entity_count,
        layers: drawing.layers.iter().map(|l| scene_layer(drawing, l)).collect(),
        batches: sections.batches,
        glyphs: sections.glyphs,
        texts: sections.texts,
        viewports: scene
            .viewports
            .iter()
            .map(|v| SceneViewport {
                owner: v.owner,
                center: v.center,
                width: v.width,
                height: v.height,
                view_center: [v.view_center.x, v.view_center.y],
                view_height: v.view_height,
                twist_deg: v.twist_deg,
                frozen_layers: v.frozen_layers.iter().map(|l| l.0).collect(),
            })
            .collect(),
    };
    let header = serde_json::to_vec(&header).unwrap_or_else(|_| b"{}".to_vec());
    let payload_start = (12 + header.len()).next_multiple_of(8);
    let mut out = Vec::with_capacity(payload_start + measure.len);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    out.resize(payload_start, 0);
    let mut writer = Payload { out: Some(&mut out), len: 0 };
    // The same calls as the measuring pass, so every offset in the header holds.
    write_sections(scene, &plan, &texts_json, &mut writer);
    out
}

/// The header's references to what [`write_sections`] wrote.
struct Sections {
    batches: Vec<SceneBatch>,
    glyphs: SceneGlyphs,
    texts: Slice,
}

/// Writes (or, with a measuring [`Payload`], only places) every array of the payload.
fn write_sections(scene: &Scene, plan: &GlyphPlan<'_>, texts_json: &[u8], payload: &mut Payload<'_>) -> Sections {
    let batches = scene
        .batches
        .iter()
        .map(|b| SceneBatch {
            layer: b.layer.0,
            ink: ink_json(b.ink),
            lines: payload.f32s(&b.lines, 4),
            line_owners: payload.u32s(&b.line_owners),
            triangles: payload.f32s(&b.triangles, 6),
            triangle_owners: payload.u32s(&b.triangle_owners),
            points: payload.f32s(&b.points, 2),
            point_owners: payload.u32s(&b.point_owners),
        })
        .collect();
    let set = &scene.glyphs;
    let vertices = payload.f32s(&set.vertices, 2);
    let instances = payload.instances(scene, &plan.order);
    let instance_owners = payload.u32s_from(plan.order.iter().map(|i| scene.texts[i.text as usize].owner));
    let glyphs = SceneGlyphs {
        vertices,
        meshes: set.meshes.iter().map(|m| GlyphRange { first: m.first, count: m.count }).collect(),
        instances,
        instance_owners,
        runs: plan.runs.clone(),
    };
    let texts = payload.bytes(texts_json);
    Sections { batches, glyphs, texts }
}

fn ink_json(ink: Ink) -> Option<u32> {
    match ink {
        Ink::Foreground => None,
        Ink::Rgb(rgb) => Some(rgb & 0xFF_FFFF),
    }
}

fn ink_word(ink: Ink) -> u32 {
    ink_json(ink).unwrap_or(INK_FOREGROUND)
}

fn scene_layer(drawing: &Drawing, layer: &crate::model::Layer) -> SceneLayer {
    // A colour drawn as the foreground (ACI 7, or one that blends with a background) is null.
    let (color, aci) = match layer.color {
        Color::Aci(7) => (None, Some(7)),
        Color::Aci(i) => (Color::Aci(i).rgb().filter(|&rgb| !blends_with_background(rgb)), Some(i)),
        other => (other.rgb().filter(|&rgb| !blends_with_background(rgb)), None),
    };
    let linetype = match layer.linetype {
        LinetypeRef::Named(id) => drawing.linetype(id).map(|l| l.name.clone()),
        LinetypeRef::ByLayer | LinetypeRef::ByBlock => None,
    };
    SceneLayer {
        name: layer.name.clone(),
        color,
        aci,
        on: layer.on,
        frozen: layer.frozen,
        locked: layer.locked,
        linetype,
        lineweight: layer.lineweight,
    }
}

/// The glyph instances in the order they are written (sorted by mesh, those referring to a mesh
/// or text that does not exist left out), their runs, and the bounds each text's glyphs cover.
struct GlyphPlan<'s> {
    order: Vec<&'s GlyphInstance>,
    runs: Vec<GlyphRun>,
    text_bounds: Vec<Option<[f32; 4]>>,
}

impl<'s> GlyphPlan<'s> {
    fn new(scene: &'s Scene) -> Self {
        let set = &scene.glyphs;
        let mesh_bounds: Vec<Option<[f32; 4]>> = set.meshes.iter().map(|m| set.mesh_bounds(m)).collect();
        let mut order: Vec<&GlyphInstance> = set
            .instances
            .iter()
            .filter(|i| (i.mesh as usize) < set.meshes.len() && (i.text as usize) < scene.texts.len())
            .collect();
        order.sort_by_key(|i| i.mesh);
        let mut text_bounds: Vec<Option<[f32; 4]>> = vec![None; scene.texts.len()];
        let mut runs: Vec<GlyphRun> = Vec::new();
        for (index, instance) in order.iter().enumerate() {
            match runs.last_mut() {
                Some(run) if run.mesh == instance.mesh => run.count += 1,
                _ => runs.push(GlyphRun { mesh: instance.mesh, first: index as u32, count: 1 }),
            }
            if let Some(b) = mesh_bounds[instance.mesh as usize] {
                let placed = transformed_bounds(&instance.transform, b);
                let slot = &mut text_bounds[instance.text as usize];
                *slot = Some(match *slot {
                    None => placed,
                    Some(s) => [s[0].min(placed[0]), s[1].min(placed[1]), s[2].max(placed[2]), s[3].max(placed[3])],
                });
            }
        }
        GlyphPlan { order, runs, text_bounds }
    }
}

fn transformed_bounds(t: &[f32; 6], b: [f32; 4]) -> [f32; 4] {
    let [a, bb, c, d, tx, ty] = *t;
    let mut out = [f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY];
    for (x, y) in [(b[0], b[1]), (b[2], b[1]), (b[2], b[3]), (b[0], b[3])] {
        let (px, py) = (a * x + c * y + tx, bb * x + d * y + ty);
        out = [out[0].min(px), out[1].min(py), out[2].max(px), out[3].max(py)];
    }
    out
}

/// The payload: measured (no output, only the length grows) or written into `out`. Every array
/// starts on a 4-byte boundary.
struct Payload<'o> {
    out: Option<&'o mut Vec<u8>>,
    /// Bytes of payload so far.
    len: usize,
}

impl Payload<'_> {
    /// Pads to the next array's start and returns its offset.
    fn start(&mut self) -> u32 {
        let aligned = self.len.next_multiple_of(4);
        if let Some(out) = self.out.as_deref_mut() {
            out.resize(out.len() + (aligned - self.len), 0);
        }
        self.len = aligned;
        aligned as u32
    }

    fn words(&mut self, words: impl ExactSizeIterator<Item = [u8; 4]>) {
        self.len += words.len() * 4;
        if let Some(out) = self.out.as_deref_mut() {
            for word in words {
                out.extend_from_slice(&word);
            }
        }
    }

    /// `values` in groups of `per_element` f32s.
    fn f32s(&mut self, values: &[f32], per_element: usize) -> Slice {
        let offset = self.start();
        self.words(values.iter().map(|v| v.to_le_bytes()));
        Slice { offset, count: (values.len() / per_element) as u32 }
    }

    fn u32s(&mut self, values: &[u32]) -> Slice {
        self.u32s_from(values.iter().copied())
    }

    fn u32s_from(&mut self, values: impl ExactSizeIterator<Item = u32>) -> Slice {
        let offset = self.start();
        let count = values.len() as u32;
        self.words(values.map(u32::to_le_bytes));
        Slice { offset, count }
    }

    /// Instance records: the transform, then the text's layer and the instance's ink.
    fn instances(&mut self, scene: &Scene, order: &[&GlyphInstance]) -> Slice {
        let offset = self.start();
        self.len += order.len() * 32;
        if let Some(out) = self.out.as_deref_mut() {
            for instance in order {
                for value in instance.transform {
                    out.extend_from_slice(&value.to_le_bytes());
                }
                out.extend_from_slice(&scene.texts[instance.text as usize].layer.0.to_le_bytes());
                out.extend_from_slice(&ink_word(instance.ink).to_le_bytes());
            }
        }
        Slice { offset, count: order.len() as u32 }
    }

    fn bytes(&mut self, data: &[u8]) -> Slice {
        let offset = self.start();
        self.len += data.len();
        if let Some(out) = self.out.as_deref_mut() {
            out.extend_from_slice(data);
        }
        Slice { offset, count: data.len() as u32 }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::tessellate::{GlyphMesh, GlyphSet, GlyphSource, TessellateOptions, tessellate};
    use crate::{ReadOptions, read};

    /// Splits a scene document into its header (as JSON) and payload, checking the framing.
    fn split(doc: &[u8]) -> (serde_json::Value, &[u8]) {
        assert_eq!(&doc[..8], MAGIC, "a scene starts with the magic");
        let len = u32::from_le_bytes(doc[8..12].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&doc[12..12 + len]).unwrap();
        let start = (12 + len).next_multiple_of(8);
        let texts_end = header["texts"]["offset"].as_u64().unwrap() + header["texts"]["count"].as_u64().unwrap();
        assert_eq!(doc.len() - start, texts_end as usize, "the texts come last and the planned size was written");
        (header, &doc[start..])
    }

    fn f32_at(payload: &[u8], slice: &serde_json::Value, index: usize) -> f32 {
        let offset = slice["offset"].as_u64().unwrap() as usize + index * 4;
        assert_eq!(offset % 4, 0, "arrays are 4-byte aligned so a browser can view them in place");
        f32::from_le_bytes(payload[offset..offset + 4].try_into().unwrap())
    }

    fn u32_at(payload: &[u8], slice: &serde_json::Value, index: usize) -> u32 {
        let offset = slice["offset"].as_u64().unwrap() as usize + index * 4;
        u32::from_le_bytes(payload[offset..offset + 4].try_into().unwrap())
    }

    const DXF: &str = "0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nLAYER\n0\nLAYER\n2\nWalls\n70\n0\n62\n1\n6\nCONTINUOUS\n\
0\nLAYER\n2\nNotes\n70\n0\n62\n-7\n6\nCONTINUOUS\n0\nENDTAB\n0\nENDSEC\n\
0\nSECTION\n2\nENTITIES\n0\nLINE\n8\nWalls\n10\n0\n20\n0\n11\n100\n21\n50\n\
0\nTEXT\n8\nNotes\n10\n10\n20\n10\n40\n5\n1\nAB\n0\nENDSEC\n0\nEOF\n";

    #[test]
    fn a_scene_cut_short_carries_its_shortfall_and_a_whole_one_none() {
        let (drawing, _) = read(DXF.as_bytes(), &ReadOptions::default()).unwrap();
        let layout = drawing.layouts.iter().find(|l| l.is_model()).cloned().unwrap_or_default();
        let (scene, _) = tessellate(&drawing, &layout, &TessellateOptions::default()).unwrap();
        let (header, _) = split(&encode_scene(&drawing, &layout, &scene, 2));
        assert!(header.get("shortfall").is_none(), "no shortfall field on a whole scene: {header}");

        let bomb = "0\nSECTION\n2\nBLOCKS\n0\nBLOCK\n2\nB\n0\nLINE\n11\n1\n0\nENDBLK\n0\nENDSEC\n\
0\nSECTION\n2\nENTITIES\n0\nINSERT\n2\nB\n70\n1000\n71\n1000\n0\nENDSEC\n0\nEOF\n";
        let (drawing, _) = read(bomb.as_bytes(), &ReadOptions::default()).unwrap();
        let layout = drawing.layouts.iter().find(|l| l.is_model()).cloned().unwrap_or_default();
        let options = TessellateOptions { max_instances: 100, ..TessellateOptions::default() };
        let (scene, _) = tessellate(&drawing, &layout, &options).unwrap();
        let (header, _) = split(&encode_scene(&drawing, &layout, &scene, 1));
        assert_eq!(header["truncated"], true);
        assert_eq!(header["shortfall"]["instancesDrawn"], 100);
        assert_eq!(header["shortfall"]["instancesTotal"], 1_000_000);
        let message = header["shortfall"]["message"].as_str().unwrap();
        assert!(message.starts_with("100 of 1000000 instances drawn: over the budget"), "{message}");
    }

    #[test]
    fn a_line_and_its_layers_round_trip_through_the_payload() {
        let (drawing, _) = read(DXF.as_bytes(), &ReadOptions::default()).unwrap();
        let layout = drawing.layouts.iter().find(|l| l.is_model()).cloned().unwrap_or_default();
        let (scene, _) = tessellate(&drawing, &layout, &TessellateOptions::default()).unwrap();
        let doc = encode_scene(&drawing, &layout, &scene, 2);
        let (header, payload) = split(&doc);

        assert_eq!(header["version"], 1);
        assert_eq!(header["entityCount"], 2);
        let walls = header["layers"].as_array().unwrap().iter().position(|l| l["name"] == "Walls").unwrap();
        assert_eq!(header["layers"][walls]["color"], 0xFF0000, "ACI 1 is red");
        let notes = header["layers"].as_array().unwrap().iter().find(|l| l["name"] == "Notes").unwrap();
        assert_eq!(notes["color"], serde_json::Value::Null, "ACI 7 is the foreground");
        assert_eq!(notes["on"], false, "a negative colour turns the layer off");

        let batch = header["batches"].as_array().unwrap().iter().find(|b| b["layer"] == walls).unwrap();
        assert_eq!(batch["ink"], 0xFF0000);
        assert_eq!(batch["lines"]["count"], 1);
        let origin = [header["origin"][0].as_f64().unwrap(), header["origin"][1].as_f64().unwrap()];
        let x1 = f64::from(f32_at(payload, &batch["lines"], 2)) + origin[0];
        let y1 = f64::from(f32_at(payload, &batch["lines"], 3)) + origin[1];
        assert!((x1 - 100.0).abs() < 1e-3 && (y1 - 50.0).abs() < 1e-3, "the segment ends at (100, 50): {x1}, {y1}");
        assert_eq!(u32_at(payload, &batch["lineOwners"], 0), 0, "the line is the layout's first entity");

        let texts = &header["texts"];
        let start = texts["offset"].as_u64().unwrap() as usize;
        let json: serde_json::Value =
            serde_json::from_slice(&payload[start..start + texts["count"].as_u64().unwrap() as usize]).unwrap();
        assert_eq!(json[0]["text"], "AB");
        assert_eq!(json[0]["owner"], 1);
    }

    #[test]
    fn viewports_carry_the_layers_they_freeze() {
        let dxf = "0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nLAYER\n0\nLAYER\n2\nWalls\n5\n2A\n62\n1\n\
0\nLAYER\n2\nNotes\n5\n2B\n62\n2\n0\nENDTAB\n0\nENDSEC\n0\nSECTION\n2\nENTITIES\n\
0\nVIEWPORT\n67\n1\n10\n100\n20\n50\n40\n80\n41\n60\n69\n2\n45\n10\n341\n2B\n0\nENDSEC\n0\nEOF\n";
        let (drawing, _) = read(dxf.as_bytes(), &ReadOptions::default()).unwrap();
        let paper = drawing.layouts.iter().find(|l| !l.is_model()).cloned().unwrap();
        let (scene, _) = tessellate(&drawing, &paper, &TessellateOptions::default()).unwrap();
        let (header, _) = split(&encode_scene(&drawing, &paper, &scene, 1));
        let notes = header["layers"].as_array().unwrap().iter().position(|l| l["name"] == "Notes").unwrap();
        assert_eq!(header["viewports"][0]["frozenLayers"], serde_json::json!([notes]), "Notes, by its index");
        assert_eq!(header["layers"][notes]["frozen"], false, "frozen in the viewport only");
    }

    #[test]
    fn glyph_instances_are_grouped_by_mesh_and_bound_their_text() {
        let (drawing, _) = read(DXF.as_bytes(), &ReadOptions::default()).unwrap();
        let layout = drawing.layouts.iter().find(|l| l.is_model()).cloned().unwrap_or_default();
        let (mut scene, _) = tessellate(&drawing, &layout, &TessellateOptions::default()).unwrap();
        // Two meshes: a unit triangle and a unit square (two triangles).
        scene.glyphs = GlyphSet {
            vertices: vec![0., 0., 1., 0., 0., 1., 0., 0., 1., 0., 1., 1., 0., 0., 1., 1., 0., 1.],
            meshes: vec![
                GlyphMesh { first: 0, count: 3, source: GlyphSource::Rule },
                GlyphMesh { first: 3, count: 6, source: GlyphSource::Rule },
            ],
            instances: vec![
                GlyphInstance { mesh: 1, text: 0, ink: Ink::Foreground, transform: [5., 0., 0., 5., 10., 0.] },
                GlyphInstance { mesh: 0, text: 0, ink: Ink::Foreground, transform: [5., 0., 0., 5., 0., 0.] },
                GlyphInstance { mesh: 1, text: 0, ink: Ink::Foreground, transform: [5., 0., 0., 5., 20., 0.] },
                GlyphInstance { mesh: 7, text: 0, ink: Ink::Foreground, transform: [1., 0., 0., 1., 0., 0.] },
            ],
        };
        let doc = encode_scene(&drawing, &layout, &scene, 2);
        let (header, payload) = split(&doc);
        let glyphs = &header["glyphs"];
        assert_eq!(glyphs["instances"]["count"], 3, "an instance of a mesh that does not exist is dropped");
        assert_eq!(glyphs["runs"], serde_json::json!([{"mesh":0,"first":0,"count":1},{"mesh":1,"first":1,"count":2}]));
        // The second instance (first of mesh 1) is translated by 10: record word 4 is tx.
        let record = |i: usize, word: usize| {
            let base = glyphs["instances"]["offset"].as_u64().unwrap() as usize + i * 32 + word * 4;
            u32::from_le_bytes(payload[base..base + 4].try_into().unwrap())
        };
        assert_eq!(f32::from_bits(record(1, 4)), 10.0);
        assert_eq!(record(1, 7), INK_FOREGROUND, "the text's layer is ACI 7, so its glyphs take the foreground");
        let texts = &header["texts"];
        let start = texts["offset"].as_u64().unwrap() as usize;
        let json: serde_json::Value =
            serde_json::from_slice(&payload[start..start + texts["count"].as_u64().unwrap() as usize]).unwrap();
        assert_eq!(json[0]["bounds"], serde_json::json!([0.0, 0.0, 25.0, 5.0]), "the union of its placed glyphs");
    }
}
