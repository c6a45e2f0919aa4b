//! DWG drawings as DXF, for ZK-Agent: DWG bytes in, DXF bytes and what the reader noticed out.
//!
//! The DWG reader and DXF writer are the [`acadrust`] crate's (MPL-2.0, used unmodified as a
//! dependency). The DXF this crate returns is what `zk-cad` then reads like any other drawing;
//! the version stays the DWG's (an R2018 DWG becomes an R2018 DXF).
//!
//! ```no_run
//! let dwg = std::fs::read("plan.dwg").unwrap();
//! let converted = zk_dwg::to_dxf(&dwg, &zk_dwg::Options::default()).unwrap();
//! let (drawing, _diagnostics) = zk_cad::read(&converted.dxf, &zk_cad::ReadOptions::default()).unwrap();
//! println!("{}: {} entities in model space", converted.version, drawing.entities.len());
//! ```
//!
//! Architecture invariant: this crate does no I/O (acadrust itself reads `/proc/meminfo` once per
//! read to size its MESH budget; nothing else). Callers own files, threads and time budgets, and
//! run [`to_dxf`] on a worker thread under `catch_unwind`. Within it:
//! - the DXF produced is capped ([`Options::max_dxf_bytes`]): the writer stops at the cap, so a
//!   small DWG cannot make a huge DXF in memory;
//! - the sections decompressed from the DWG are capped ([`Options::max_decompressed_bytes`]);
//! - the deadline and cancel flag are polled at the reader's progress points and while the DXF
//!   is written;
//! - acadrust catches panics of its own decoders and turns them into errors; this crate keeps the
//!   default panic hook from printing those (they become [`Note`]s or the error's detail), and
//!   catches any panic that still escapes ([`DwgError::Crashed`]).

#![forbid(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::io::{self, Cursor, Write};
use std::panic::{self, AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Once};
use std::time::Instant;

use acadrust::{CadDocument, DwgReadOptions, DwgReader, DxfWriter};

/// The DWG versions the reader opens: R11/R12 (AC1009) and R13 (AC1012) to R2018 (AC1032).
pub const VERSIONS: [&str; 9] =
    ["AC1009", "AC1012", "AC1014", "AC1015", "AC1018", "AC1021", "AC1024", "AC1027", "AC1032"];

/// Faces and face-corner indices kept from one MESH entity: acadrust's historical fixed caps,
/// so that what is read does not depend on the memory of the machine.
const MAX_MESH_FACES: usize = 250_000;
const MAX_MESH_FACE_INDICES: usize = 1_000_000;
/// How many of the reader's findings are kept with their message; the rest are counted.
const MAX_NOTES: usize = 20;
/// How often (in bytes of DXF written) the writer looks at the deadline and the cancel flag.
const STOP_CHECK_BYTES: usize = 1 << 20;

/// The guards of one conversion.
#[derive(Clone, Debug)]
pub struct Options {
    /// The DXF may not grow beyond this; the conversion stops with [`DwgError::TooLarge`].
    pub max_dxf_bytes: usize,
    /// The sections decompressed from the DWG may not add up to more than this.
    pub max_decompressed_bytes: usize,
    /// The conversion stops with [`DwgError::DeadlineExceeded`] once this instant has passed.
    pub deadline: Option<Instant>,
    /// Set by the caller to stop the conversion ([`DwgError::Cancelled`]).
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_dxf_bytes: 256 << 20, max_decompressed_bytes: 256 << 20, deadline: None, cancel: None }
    }
}

/// A DWG converted to DXF.
#[derive(Clone)]
pub struct Converted {
    /// An ASCII DXF of the DWG's own version.
    pub dxf: Vec<u8>,
    /// The DWG's version, e.g. `AC1032`.
    pub version: String,
    /// Entities the reader found, those inside block definitions included.
    pub entities: usize,
    /// The strict read failed and this is what the reader's recovery mode saved.
    pub recovered: bool,
    /// What the reader noticed (records it skipped, the recovery, internal errors it survived).
    pub notes: Vec<Note>,
}

impl std::fmt::Debug for Converted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Converted")
            .field("dxf", &format_args!("{} bytes", self.dxf.len()))
            .field("version", &self.version)
            .field("entities", &self.entities)
            .field("recovered", &self.recovered)
            .field("notes", &self.notes)
            .finish()
    }
}

/// One finding of the DWG reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// acadrust's code for it, or this crate's (`recovered`, `panic`, `omitted`, `more`).
    pub code: String,
    pub message: String,
}

