//! Facts about a drawing for people and agents: what `zk-agent cad info` prints and what the CAD
//! analysis task gives the model as context.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::color::Color;
use crate::entity::{DimensionKind, Entity, EntityKind};
use crate::extents::model_extents;
use crate::geometry::{Bounds, Vec3};
use crate::model::{Drawing, DxfEncoding, LinetypeRef, units_name};

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Facts {
    /// `$ACADVER`, e.g. `AC1032`.
    pub version: Option<String>,
    /// The AutoCAD release, e.g. `R2018`.
    pub release: Option<&'static str>,
    pub encoding: DxfEncoding,
    pub codepage: Option<String>,
    pub units: Units,
    /// The drawing's model-space extents: computed from the geometry when it has any, else the
    /// header's when they are plausible.
    pub extents: Option<Extents>,
    pub extents_source: Option<ExtentsSource>,
    pub header_extents: Option<Extents>,
    pub layers: Vec<LayerFacts>,
    /// Named blocks (anonymous and layout blocks are only counted).
    pub blocks: Vec<BlockFacts>,
    pub anonymous_blocks: usize,
    pub layouts: Vec<LayoutFacts>,
    /// Entities by DXF type over ENTITIES and all block definitions.
    pub entity_counts: BTreeMap<String, u64>,
    /// Entities read but not modelled, by DXF type.
    pub unsupported_entities: BTreeMap<String, u64>,
    pub texts: Vec<TextFact>,
    pub dimensions: Vec<DimensionFact>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Units {
    /// `$INSUNITS`, when the header has it.
    pub insunits: Option<i32>,
    pub name: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Extents {
    pub min: Vec3,
    pub max: Vec3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ExtentsSource {
    Computed,
    Header,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LayerFacts {
    pub name: String,
    pub color: Color,
    /// `#RRGGBB` of the colour.
    pub rgb: Option<String>,
    /// False for a layer that is off (a negative colour in the LAYER table): its entities are not
    /// drawn, though the blocks INSERTs on it hold still show what is on other layers.
    pub on: bool,
    /// A frozen layer (LAYER group 70 bit 1) draws nothing, nor anything an INSERT on it holds.
    pub frozen: bool,
    pub locked: bool,
    pub linetype: String,
    pub lineweight: i16,
    pub entities: u64,
    /// False when entities use the layer but the file does not declare it.
    pub declared: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BlockFacts {
    pub name: String,
    pub entities: usize,
    /// INSERTs naming this block, anywhere in the drawing (arrays count once).
    pub inserts: u64,
    pub xref_path: Option<String>,
    pub defined: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LayoutFacts {
    pub name: String,
    pub entities: usize,
    /// Viewports into model space (the sheet's own viewport, id 1, not counted).
    pub viewports: usize,
    /// Layers frozen in at least one of those viewports (VIEWPORT group 331/341), by name: the
    /// viewport shows model space without them.
    pub viewport_frozen_layers: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TextFact {
    /// TEXT, MTEXT, ATTRIB, ATTDEF, MULTILEADER, ACAD_TABLE.
    pub kind: &'static str,
    pub text: String,
    /// The attribute tag, for ATTRIB and ATTDEF.
    pub tag: Option<String>,
    pub layer: String,
    /// `model`, `paper` or `block NAME`.
    pub place: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DimensionFact {
    pub kind: DimensionKind,
    /// In drawing units, or in degrees for angular dimensions.
    pub measurement: Option<f64>,
    /// The text shown: the override with `<>` filled in, or the measurement.
    pub text: String,
    pub layer: String,
    pub place: String,
}

fn extents(b: Bounds) -> Extents {
    Extents { min: b.min, max: b.max }
}

/// The header extents when they describe a real box (not missing, not the ±1e20 "empty" marker).
fn header_extents(drawing: &Drawing) -> Option<Extents> {
    let (min, max) = (drawing.header.extmin?, drawing.header.extmax?);
    let plausible = min.is_finite()
        && max.is_finite()
        && min.x <= max.x
        && min.y <= max.y
        && [min.x, min.y, max.x, max.y].iter().all(|v| v.abs() < 1e19);
    plausible.then_some(Extents { min, max })
}

/// The names of the layers the viewports of `layout` freeze, in the layer table's order.
fn viewport_frozen_layers(drawing: &Drawing, layout: &crate::model::Layout) -> Vec<String> {
    let mut handles: Vec<u64> =
        drawing.layout_viewports(layout).filter(|v| v.id != 1).flat_map(|v| v.frozen_layers.iter().copied()).collect();
    if handles.is_empty() {
        return Vec::new();
    }
    handles.sort_unstable();
    drawing
        .layers
        .iter()
        .filter(|l| l.handle != 0 && handles.binary_search(&l.handle).is_ok())
        .map(|l| l.name.clone())
        .collect()
}

fn is_angular(kind: DimensionKind) -> bool {
    matches!(kind, DimensionKind::Angular | DimensionKind::Angular3Point)
}

/// Gathers the facts of a drawing; `max_block_depth` bounds block nesting for the extents.
pub fn facts(drawing: &Drawing, max_block_depth: usize) -> Facts {
    let layer_name = |e: &Entity| drawing.layer(e.common.layer).map(|l| l.name.clone()).unwrap_or_default();
    let mut entity_counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut layer_entities = vec![0u64; drawing.layers.len()];
    let mut inserts = vec![0u64; drawing.blocks.len()];
    let mut texts = Vec::new();
    let mut dimensions = Vec::new();

    let sources =
        std::iter::once((None, &drawing.entities)).chain(drawing.blocks.iter().map(|b| (Some(b), &b.entities)));
    for (block, entities) in sources {
        // Dimension blocks repeat their dimension's text: facts take it from the dimension.
        let derived = block.is_some_and(|b| b.name.starts_with("*D") || b.name.starts_with("*d"));
        for e in entities {
            *entity_counts.entry(e.kind.dxf_name().to_owned()).or_insert(0) += 1;
            if let EntityKind::Insert(i) = &e.kind {
                for a in &i.attributes {
                    *entity_counts.entry(a.kind.dxf_name().to_owned()).or_insert(0) += 1;
                }
            }
            if let Some(n) = layer_entities.get_mut(e.common.layer.index()) {
                *n += 1;
            }
            if let EntityKind::Insert(i) = &e.kind
                && let Some(n) = inserts.get_mut(i.block.index())
            {
                *n += 1;
            }
            if derived {
                continue;
            }
            let place = match block {
                Some(b) if b.is_layout_block() && b.name.to_ascii_uppercase().starts_with("*MODEL") => {
                    "model".to_owned()
                }
                Some(b) if b.is_layout_block() => "paper".to_owned(),
                Some(b) => format!("block {}", b.name),
                None if e.common.paper_space => "paper".to_owned(),
                None => "model".to_owned(),
            };
            let mut text = |kind: &'static str, text: &str, tag: Option<&str>| {
                if !text.trim().is_empty() {
                    texts.push(TextFact {
                        kind,
                        text: text.to_owned(),
                        tag: tag.map(str::to_owned),
                        layer: layer_name(e),
                        place: place.clone(),
                    });
                }
            };
            match &e.kind {
                EntityKind::Text(t) => text("TEXT", &t.text, None),
                EntityKind::MText(m) => text("MTEXT", &m.content.plain, None),
                EntityKind::AttributeDefinition(a) => text("ATTDEF", &a.text.text, Some(&a.tag)),
                EntityKind::Insert(i) => {
                    for attribute in &i.attributes {
                        if let EntityKind::Attribute(a) = &attribute.kind {
                            text("ATTRIB", &a.text.text, Some(&a.tag));
                        }
                    }
                }
                EntityKind::MLeader(m) => {
                    if let Some(content) = &m.text {
                        text("MULTILEADER", &content.plain, None);
                    }
                }
                EntityKind::Table(t) => {
                    for cell in &t.cells {
                        text("ACAD_TABLE", cell, None);
                    }
                }
                EntityKind::Dimension(d) => {
                    let measurement = d.measurement.map(|m| if is_angular(d.kind) { m.to_degrees() } else { m });
                    dimensions.push(DimensionFact {
                        kind: d.kind,
                        measurement,
                        text: d.display_text(),
                        layer: layer_name(e),
                        place,
                    });
                }
                _ => {}
            }
        }
    }

    let layers = drawing
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| LayerFacts {
            name: l.name.clone(),
            color: l.color,
            rgb: l.color.rgb().map(|rgb| format!("#{rgb:06X}")),
            on: l.on,
            frozen: l.frozen,
            locked: l.locked,
            linetype: match l.linetype {
                LinetypeRef::Named(id) => drawing.linetype(id).map(|t| t.name.clone()).unwrap_or_default(),
                _ => "Continuous".to_owned(),
            },
            lineweight: l.lineweight,
            entities: layer_entities[i],
            declared: l.declared,
        })
        .collect();
    let blocks = drawing
        .blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| !b.is_anonymous() && !b.is_layout_block())
        .map(|(i, b)| BlockFacts {
            name: b.name.clone(),
            entities: b.entities.len(),
            inserts: inserts[i],
            xref_path: b.xref_path.clone(),
            defined: b.defined,
        })
        .collect();
    let anonymous_blocks = drawing.blocks.iter().filter(|b| b.is_anonymous() && !b.is_layout_block()).count();
    let layouts = drawing
        .layouts
        .iter()
        .map(|l| LayoutFacts {
            name: l.name.clone(),
            entities: drawing.layout_entities(l).count(),
            viewports: drawing.layout_viewports(l).filter(|v| v.id != 1).count(),
            viewport_frozen_layers: viewport_frozen_layers(drawing, l),
        })
        .collect();
    let computed = model_extents(drawing, max_block_depth).map(extents);
    let header = header_extents(drawing);
    let (extents, extents_source) = match (computed, header) {
        (Some(c), _) => (Some(c), Some(ExtentsSource::Computed)),
        (None, Some(h)) => (Some(h), Some(ExtentsSource::Header)),
        (None, None) => (None, None),
    };
    Facts {
        version: drawing.header.version.clone(),
        release: drawing.header.release(),
        encoding: drawing.encoding,
        codepage: drawing.header.codepage.clone(),
        units: Units { insunits: drawing.header.insunits, name: drawing.header.insunits.map_or("unknown", units_name) },
        extents,
        extents_source,
        header_extents: header,
        layers,
        blocks,
        anonymous_blocks,
        layouts,
        entity_counts,
        unsupported_entities: drawing.unsupported.clone(),
        texts,
        dimensions,
    }
}
