//! The DXF reader: bytes in, a [`Drawing`] and its diagnostics out.
//!
//! One pass over the groups, section by section. Each record (a `0` group and the groups up to
//! the next `0`) is collected into a reused buffer of borrowed groups, then interpreted. Nothing
//! is allocated from a count the file states; every loop ends at the end of the input.

mod blocks;
mod cursor;
mod entities;
mod hatch;
mod header;
mod names;
mod objects;
mod tables;
pub(crate) mod tokenizer;

pub use header::julian_to_unix_seconds;

use std::time::Instant;

use crate::codepage::Codepage;
use crate::diagnostics::{Diagnostic, DiagnosticCode, DiagnosticSink, Location};
use crate::entity::EntityCommon;
use crate::model::{
    Block, BlockId, Drawing, DxfEncoding, Layer, LayerId, Linetype, LinetypeId, LinetypeRef, TextStyle, TextStyleId,
};
use cursor::Cursor;
use names::NameMap;
use tokenizer::{Encoding, Group, Next, Tokenizer};

/// Limits and hooks for one read. The caller (zk-core) runs `read` on a worker thread under
/// `catch_unwind`; these let it bound the work and stop it early.
#[derive(Clone, Copy)]
pub struct ReadOptions<'o> {
    /// Inputs larger than this are refused before any parsing.
    pub max_bytes: usize,
    /// Entity records (VERTEX and ATTRIB included) beyond this stop the read with an error.
    pub max_entities: usize,
    /// Deepest block nesting followed when checking blocks and computing facts.
    pub max_block_depth: usize,
    /// Reading stops with [`ReadError::DeadlineExceeded`] once this instant has passed.
    pub deadline: Option<Instant>,
    /// Polled every few thousand groups; returning true stops with [`ReadError::Cancelled`].
    pub cancel: Option<&'o (dyn Fn() -> bool + Sync + std::panic::RefUnwindSafe)>,
}

impl Default for ReadOptions<'_> {
    fn default() -> Self {
        ReadOptions { max_bytes: 1 << 30, max_entities: 50_000_000, max_block_depth: 32, deadline: None, cancel: None }
    }
}

impl std::fmt::Debug for ReadOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOptions")
            .field("max_bytes", &self.max_bytes)
            .field("max_entities", &self.max_entities)
            .field("max_block_depth", &self.max_block_depth)
            .field("deadline", &self.deadline)
            .field("cancel", &self.cancel.map(|_| "<hook>"))
            .finish()
    }
}

/// Why bytes could not be read as a drawing at all. Anything less is a [`Diagnostic`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("the file is empty: a DXF drawing starts with a group code line such as `0` followed by `SECTION`")]
    Empty,
    #[error("this is not a DXF drawing: {reason}")]
    NotDxf { reason: String },
    #[error(
        "this is a DWG drawing ({version}), which this reader does not open: convert it to DXF (for example with LibreDWG's dwg2dxf) and open the DXF"
    )]
    Dwg { version: String },
    #[error("the drawing is {size} bytes, over the limit of {limit} bytes: raise the limit to open it")]
    TooLarge { size: usize, limit: usize },
    #[error("the drawing has more than {limit} entities, the limit: raise the limit to open it")]
    TooManyEntities { limit: usize },
    #[error("reading the drawing was cancelled")]
    Cancelled,
    #[error("reading the drawing took longer than its time budget: raise the budget or open a smaller drawing")]
    DeadlineExceeded,
}

/// Reads a DXF drawing (ASCII or binary, R12 to R2018).
///
/// Returns the drawing and what was noticed while reading it; refuses only input that is not a
/// DXF at all (or a DWG), or that trips one of the `options` guards.
pub fn read(bytes: &[u8], options: &ReadOptions<'_>) -> Result<(Drawing, Vec<Diagnostic>), ReadError> {
    if bytes.len() > options.max_bytes {
        return Err(ReadError::TooLarge { size: bytes.len(), limit: options.max_bytes });
    }
    let (encoding, start) = detect(bytes)?;
    let mut reader = Reader::new(Tokenizer::new(bytes, start, encoding), options);
    if matches!(encoding, Encoding::Binary { .. }) {
        reader.drawing.encoding = DxfEncoding::Binary;
        if start >= bytes.len() {
            reader.diag.warn(DiagnosticCode::Truncated, None, "the binary DXF has nothing after its sentinel");
        }
    }
    reader.read_sections();
    if let Some(error) = reader.cursor.take_stop() {
        return Err(error);
    }
    Ok(reader.finish())
}

