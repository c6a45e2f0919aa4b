//! CAD drawings for ZK-Agent: DXF bytes in, a drawing model and its diagnostics out; tessellated
//! scenes out as SVG ([`svg`]) and PNG ([`raster`]).
//!
//! ```
//! let dxf = b"0\nSECTION\n2\nENTITIES\n0\nLINE\n8\nWalls\n10\n0\n20\n0\n11\n100\n21\n0\n0\nENDSEC\n0\nEOF\n";
//! let (drawing, diagnostics) = zk_cad::read(dxf, &zk_cad::ReadOptions::default()).unwrap();
//! assert_eq!(drawing.entities.len(), 1);
//! let facts = zk_cad::facts(&drawing, 32);
//! assert_eq!(facts.entity_counts["LINE"], 1);
//! # let _ = diagnostics;
//! ```
//!
//! Architecture invariant: this crate does no I/O. It reads bytes it is given and returns values;
//! callers (zk-core) own files, threads, size caps and time budgets, and run [`read`] under
//! `catch_unwind` on a worker thread with [`ReadOptions`]' deadline or cancel hook.
//!
//! The reader is tolerant, in the manner of rust-analyzer: it returns what it could read plus
//! [`Diagnostic`]s, and refuses ([`ReadError`]) only bytes that are not a DXF at all, DWG files,
//! and input that trips a guard.

#![forbid(unsafe_code)]

pub(crate) mod codepage;
pub mod color;
pub mod diagnostics;
pub mod entity;
pub mod extents;
pub mod facts;
pub mod geometry;
pub mod model;
pub mod mtext;
pub mod nesting;
pub mod raster;
mod reader;
pub mod sheet;
pub mod svg;
pub mod tessellate;
pub mod text;
pub mod wire;

pub use color::Color;
pub use diagnostics::{Diagnostic, DiagnosticCode, Location, Severity};
pub use entity::{Entity, EntityCommon, EntityKind};
pub use facts::{Facts, facts};
pub use model::{Block, BlockId, Drawing, Header, Layer, LayerId, Layout};
#[doc(hidden)]
pub use reader::count_groups;
pub use reader::{ReadError, ReadOptions, julian_to_unix_seconds, read};
pub use tessellate::{Scene, TessellateOptions, tessellate};
