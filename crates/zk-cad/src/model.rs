//! The drawing: header variables, tables, blocks, layouts and entities.
//!
//! Entities refer to layers, linetypes, text styles and blocks by index ([`LayerId`] …) into the
//! drawing's vectors. Names a file uses without declaring them get an entry marked
//! `declared: false`, so every index is valid and nothing referenced goes missing.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::color::Color;
use crate::entity::{Entity, EntityKind};
use crate::geometry::{Vec2, Vec3};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// Index into [`Drawing::layers`].
    LayerId
);
id_type!(
    /// Index into [`Drawing::linetypes`].
    LinetypeId
);
id_type!(
    /// Index into [`Drawing::text_styles`].
    TextStyleId
);
id_type!(
    /// Index into [`Drawing::blocks`].
    BlockId
);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum LinetypeRef {
    #[default]
    ByLayer,
    ByBlock,
    Named(LinetypeId),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DxfEncoding {
    #[default]
    Ascii,
    Binary,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Drawing {
    pub encoding: DxfEncoding,
    pub header: Header,
    pub layers: Vec<Layer>,
    pub linetypes: Vec<Linetype>,
    pub text_styles: Vec<TextStyle>,
    pub dim_styles: Vec<String>,
    /// Block definitions, including `*Model_Space`, `*Paper_Space…` and anonymous `*D…`, `*U…`.
    pub blocks: Vec<Block>,
    /// The ENTITIES section: model space, and the paper space of the active layout
    /// (`common.paper_space`).
    pub entities: Vec<Entity>,
    pub layouts: Vec<Layout>,
    pub image_defs: Vec<ImageDef>,
    /// Entities read but not modelled (3DSOLID, REGION, MLINE, …), by DXF type, counted over
    /// ENTITIES and all blocks.
    pub unsupported: BTreeMap<String, u64>,
}

impl Drawing {
    pub fn layer(&self, id: LayerId) -> Option<&Layer> {
        self.layers.get(id.index())
    }

    pub fn block(&self, id: BlockId) -> Option<&Block> {
        self.blocks.get(id.index())
    }

    pub fn text_style(&self, id: TextStyleId) -> Option<&TextStyle> {
        self.text_styles.get(id.index())
    }

    pub fn linetype(&self, id: LinetypeId) -> Option<&Linetype> {
        self.linetypes.get(id.index())
    }

    /// Finds a layer by name, ignoring case as AutoCAD does.
    pub fn find_layer(&self, name: &str) -> Option<LayerId> {
        self.layers.iter().position(|l| l.name.eq_ignore_ascii_case(name)).map(|i| LayerId(i as u32))
    }

    /// Finds a block by name, ignoring case as AutoCAD does.
    pub fn find_block(&self, name: &str) -> Option<BlockId> {
        self.blocks.iter().position(|b| b.name.eq_ignore_ascii_case(name)).map(|i| BlockId(i as u32))
    }

    /// Entities drawn in model space.
    pub fn model_space(&self) -> impl Iterator<Item = &Entity> {
        let block = self.layouts.iter().find(|l| l.is_model()).and_then(|l| l.block).and_then(|b| self.block(b));
        self.entities.iter().filter(|e| !e.common.paper_space).chain(block.into_iter().flat_map(|b| b.entities.iter()))
    }

    /// Entities of a layout: model space, or a paper space (its block, plus the paper-space part
    /// of ENTITIES when it is the active layout `*Paper_Space`).
    pub fn layout_entities<'a>(&'a self, layout: &'a Layout) -> Box<dyn Iterator<Item = &'a Entity> + 'a> {
        if layout.is_model() {
            return Box::new(self.model_space());
        }
        let block = layout.block.and_then(|b| self.block(b));
        let active = block.is_none_or(|b| b.name.eq_ignore_ascii_case("*Paper_Space"));
        let from_section = self.entities.iter().filter(move |e| active && e.common.paper_space);
        Box::new(from_section.chain(block.into_iter().flat_map(|b| b.entities.iter())))
    }

    /// The VIEWPORT entities of a layout (the first, id 1, is usually the sheet itself).
    pub fn layout_viewports<'a>(&'a self, layout: &'a Layout) -> impl Iterator<Item = &'a crate::entity::Viewport> {
        self.layout_entities(layout).filter_map(|e| match &e.kind {
            EntityKind::Viewport(v) => Some(v.as_ref()),
            _ => None,
        })
    }
}

/// Header variables. The common ones are typed; every variable is also in `vars`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Header {
    /// `$ACADVER`, e.g. `AC1015` (R2000); `None` for R12-style files without a header.
    pub version: Option<String>,
    pub codepage: Option<String>,
    /// `$INSUNITS`: 0 unitless, 1 inches, 2 feet, 4 millimetres, 5 centimetres, 6 metres…
    pub insunits: Option<i32>,
    /// `$MEASUREMENT`: 0 imperial, 1 metric.
    pub measurement: Option<i32>,
    pub extmin: Option<Vec3>,
    pub extmax: Option<Vec3>,
    pub limmin: Option<Vec2>,
    pub limmax: Option<Vec2>,
    pub ltscale: Option<f64>,
    /// `$TDCREATE` and `$TDUPDATE` as the Julian dates the file holds, unconverted: converting
    /// them is the caller's business, and no value can make this crate fail.
    pub created_julian: Option<f64>,
    pub updated_julian: Option<f64>,
    pub vars: BTreeMap<String, Vec<HeaderValue>>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum HeaderValue {
    Text(String),
    Real(f64),
    Int(i64),
}

impl Header {
    /// The AutoCAD release for `$ACADVER`, e.g. `R2018` for `AC1032`.
    pub fn release(&self) -> Option<&'static str> {
        release_name(self.version.as_deref()?)
    }
}

