//! What the reader noticed while it kept going: malformed values, broken structure, entities it
//! does not model. A drawing with diagnostics is still a drawing.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: DiagnosticCode,
    pub message: String,
    /// Where in the input, when one place is to blame.
    pub location: Option<Location>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Something the file holds is missing from the drawing or drawn differently than intended.
    Warning,
    /// An oddity the reader repaired without loss (a missing ENDSEC, an undeclared layer…).
    Info,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "at", content = "n", rename_all = "snake_case")]
pub enum Location {
    /// 1-based line of an ASCII DXF.
    Line(u64),
    /// Byte offset in a binary DXF.
    Offset(u64),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Offset(n) => write!(f, "byte {n}"),
        }
    }
}

/// A stable code per kind of finding, for callers that count or filter them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticCode {
    /// A group code line that is not an integer; the reader skipped a line to find its footing.
    MalformedGroupCode,
    /// A number that does not parse (or is not finite) where the group code wants one.
    MalformedValue,
    /// The input ends inside a value or a section.
    Truncated,
    /// A section, table or block that is not closed, or a record where none belongs.
    Structure,
    /// An entity type the model does not represent: counted, not drawn.
    UnsupportedEntity,
    /// A VERTEX, ATTRIB or SEQEND without the POLYLINE or INSERT it belongs to.
    OrphanRecord,
    /// An INSERT or DIMENSION names a block that is not defined.
    MissingBlock,
    /// A block defined twice; the first definition is kept.
    DuplicateBlock,
    /// Blocks that insert themselves, directly or through others.
    BlockCycle,
    /// Blocks nested deeper than the reader's cap.
    BlockTooDeep,
    /// Entities on a layer (or with a linetype or text style) that has no table entry.
    UndeclaredName,
    /// Text that is not valid in the file's code page (replaced by U+FFFD).
    TextDecoding,
    /// A `$DWGCODEPAGE` the reader does not know; text is read as windows-1252.
    UnknownCodepage,
    /// Geometry with impossible values (NaN, counts that do not match), repaired or dropped.
    InvalidGeometry,
    /// Bytes after the end-of-file marker.
    TrailingData,
    /// Found while a DWG was converted to DXF (added by the caller that converted it, not by `read`).
    DwgConversion,
    /// Characters that none of the bundled fonts has: drawn as boxes, counted.
    MissingGlyph,
    /// A hatch names a pattern that is neither in the file nor in the bundled library: drawn
    /// with ANSI31 instead.
    UnknownHatchPattern,
    /// A scene or export reached a budget (vertices, block instances, output bytes): what fit
    /// was drawn, the rest left out; the message says how much of how much.
    OverBudget,
}

/// Collects diagnostics, keeping the first few of each code and counting the rest, so a file
/// with a million broken numbers yields a short report and no memory blow-up.
#[derive(Debug, Default)]
pub(crate) struct DiagnosticSink {
    kept: Vec<Diagnostic>,
    per_code: BTreeMap<DiagnosticCode, (u64, Severity)>,
}

/// How many diagnostics of one code are kept with their message; the rest are only counted.
const KEEP_PER_CODE: u64 = 20;

impl DiagnosticSink {
    pub fn push(&mut self, severity: Severity, code: DiagnosticCode, location: Option<Location>, message: String) {
        let entry = self.per_code.entry(code).or_insert((0, severity));
        entry.0 += 1;
        if entry.0 <= KEEP_PER_CODE {
            self.kept.push(Diagnostic { severity, code, message, location });
        }
    }

    pub fn warn(&mut self, code: DiagnosticCode, location: Option<Location>, message: impl Into<String>) {
        self.push(Severity::Warning, code, location, message.into());
    }

    pub fn info(&mut self, code: DiagnosticCode, location: Option<Location>, message: impl Into<String>) {
        self.push(Severity::Info, code, location, message.into());
    }

    /// The kept diagnostics plus one line per code that was cut short.
    pub fn finish(mut self) -> Vec<Diagnostic> {
        for (code, (count, severity)) in &self.per_code {
            if *count > KEEP_PER_CODE {
                self.kept.push(Diagnostic {
                    severity: *severity,
                    code: *code,
                    message: format!("{} more like this ({count} in all)", count - KEEP_PER_CODE),
                    location: None,
                });
            }
        }
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floods_are_summarised() {
        let mut sink = DiagnosticSink::default();
        for i in 0..1000 {
            sink.warn(DiagnosticCode::MalformedValue, Some(Location::Line(i)), "bad number");
        }
        sink.info(DiagnosticCode::Structure, None, "missing ENDSEC");
        let out = sink.finish();
        assert_eq!(out.len(), KEEP_PER_CODE as usize + 2, "20 kept, one structure note, one summary");
        assert!(out.last().unwrap().message.contains("980 more"), "{:?}", out.last());
    }
}