/// The start of a DWG file: `AC10xx` (R13 and later) or the older `AC1.x`/`AC2.xx` forms.
fn dwg_version(bytes: &[u8]) -> Option<String> {
    let head = bytes.get(..6)?;
    let looks_like = head.starts_with(b"AC") && head[2..].iter().all(|b| b.is_ascii_digit() || *b == b'.');
    looks_like.then(|| String::from_utf8_lossy(head).into_owned())
}

/// Decides how to tokenize `bytes`, or that they are not a DXF.
fn detect(bytes: &[u8]) -> Result<(Encoding, usize), ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    if let Some(version) = dwg_version(bytes) {
        return Err(ReadError::Dwg { version });
    }
    const BINARY_SENTINEL: &[u8] = b"AutoCAD Binary DXF";
    if bytes.starts_with(BINARY_SENTINEL) {
        // The sentinel ends "\r\n\x1a\0"; some writers mangle the line end, so end at the NUL.
        let after = BINARY_SENTINEL.len();
        let tail = &bytes[after..bytes.len().min(after + 8)];
        let start = tail.iter().position(|&b| b == 0).map_or(bytes.len(), |p| after + p + 1);
        // R13+ write two-byte group codes: the first group (0, "SECTION") starts 00 00.
        let wide_codes = match bytes.get(start..start + 2) {
            Some([0, 0]) => true,
            Some([0, _]) => false,
            _ => binary_version_is_r13_or_later(bytes),
        };
        return Ok((Encoding::Binary { wide_codes }, start));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ReadError::NotDxf {
            reason: "the file is UTF-16 text; save the drawing as an ASCII (or UTF-8) DXF".to_owned(),
        });
    }
    let start = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) { 3 } else { 0 };
    let head = &bytes[start..bytes.len().min(start + 65_536)];
    let eol =
        if memchr::memchr(b'\n', head).is_none() && memchr::memchr(b'\r', head).is_some() { b'\r' } else { b'\n' };
    let encoding = Encoding::Ascii { eol };
    // A DXF starts with group codes and has a `0` group (SECTION, or a comment first) early on.
    let mut probe = Tokenizer::new(bytes, start, encoding);
    let mut groups = 0;
    while groups < 256 {
        match probe.next_group() {
            Next::Group(g) if g.code == 0 => return Ok((encoding, start)),
            Next::Group(_) => groups += 1,
            Next::BadCode { line, .. } if line.trim_ascii().is_empty() => {}
            Next::BadCode { at, line } if groups == 0 => {
                let shown = String::from_utf8_lossy(&line[..line.len().min(40)]).into_owned();
                return Err(ReadError::NotDxf {
                    reason: format!("line {at} should be a group code (an integer) but is {shown:?}"),
                });
            }
            Next::BadCode { .. } => groups += 1,
            Next::Truncated { .. } | Next::End => break,
        }
    }
    Err(ReadError::NotDxf { reason: "no `0` group (such as `0` / `SECTION`) near the start of the file".to_owned() })
}

/// For a binary DXF whose first group is unusual: R13 and later have `$ACADVER` > AC1009.
fn binary_version_is_r13_or_later(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    memchr::memmem::find(head, b"$ACADVER")
        .and_then(|at| memchr::memmem::find(&head[at..], b"AC1").map(|k| at + k))
        .and_then(|at| head.get(at..at + 6))
        .is_some_and(|v| v > b"AC1009".as_slice())
}