/// Why a DWG could not be converted. The messages are reasons, to follow "cannot open this DWG:".
#[derive(Debug, thiserror::Error)]
pub enum DwgError {
    #[error("it is not a DWG file (a DWG starts with its version, such as AC1015)")]
    NotDwg,
    #[error("the DWG reader opens versions AC1009 (R11/R12) to AC1032 (R2018), not {version}")]
    UnsupportedVersion { version: String },
    #[error("the DWG reader cannot read it ({detail})")]
    Unreadable { detail: String },
    #[error("the DWG reader found nothing to draw in it ({detail})")]
    NothingRecovered { detail: String },
    #[error("the DWG reader cannot write it as DXF ({detail})")]
    NotWritable { detail: String },
    #[error("its DXF would be larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the conversion took longer than its time budget")]
    DeadlineExceeded,
    #[error("the conversion was cancelled")]
    Cancelled,
    #[error("the DWG reader failed ({message})")]
    Crashed { message: String },
}

/// The version a DWG starts with (`AC1015`, `AC1.40`…), or `None` when `bytes` is no DWG.
pub fn version(bytes: &[u8]) -> Option<&str> {
    let head = bytes.get(..6)?;
    let looks_like = head.starts_with(b"AC") && head[2..].iter().all(|b| b.is_ascii_digit() || *b == b'.');
    if looks_like { std::str::from_utf8(head).ok() } else { None }
}

/// Converts a DWG to DXF within `options`' guards.
///
/// The strict read comes first; when it fails, the reader's recovery mode is tried, and what it
/// saves is returned with [`Converted::recovered`] set and a note saying so, unless it holds no
/// entity at all.
pub fn to_dxf(bytes: &[u8], options: &Options) -> Result<Converted, DwgError> {
    let version = version(bytes).ok_or(DwgError::NotDwg)?;
    if !VERSIONS.contains(&version) {
        return Err(DwgError::UnsupportedVersion { version: version.to_owned() });
    }
    install_quiet_hook();
    let stop = Stop::new(options);
    let outcome = {
        let _inside = InsideReader::enter();
        catch_unwind(AssertUnwindSafe(|| convert(bytes, version, options, &stop)))
    };
    let caught = take_caught_panics();
    match outcome {
        Ok(Ok(mut converted)) => {
            converted.notes.extend(caught.into_iter().map(|message| Note {
                code: "panic".to_owned(),
                message: format!("the reader survived an internal error: {message}"),
            }));
            Ok(converted)
        }
        Ok(Err(error)) => Err(stop.reason().unwrap_or(error)),
        Err(payload) => Err(stop.reason().unwrap_or_else(|| DwgError::Crashed { message: panic_message(&*payload) })),
    }
}

fn convert(bytes: &[u8], version: &str, options: &Options, stop: &Stop) -> Result<Converted, DwgError> {
    let mut notes = Vec::new();
    let (read, recovered) = match read(bytes, options, stop, false) {
        Ok(read) if read.usable => (read, false),
        strict => {
            stop.check()?;
            let detail = match strict {
                Err(error) => error.to_string(),
                Ok(read) => read.findings.first().map_or_else(|| "no drawing data".to_owned(), |n| n.message.clone()),
            };
            let read = read(bytes, options, stop, true).map_err(|_| DwgError::Unreadable { detail: detail.clone() })?;
            if read.document.entities().next().is_none() {
                return Err(DwgError::NothingRecovered { detail });
            }
            notes.push(Note {
                code: "recovered".to_owned(),
                message: format!("the DWG is damaged ({detail}); the drawing is what the reader's recovery mode saved"),
            });
            (read, true)
        }
    };
    notes.extend(read.findings);
    let writer = DxfWriter::new(&read.document);
    notes.extend(writer.omitted_architecture_records().into_iter().map(|omitted| Note {
        code: "omitted".to_owned(),
        message: format!("{} (handle {}) is left out of the DXF: {}", omitted.name, omitted.handle, omitted.reason),
    }));
    let mut sink = CappedWriter { bytes: Vec::new(), limit: options.max_dxf_bytes, unchecked: 0, over: false, stop };
    let written = writer.write_to_writer(&mut sink);
    if sink.over {
        return Err(DwgError::TooLarge { limit: options.max_dxf_bytes });
    }
    stop.check()?;
    written.map_err(|e| DwgError::NotWritable { detail: e.to_string() })?;
    Ok(Converted {
        dxf: sink.bytes,
        version: version.to_owned(),
        entities: read.document.entities().count(),
        recovered,
        notes: summarise(notes),
    })
}