pub fn release_name(acadver: &str) -> Option<&'static str> {
    Some(match acadver {
        "AC1006" => "R10",
        "AC1009" => "R11/R12",
        "AC1012" => "R13",
        "AC1014" => "R14",
        "AC1015" => "R2000",
        "AC1018" => "R2004",
        "AC1021" => "R2007",
        "AC1024" => "R2010",
        "AC1027" => "R2013",
        "AC1032" => "R2018",
        _ => return None,
    })
}

/// `$INSUNITS` as a name.
pub fn units_name(insunits: i32) -> &'static str {
    match insunits {
        0 => "unitless",
        1 => "inches",
        2 => "feet",
        3 => "miles",
        4 => "millimeters",
        5 => "centimeters",
        6 => "meters",
        7 => "kilometers",
        8 => "microinches",
        9 => "mils",
        10 => "yards",
        11 => "angstroms",
        12 => "nanometers",
        13 => "microns",
        14 => "decimeters",
        15 => "decameters",
        16 => "hectometers",
        17 => "gigameters",
        18 => "astronomical units",
        19 => "light years",
        20 => "parsecs",
        21 => "US survey feet",
        _ => "unknown",
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    pub name: String,
    /// Never BYLAYER/BYBLOCK.
    pub color: Color,
    /// Off: a negative colour number in the table.
    pub on: bool,
    pub frozen: bool,
    pub locked: bool,
    pub plot: bool,
    pub linetype: LinetypeRef,
    pub lineweight: i16,
    pub handle: u64,
    /// False when entities use the layer but the LAYER table has no entry for it.
    pub declared: bool,
}

impl Layer {
    pub fn undeclared(name: String) -> Self {
        Layer {
            name,
            color: Color::Aci(7),
            on: true,
            frozen: false,
            locked: false,
            plot: true,
            linetype: LinetypeRef::ByLayer,
            lineweight: -3,
            handle: 0,
            declared: false,
        }
    }

    pub fn visible(&self) -> bool {
        self.on && !self.frozen
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Linetype {
    pub name: String,
    pub description: String,
    /// Group 40: the pattern's length.
    pub pattern_length: f64,
    /// Group 49 per element: positive dash, negative gap, 0 dot. Empty for continuous.
    pub pattern: Vec<f64>,
    /// Text or shapes embedded in complex linetypes, by pattern element.
    pub embedded: Vec<LinetypeShape>,
    pub declared: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinetypeShape {
    /// Index of the pattern element it follows.
    pub element: usize,
    pub text: Option<String>,
    pub shape_number: Option<i32>,
    pub style_handle: Option<u64>,
    pub scale: f64,
    pub rotation: f64,
    pub offset: Vec2,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TextStyle {
    pub name: String,
    /// Group 3: primary font file (`txt.shx`, `arial.ttf`…).
    pub font_file: String,
    /// Group 4: big font file for East Asian characters (`gbcbig.shx`…).
    pub bigfont_file: String,
    /// TrueType family name from the style's ACAD extended data, when given.
    pub font_family: Option<String>,
    /// Group 40: 0 when the height is not fixed.
    pub fixed_height: f64,
    pub width_factor: f64,
    pub oblique: f64,
    /// Group 70: 1 shape file, 4 vertical text.
    pub flags: i32,
    pub declared: bool,
}

impl TextStyle {
    pub fn is_shape_file(&self) -> bool {
        self.flags & 1 != 0
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    pub name: String,
    pub base_point: Vec3,
    /// Group 70: 1 anonymous, 2 has attribute definitions, 4 external reference, 8 overlay…
    pub flags: i32,
    pub description: String,
    /// Group 1: the referenced drawing of an external reference.
    pub xref_path: Option<String>,
    pub entities: Vec<Entity>,
    /// Group 330 of the BLOCK: its BLOCK_RECORD, which layouts point to.
    pub block_record: u64,
    /// False for a name only referenced (by an INSERT or DIMENSION) and never defined.
    pub defined: bool,
}

impl Block {
    pub fn is_anonymous(&self) -> bool {
        self.flags & 1 != 0 || self.name.starts_with('*')
    }

    pub fn is_xref(&self) -> bool {
        self.flags & 4 != 0
    }

    /// `*Model_Space` and `*Paper_Space…` hold layout content, not reusable symbols.
    pub fn is_layout_block(&self) -> bool {
        let upper = self.name.to_ascii_uppercase();
        upper.starts_with("*MODEL_SPACE") || upper.starts_with("*PAPER_SPACE")
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    pub name: String,
    pub tab_order: i32,
    /// The block holding its entities (`*Model_Space`, `*Paper_Space…`), when the file says.
    pub block: Option<BlockId>,
    pub limits_min: Vec2,
    pub limits_max: Vec2,
    pub handle: u64,
}

impl Layout {
    pub fn is_model(&self) -> bool {
        self.name.eq_ignore_ascii_case("Model")
    }
}

/// IMAGEDEF: the raster file an IMAGE refers to (never opened by this crate).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageDef {
    pub handle: u64,
    pub file_name: String,
    pub size_pixels: Vec2,
}