/// The groups every entity may have, collected by reference during an entity's one pass and
/// resolved (layer lookup, numbers) afterwards.
#[derive(Default)]
pub(crate) struct CommonGroups<'g, 'a> {
    handle: Option<&'g Group<'a>>,
    linetype: Option<&'g Group<'a>>,
    layer: Option<&'g Group<'a>>,
    linetype_scale: Option<&'g Group<'a>>,
    invisible: Option<&'g Group<'a>>,
    color: Option<&'g Group<'a>>,
    paper_space: Option<&'g Group<'a>>,
    lineweight: Option<&'g Group<'a>>,
    true_color: Option<&'g Group<'a>>,
    transparency: Option<&'g Group<'a>>,
}

impl<'g, 'a> CommonGroups<'g, 'a> {
    /// Takes `g` if it is a common group; the first of each wins.
    #[inline]
    pub fn offer(&mut self, g: &'g Group<'a>) -> bool {
        let slot = match g.code {
            5 => &mut self.handle,
            6 => &mut self.linetype,
            8 => &mut self.layer,
            48 => &mut self.linetype_scale,
            60 => &mut self.invisible,
            62 => &mut self.color,
            67 => &mut self.paper_space,
            370 => &mut self.lineweight,
            420 => &mut self.true_color,
            440 => &mut self.transparency,
            _ => return false,
        };
        if slot.is_none() {
            *slot = Some(g);
        }
        true
    }
}

pub(crate) struct Reader<'a, 'o> {
    cursor: Cursor<'a, 'o>,
    diag: DiagnosticSink,
    drawing: Drawing,
    codepage: Codepage,
    layers: NameMap<'a>,
    linetypes: NameMap<'a>,
    text_styles: NameMap<'a>,
    blocks: NameMap<'a>,
    last_layer: Option<(&'a [u8], LayerId)>,
    /// Entity records read so far, against `max_entities`.
    records: usize,
    max_entities: usize,
    max_block_depth: usize,
    /// Reused record buffer.
    scratch: Vec<Group<'a>>,
    /// BLOCK_RECORD handle to name, for layouts that point at their block by record.
    block_record_names: Vec<(u64, String)>,
    /// LAYOUT objects waiting for their blocks: (layout index, block record handle).
    pending_layouts: Vec<(usize, u64)>,
}

impl<'a, 'o> Reader<'a, 'o> {
    fn new(tok: Tokenizer<'a>, options: &ReadOptions<'o>) -> Self {
        Reader {
            cursor: Cursor::new(tok, options.deadline, options.cancel),
            diag: DiagnosticSink::default(),
            drawing: Drawing::default(),
            codepage: Codepage::default(),
            layers: NameMap::default(),
            linetypes: NameMap::default(),
            text_styles: NameMap::default(),
            blocks: NameMap::default(),
            last_layer: None,
            records: 0,
            max_entities: options.max_entities,
            max_block_depth: options.max_block_depth,
            scratch: Vec::new(),
            block_record_names: Vec::new(),
            pending_layouts: Vec::new(),
        }
    }

    fn location(&self, at: u32) -> Option<Location> {
        Some(self.cursor.location(at))
    }

    fn read_sections(&mut self) {
        while let Some(g) = self.cursor.next(&mut self.diag) {
            match (g.code, g.raw()) {
                (0, b"EOF") => {
                    if self.cursor.rest_len() > 0 && !self.cursor.is_binary() {
                        self.diag.info(
                            DiagnosticCode::TrailingData,
                            self.location(g.at),
                            "text after the EOF marker was ignored",
                        );
                    }
                    return;
                }
                (0, b"SECTION") => self.read_section(),
                (0, other) => {
                    let shown = String::from_utf8_lossy(other).into_owned();
                    self.diag.warn(
                        DiagnosticCode::Structure,
                        self.location(g.at),
                        format!("{shown} outside any section was skipped"),
                    );
                    self.skip_record_body();
                }
                _ => self.diag.info(
                    DiagnosticCode::Structure,
                    self.location(g.at),
                    "a group outside any section was skipped",
                ),
            }
        }
    }

    /// Skips the groups after a record's `0` group.
    fn skip_record_body(&mut self) {
        while self.cursor.peek(&mut self.diag).is_some_and(|g| g.code != 0) {
            self.cursor.next(&mut self.diag);
        }
    }