/// A document and the reader's own findings.
struct Read {
    document: CadDocument,
    findings: Vec<Note>,
    /// It has entities, or it is an empty drawing whose records were read (not a shell left by
    /// sections that could not be found).
    usable: bool,
}

fn read(bytes: &[u8], options: &Options, stop: &Stop, failsafe: bool) -> Result<Read, acadrust::DxfError> {
    let read_options = if failsafe { DwgReadOptions::failsafe() } else { DwgReadOptions::default() }
        .with_mesh_limits(MAX_MESH_FACES, MAX_MESH_FACE_INDICES)
        .with_max_decompressed_bytes(options.max_decompressed_bytes);
    let mut reader = DwgReader::from_stream_with_options(Cursor::new(bytes), read_options);
    reader.set_progress_callback(stop.progress_hook());
    let outcome = reader.read_with_stats()?;
    let stats = &outcome.stats;
    let mut findings: Vec<Note> =
        stats.diagnostics.iter().map(|d| Note { code: d.code.clone(), message: d.message.clone() }).collect();
    if stats.skipped_source_records > 0 {
        findings.push(Note {
            code: "skipped-records".to_owned(),
            message: format!(
                "{} of {} records could not be decoded and are missing from the drawing",
                stats.skipped_source_records, stats.source_records
            ),
        });
    }
    let usable = stats.output_entities > 0 || stats.has_usable_drawing_data();
    Ok(Read { document: outcome.document, findings, usable })
}

/// Keeps the first [`MAX_NOTES`] notes and counts the rest in one more.
fn summarise(mut notes: Vec<Note>) -> Vec<Note> {
    if notes.len() > MAX_NOTES {
        let more = notes.len() - MAX_NOTES;
        notes.truncate(MAX_NOTES);
        notes.push(Note { code: "more".to_owned(), message: format!("{more} more findings of the DWG reader") });
    }
    notes
}

/// The deadline and the cancel flag, and which of them stopped the conversion.
struct Stop {
    deadline: Option<Instant>,
    cancel: Option<Arc<AtomicBool>>,
    /// 0 running, 1 past the deadline, 2 cancelled. Shared with the reader's progress hook.
    state: Arc<AtomicU8>,
}

/// The payload the progress hook unwinds with; acadrust catches it and returns an error.
struct Stopped;

impl Stop {
    fn new(options: &Options) -> Self {
        Stop { deadline: options.deadline, cancel: options.cancel.clone(), state: Arc::new(AtomicU8::new(0)) }
    }

    fn poll(deadline: Option<Instant>, cancel: Option<&AtomicBool>, state: &AtomicU8) -> bool {
        if state.load(Ordering::Relaxed) == 0 {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                state.store(2, Ordering::Relaxed);
            } else if deadline.is_some_and(|d| Instant::now() >= d) {
                state.store(1, Ordering::Relaxed);
            }
        }
        state.load(Ordering::Relaxed) != 0
    }

    fn check(&self) -> Result<(), DwgError> {
        Stop::poll(self.deadline, self.cancel.as_deref(), &self.state);
        self.reason().map_or(Ok(()), Err)
    }

    fn reason(&self) -> Option<DwgError> {
        match self.state.load(Ordering::Relaxed) {
            1 => Some(DwgError::DeadlineExceeded),
            2 => Some(DwgError::Cancelled),
            _ => None,
        }
    }

    /// Called by the reader between stages and object batches: unwinds out of it once stopped
    /// (`resume_unwind` runs no panic hook, so nothing is printed).
    fn progress_hook(&self) -> Arc<dyn Fn(u16) + Send + Sync> {
        let (deadline, cancel, state) = (self.deadline, self.cancel.clone(), Arc::clone(&self.state));
        Arc::new(move |_| {
            if Stop::poll(deadline, cancel.as_deref(), &state) {
                panic::resume_unwind(Box::new(Stopped));
            }
        })
    }
}

/// The DXF being written, refusing to grow past `limit` and stopping once the deadline passed.
struct CappedWriter<'s> {
    bytes: Vec<u8>,
    limit: usize,
    unchecked: usize,
    over: bool,
    stop: &'s Stop,
}