    /// Skips a section's content up to its ENDSEC. A `0 SECTION` or `0 EOF` before it is left
    /// for the top level, so a file of unclosed sections is read without recursion.
    fn skip_section(&mut self, name: &[u8]) {
        while let Some(g) = self.cursor.peek(&mut self.diag) {
            if g.code == 0 && matches!(g.raw(), b"EOF" | b"SECTION") {
                break;
            }
            let g = *g;
            self.cursor.next(&mut self.diag);
            if g.code == 0 && g.raw() == b"ENDSEC" {
                return;
            }
        }
        let name = String::from_utf8_lossy(name).into_owned();
        self.end_section(if name.is_empty() { "unnamed" } else { &name });
    }

    /// Reads one section after its `0 SECTION` group.
    fn read_section(&mut self) {
        let name = match self.cursor.peek(&mut self.diag) {
            Some(n) if n.code == 2 => {
                let n = *n;
                self.cursor.next(&mut self.diag);
                n.raw().trim_ascii()
            }
            _ => b"",
        };
        match name {
            b"HEADER" => self.read_header(),
            b"TABLES" => self.read_tables(),
            b"BLOCKS" => self.read_blocks(),
            b"ENTITIES" => {
                let entities = self.read_entity_list(false);
                if self.drawing.entities.is_empty() {
                    self.drawing.entities = entities;
                } else {
                    self.drawing.entities.extend(entities);
                }
                self.end_section("ENTITIES");
            }
            b"OBJECTS" => self.read_objects(),
            // CLASSES, THUMBNAILIMAGE, ACDSDATA and unknown sections hold nothing drawn.
            other => self.skip_section(other),
        }
    }

    /// At the end of a section's content: takes `0 ENDSEC`, or notes that it is missing.
    fn end_section(&mut self, section: &str) {
        match self.cursor.peek_record(&mut self.diag) {
            Some(b"ENDSEC") => {
                self.cursor.next(&mut self.diag);
            }
            Some(_) => {
                let at = self.cursor.peek(&mut self.diag).map(|g| g.at).unwrap_or_default();
                self.diag.info(
                    DiagnosticCode::Structure,
                    self.location(at),
                    format!("the {section} section has no ENDSEC"),
                );
            }
            None => {
                self.diag.warn(DiagnosticCode::Truncated, None, format!("the file ends inside the {section} section"))
            }
        }
    }

    /// Counts an entity record against `max_entities`.
    fn count_record(&mut self) {
        self.records += 1;
        if self.records > self.max_entities {
            self.cursor.stop(ReadError::TooManyEntities { limit: self.max_entities });
        }
    }

    /// Decodes a string value from the file's code page.
    fn text(&mut self, raw: &[u8]) -> String {
        if raw.is_ascii() && !raw.contains(&b'\\') {
            // The common case: plain ASCII needs no decoding.
            return String::from_utf8_lossy(raw).into_owned();
        }
        let (text, lossy) = self.codepage.decode(raw);
        if lossy {
            self.diag.warn(
                DiagnosticCode::TextDecoding,
                None,
                format!("text {text:?} has bytes that are not valid in the drawing's code page"),
            );
        }
        text
    }

    /// A number from `g`, or 0 with a diagnostic when it does not parse.
    fn real(&mut self, g: &Group<'a>) -> f64 {
        match g.f64() {
            Some(v) => v,
            None => {
                self.malformed(g, "a number");
                0.0
            }
        }
    }

    fn int(&mut self, g: &Group<'a>) -> i64 {
        match g.i64() {
            Some(v) => v,
            None => {
                self.malformed(g, "an integer");
                0
            }
        }
    }

    fn int32(&mut self, g: &Group<'a>) -> i32 {
        self.int(g).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    }

    fn int16(&mut self, g: &Group<'a>) -> i16 {
        self.int(g).clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
    }

    fn malformed(&mut self, g: &Group<'a>, expected: &str) {
        let raw = g.raw();
        let shown = String::from_utf8_lossy(&raw[..raw.len().min(40)]).into_owned();
        self.diag.warn(
            DiagnosticCode::MalformedValue,
            self.location(g.at),
            format!("group {} should be {expected} but is {shown:?}; read as 0", g.code),
        );
    }

    /// The layer an entity names (group 8), creating an undeclared one when the table lacks it.
    fn layer_id(&mut self, raw: &'a [u8]) -> LayerId {
        let raw = if raw.is_empty() { b"0".as_slice() } else { raw };
        // Consecutive entities are often on one layer.
        if let Some((last, id)) = self.last_layer
            && last == raw
        {
            return id;
        }
        if let Some(id) = self.layers.get(raw) {
            self.last_layer = Some((raw, LayerId(id)));
            return LayerId(id);
        }
        let name = self.text(raw);
        if name != "0" {
            self.diag.info(
                DiagnosticCode::UndeclaredName,
                None,
                format!("layer {name:?} is used but not in the LAYER table"),
            );
        }
        let id = self.drawing.layers.len() as u32;
        self.drawing.layers.push(Layer::undeclared(name));
        self.layers.insert(raw, id);
        LayerId(id)
    }

    /// Group 6 of an entity or layer: BYLAYER, BYBLOCK or a named linetype.
    fn linetype_ref(&mut self, raw: &'a [u8]) -> LinetypeRef {
        let trimmed = raw.trim_ascii();
        if trimmed.is_empty() || trimmed.eq_ignore_ascii_case(b"BYLAYER") {
            return LinetypeRef::ByLayer;
        }
        if trimmed.eq_ignore_ascii_case(b"BYBLOCK") {
            return LinetypeRef::ByBlock;
        }
        if let Some(id) = self.linetypes.get(raw) {
            return LinetypeRef::Named(LinetypeId(id));
        }
        let name = self.text(raw);
        if !name.eq_ignore_ascii_case("CONTINUOUS") {
            self.diag.info(
                DiagnosticCode::UndeclaredName,
                None,
                format!("linetype {name:?} is used but not in the LTYPE table"),
            );
        }
        let id = self.drawing.linetypes.len() as u32;
        self.drawing.linetypes.push(Linetype { name, ..Linetype::default() });
        self.linetypes.insert(raw, id);
        LinetypeRef::Named(LinetypeId(id))
    }

    /// Group 7 of a text entity; "Standard" when absent.
    fn text_style_id(&mut self, raw: &'a [u8]) -> TextStyleId {
        let raw = if raw.is_empty() { b"Standard".as_slice() } else { raw };
        if let Some(id) = self.text_styles.get(raw) {
            return TextStyleId(id);
        }
        let name = self.text(raw);
        if !name.eq_ignore_ascii_case("STANDARD") {
            self.diag.info(
                DiagnosticCode::UndeclaredName,
                None,
                format!("text style {name:?} is used but not in the STYLE table"),
            );
        }
        let id = self.drawing.text_styles.len() as u32;
        self.drawing.text_styles.push(TextStyle { name, width_factor: 1.0, ..TextStyle::default() });
        self.text_styles.insert(raw, id);
        TextStyleId(id)
    }

    /// The block a reference names, reserving an undefined slot for blocks not (yet) defined.
    fn block_ref(&mut self, raw: &'a [u8]) -> BlockId {
        if let Some(id) = self.blocks.get(raw) {
            return BlockId(id);
        }
        let name = self.text(raw);
        let id = self.drawing.blocks.len() as u32;
        self.drawing.blocks.push(Block { name, defined: false, ..Block::default() });
        self.blocks.insert(raw, id);
        BlockId(id)
    }