impl Write for CappedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() > self.limit.saturating_sub(self.bytes.len()) {
            self.over = true;
            return Err(io::Error::other("the DXF is over its size limit"));
        }
        self.unchecked += buf.len();
        if self.unchecked >= STOP_CHECK_BYTES {
            self.unchecked = 0;
            if self.stop.check().is_err() {
                return Err(io::Error::other("the conversion was stopped"));
            }
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

thread_local! {
    /// Set while this thread is inside acadrust, whose decoders panic on damaged records and
    /// catch those panics themselves.
    static INSIDE_READER: Cell<bool> = const { Cell::new(false) };
    /// The messages of the panics caught there, for the notes.
    static CAUGHT: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

static QUIET_HOOK: Once = Once::new();

/// Installs, once per process, a panic hook that records panics raised inside acadrust on this
/// crate's behalf instead of printing them; every other panic goes to the hook that was there.
fn install_quiet_hook() {
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if INSIDE_READER.with(Cell::get) {
                let message = info.payload_as_str().unwrap_or("a panic without a message");
                let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
                CAUGHT.with(|caught| {
                    if let Ok(mut caught) = caught.try_borrow_mut()
                        && caught.len() < MAX_NOTES
                    {
                        caught.push(format!("{message}{at}"));
                    }
                });
            } else {
                previous(info);
            }
        }));
    });
}

fn take_caught_panics() -> Vec<String> {
    CAUGHT.with(|caught| caught.try_borrow_mut().map(|mut c| std::mem::take(&mut *c)).unwrap_or_default())
}

/// Marks this thread as inside the reader until dropped (also when unwinding).
struct InsideReader;

impl InsideReader {
    fn enter() -> Self {
        INSIDE_READER.with(|inside| inside.set(true));
        InsideReader
    }
}

impl Drop for InsideReader {
    fn drop(&mut self) {
        INSIDE_READER.with(|inside| inside.set(false));
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_version_is_the_first_six_bytes() {
        assert_eq!(version(b"AC1032\0\0"), Some("AC1032"));
        assert_eq!(version(b"AC1.40\0\0"), Some("AC1.40"));
        assert_eq!(version(b"AC10"), None);
        assert_eq!(version(b"0\nSECTION\n"), None);
    }

    #[test]
    fn what_is_not_a_dwg_is_refused() {
        assert!(matches!(to_dxf(b"0\nSECTION\n2\nENTITIES\n", &Options::default()), Err(DwgError::NotDwg)));
        assert!(matches!(to_dxf(b"", &Options::default()), Err(DwgError::NotDwg)));
    }

    #[test]
    fn versions_before_r11_are_named_in_the_refusal() {
        let mut dwg = b"AC1006".to_vec();
        dwg.resize(2048, 0);
        let error = to_dxf(&dwg, &Options::default()).unwrap_err();
        assert!(matches!(&error, DwgError::UnsupportedVersion { version } if version == "AC1006"), "{error}");
        assert!(error.to_string().contains("AC1009 (R11/R12) to AC1032 (R2018)"), "{error}");
    }

    #[test]
    fn a_header_without_a_drawing_is_unreadable_and_prints_no_panic() {
        for version in VERSIONS {
            for len in [6, 64, 4096] {
                let mut dwg = version.as_bytes().to_vec();
                dwg.resize(len, 0);
                let error = to_dxf(&dwg, &Options::default()).unwrap_err();
                assert!(
                    matches!(error, DwgError::Unreadable { .. } | DwgError::NothingRecovered { .. }),
                    "{version}, {len} bytes: {error}"
                );
            }
        }
    }

    #[test]
    fn a_cancel_flag_or_a_past_deadline_stops_before_reading() {
        let mut dwg = b"AC1018".to_vec();
        dwg.resize(4096, 0);
        let cancel = Arc::new(AtomicBool::new(true));
        let error = to_dxf(&dwg, &Options { cancel: Some(cancel), ..Options::default() }).unwrap_err();
        assert!(matches!(error, DwgError::Cancelled), "{error}");
        let error = to_dxf(&dwg, &Options { deadline: Some(Instant::now()), ..Options::default() }).unwrap_err();
        assert!(matches!(error, DwgError::DeadlineExceeded), "{error}");
    }

    #[test]
    fn the_writer_stops_at_its_cap() {
        let stop = Stop::new(&Options::default());
        let mut sink = CappedWriter { bytes: Vec::new(), limit: 10, unchecked: 0, over: false, stop: &stop };
        sink.write_all(b"0123456789").unwrap();
        assert!(sink.write_all(b"x").is_err());
        assert!(sink.over);
        assert_eq!(sink.bytes.len(), 10);
    }

    #[test]
    fn notes_are_capped_and_counted() {
        let notes = (0..50).map(|i| Note { code: "x".to_owned(), message: i.to_string() }).collect();
        let notes = summarise(notes);
        assert_eq!(notes.len(), MAX_NOTES + 1);
        assert_eq!(notes[MAX_NOTES].message, "30 more findings of the DWG reader");
    }
}