    /// The common entity groups of a record, in one pass (for entities not read through
    /// [`entities::Fields`], which collects them on its own pass).
    fn common(&mut self, groups: &[Group<'a>]) -> EntityCommon {
        let mut common = CommonGroups::default();
        for g in groups {
            if g.code == 1001 {
                break; // extended data from here on: application-defined
            }
            common.offer(g);
        }
        self.resolve_common(&common)
    }

    fn resolve_common(&mut self, c: &CommonGroups<'_, 'a>) -> EntityCommon {
        let layer = match c.layer {
            Some(g) => self.layer_id(g.raw()),
            None => self.layer_id(b"0"),
        };
        let mut color = match c.color {
            Some(g) => crate::color::Color::from_aci_code(self.int(g)),
            None => crate::color::Color::ByLayer,
        };
        if let Some(g) = c.true_color {
            color = crate::color::Color::Rgb((self.int(g) & 0xFF_FFFF) as u32);
        }
        EntityCommon {
            handle: c.handle.and_then(Group::handle).unwrap_or(0),
            layer,
            linetype: c.linetype.map_or(LinetypeRef::ByLayer, |g| self.linetype_ref(g.raw())),
            color,
            lineweight: c.lineweight.map_or(-1, |g| self.int16(g)),
            linetype_scale: c.linetype_scale.map_or(1.0, |g| self.real(g) as f32),
            transparency: c.transparency.map_or(0, |g| self.int(g) as u32),
            paper_space: c.paper_space.is_some_and(|g| self.int(g) != 0),
            invisible: c.invisible.is_some_and(|g| self.int(g) != 0),
        }
    }

    fn finish(mut self) -> (Drawing, Vec<Diagnostic>) {
        self.resolve_layouts();
        for block in &self.drawing.blocks {
            if !block.defined {
                self.diag.warn(
                    DiagnosticCode::MissingBlock,
                    None,
                    format!("block {:?} is referenced but not defined; its references draw nothing", block.name),
                );
            }
        }
        crate::nesting::check_block_nesting(&self.drawing, self.max_block_depth, &mut self.diag);
        for (name, count) in &self.drawing.unsupported {
            self.diag.warn(
                DiagnosticCode::UnsupportedEntity,
                None,
                format!(
                    "{count} {name} entit{} not drawn: the type is not supported",
                    if *count == 1 { "y is" } else { "ies are" }
                ),
            );
        }
        (self.drawing, self.diag.finish())
    }
}

/// Runs only the tokenizer over `bytes` and returns the number of groups: the floor under
/// [`read`]'s cost, for benchmarks.
#[doc(hidden)]
pub fn count_groups(bytes: &[u8]) -> usize {
    let Ok((encoding, start)) = detect(bytes) else { return 0 };
    let mut tok = Tokenizer::new(bytes, start, encoding);
    let mut n = 0;
    loop {
        match tok.next_group() {
            Next::Group(_) | Next::BadCode { .. } => n += 1,
            Next::Truncated { .. } | Next::End => return n,
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod detection_tests {
    use super::*;

    #[test]
    fn detects_dwg_binary_and_ascii() {
        assert_eq!(detect(b"AC1032\0\0\0"), Err(ReadError::Dwg { version: "AC1032".into() }));
        assert_eq!(detect(b"AC1.50xx"), Err(ReadError::Dwg { version: "AC1.50".into() }));
        assert_eq!(detect(b""), Err(ReadError::Empty));
        assert!(matches!(detect(b"hello world\n"), Err(ReadError::NotDxf { .. })));
        assert!(matches!(detect(b"1\n2\n3\n4\n"), Err(ReadError::NotDxf { .. })));
        assert!(matches!(detect(b"\xFF\xFE0\x00"), Err(ReadError::NotDxf { .. })));
        assert_eq!(detect(b"  0\nSECTION\n"), Ok((Encoding::Ascii { eol: b'\n' }, 0)));
        assert_eq!(detect(b"\xEF\xBB\xBF0\r\nEOF\r\n"), Ok((Encoding::Ascii { eol: b'\n' }, 3)));
        assert_eq!(detect(b"999\rcomment\r0\rEOF\r"), Ok((Encoding::Ascii { eol: b'\r' }, 0)));
        assert_eq!(
            detect(b"AutoCAD Binary DXF\r\n\x1a\0\0\0SECTION\0"),
            Ok((Encoding::Binary { wide_codes: true }, 22))
        );
        assert_eq!(detect(b"AutoCAD Binary DXF\n\x1a\0\0SECTION\0"), Ok((Encoding::Binary { wide_codes: false }, 21)));
    }
}
