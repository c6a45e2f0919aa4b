//! The CAD service: opens drawings with the pure reader in `zk-cad` under guards, so that no
//! drawing can take the process down or hold it up.
//!
//! Every read runs on a worker thread of its own, under `catch_unwind`, with a size cap checked
//! before any parsing (`CAD_MAX_BYTES`) and a time budget (`CAD_TIME_BUDGET_SECS`) passed to the
//! reader and tessellator as their deadline; the caller additionally stops waiting a little after
//! the budget and raises the reader's cancel flag, so even a reader stuck between deadline polls
//! cannot hold the caller. DWG files are converted to DXF on the same worker thread by `zk-dwg`
//! (the `acadrust` reader), with the DXF capped at `CAD_MAX_BYTES`; what it cannot read goes to
//! LibreDWG's `dwg2dxf` when that is installed, else is refused with the reason and what to do.
//!
//! What one drawing may draw is bounded too ([`DrawBudgets`]: block instances, vertices, SVG bytes,
//! from `CAD_MAX_BYTES` or their own settings): a tiny file describing billions of instances is
//! drawn partially with an `OverBudget` diagnostic, and [`CadWorkers`] bounds how many drawings are
//! read or drawn at once for the library.

pub mod analysis;
pub mod cache;
pub mod library;
pub mod properties;
pub mod watch;
mod workers;

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zk_cad::raster::RasterOptions;
use zk_cad::svg::SvgOptions;
use zk_cad::{ReadOptions, TessellateOptions};

pub use zk_cad::facts::ExtentsSource;
pub use zk_cad::svg::Background;
pub use zk_cad::wire::{SceneHeader, SceneText};
pub use zk_cad::{Diagnostic, DiagnosticCode, Drawing, Facts, ReadError, Severity};

use crate::config::Config;

pub use crate::config::{CadBudgets, DEFAULT_MAX_BYTES, DEFAULT_TIME_BUDGET};
pub use workers::CadWorkers;

/// How long past the budget the caller still waits for the worker before giving up on it.
const GRACE: Duration = Duration::from_secs(2);
/// Deepest block nesting followed for facts and drawing.
const MAX_BLOCK_DEPTH: usize = 32;
/// DWGs are held to this fraction of `CAD_MAX_BYTES`: the DWG reader builds an object model of
/// about 50 times the file (a 21 MB DWG peaked at 1.1 GiB, bench/cad/README.md section 6) before
/// any DXF cap can apply, where a DXF costs about twice its size. A DWG also expands about 3.5 to
/// 9 times into DXF, so one over an eighth of the cap would mostly be refused by the DXF cap anyway.
const DWG_SHARE_OF_MAX_BYTES: u64 = 8;

/// The guards and helpers every open uses.
#[derive(Clone, Debug)]
pub struct CadOptions {
    /// Drawings larger than this are refused before they are read or parsed; so is the DXF a DWG
    /// converts to.
    pub max_bytes: u64,
    /// DWG files larger than this are refused before they are converted (an eighth of
    /// `max_bytes` from the configuration).
    pub max_dwg_bytes: u64,
    /// Reading (and drawing, for renders) must finish within this.
    pub time_budget: Duration,
    /// LibreDWG's `dwg2dxf`, when installed: DWG files the built-in reader cannot read are
    /// converted with it.
    pub dwg2dxf: Option<PathBuf>,
    /// What one scene or export may draw.
    pub budgets: DrawBudgets,
}

/// What one scene or export may draw before it is cut short (with an `OverBudget` diagnostic).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrawBudgets {
    pub max_instances: u64,
    pub max_vertices: usize,
    pub max_svg_bytes: usize,
    /// Pixels of one PNG export: a larger one is narrowed to fit.
    pub max_png_pixels: u64,
}

impl DrawBudgets {
    pub fn from_config(budgets: &CadBudgets) -> Self {
        DrawBudgets {
            max_instances: budgets.max_instances,
            max_vertices: usize::try_from(budgets.max_vertices).unwrap_or(usize::MAX),
            max_svg_bytes: usize::try_from(budgets.max_svg_bytes).unwrap_or(usize::MAX),
            max_png_pixels: budgets.max_png_pixels,
        }
    }
}

impl Default for CadOptions {
    fn default() -> Self {
        CadOptions::with_limits(DEFAULT_MAX_BYTES, DEFAULT_TIME_BUDGET)
    }
}

impl CadOptions {
    /// The limits from the configuration; `dwg2dxf` is looked up on `PATH`.
    pub fn from_config(config: &Config) -> Self {
        CadOptions {
            budgets: DrawBudgets::from_config(&config.cad.budgets),
            ..CadOptions::with_limits(config.cad.max_bytes, config.cad.time_budget)
        }
    }

    /// The size cap and time budget, with the draw budgets the size cap implies.
    fn with_limits(max_bytes: u64, time_budget: Duration) -> Self {
        CadOptions {
            max_bytes,
            max_dwg_bytes: max_bytes / DWG_SHARE_OF_MAX_BYTES,
            time_budget,
            dwg2dxf: find_on_path("dwg2dxf"),
            budgets: DrawBudgets::from_config(&CadBudgets::derived(max_bytes)),
        }
    }
}

/// Why a drawing could not be opened. Each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum CadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the drawing is {size} bytes, over the limit of {limit} bytes: raise CAD_MAX_BYTES to open it")]
    TooLarge { size: u64, limit: u64 },
    #[error(
        "cannot open this DWG ({version}): {reason}; install LibreDWG's dwg2dxf or save the drawing as DXF from your CAD program, then open it again"
    )]
    Dwg { version: String, reason: String },
    #[error(
        "the DXF converted from this DWG ({version}) would be over the limit of {limit} bytes: raise CAD_MAX_BYTES to open it"
    )]
    DwgTooLarge { version: String, limit: u64 },
    #[error(
        "the DWG is {size} bytes, over the limit of {limit} bytes for DWG files (an eighth of CAD_MAX_BYTES: reading a DWG takes about 50 times its size in memory): save it as DXF from your CAD program, or raise CAD_MAX_BYTES"
    )]
    DwgTooLargeToRead { size: u64, limit: u64 },
    #[error("dwg2dxf could not convert this DWG ({version}): {detail}; save it as DXF from your CAD program instead")]
    DwgConversion { version: String, detail: String },
    #[error(
        "opening the drawing took longer than its time budget of {} s: raise CAD_TIME_BUDGET_SECS or open a smaller drawing",
        budget.as_secs_f64()
    )]
    Timeout { budget: Duration },
    #[error("the reader failed on this drawing ({message}); this is a bug in ZK-Agent: please report it with the file")]
    Crashed { message: String },
    #[error("no layout named {name:?}; the drawing has: {}", available.join(", "))]
    NoSuchLayout { name: String, available: Vec<String> },
    #[error("the image could not be produced: {0}")]
    Render(String),
    #[error("{0}")]
    Unreadable(ReadError),
}

impl CadError {
    /// True when the request is at fault (it names something the drawing does not have), as
    /// opposed to the file (unreadable, unsupported, too large, too slow).
    pub fn is_usage(&self) -> bool {
        matches!(self, CadError::NoSuchLayout { .. })
    }
}

impl From<ReadError> for CadError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::Dwg { version } => {
                CadError::Dwg { version, reason: "the DXF reader does not read DWG files".to_owned() }
            }
            ReadError::TooLarge { size, limit } => CadError::TooLarge { size: size as u64, limit: limit as u64 },
            other => CadError::Unreadable(other),
        }
    }
}

/// Reads a drawing file, refusing it before reading when it is over the size cap.
pub fn read_file(path: &Path, options: &CadOptions) -> Result<Vec<u8>, CadError> {
    let io = |source| CadError::Io { path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > options.max_bytes {
        return Err(CadError::TooLarge { size, limit: options.max_bytes });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // A file that grows while being read stops at the cap plus one byte, and is refused below.
    file.take(options.max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > options.max_bytes {
        return Err(CadError::TooLarge { size: bytes.len() as u64, limit: options.max_bytes });
    }
    Ok(bytes)
}

/// Opens a drawing: the model and what the reader noticed.
pub fn open_drawing(bytes: Vec<u8>, options: &CadOptions) -> Result<(Drawing, Vec<Diagnostic>), CadError> {
    guarded_read(bytes, options, |drawing, diagnostics, _| Ok((drawing, diagnostics)))
}

/// The facts of a drawing (what `zk-agent cad info` prints) and the reader's diagnostics.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DrawingInfo {
    pub facts: Facts,
    pub diagnostics: Vec<Diagnostic>,
}

/// Opens a drawing and gathers its facts, within the same guards.
pub fn drawing_info(bytes: Vec<u8>, options: &CadOptions) -> Result<DrawingInfo, CadError> {
    guarded_read(bytes, options, |drawing, diagnostics, _| {
        Ok(DrawingInfo { facts: zk_cad::facts(&drawing, MAX_BLOCK_DEPTH), diagnostics })
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    Svg,
    Png,
}

#[derive(Clone, Debug)]
pub struct RenderRequest {
    pub format: ImageFormat,
    pub width: u32,
    /// A layout by name (case-insensitive); model space when `None`.
    pub layout: Option<String>,
    pub background: Background,
}

#[derive(Clone, Debug)]
pub struct Rendered {
    /// The SVG document or PNG file.
    pub data: Vec<u8>,
    pub layout: String,
    /// A budget ran out: the picture is incomplete (an `OverBudget` diagnostic says how much).
    pub truncated: bool,
    /// The reader's and the tessellator's diagnostics.
    pub diagnostics: Vec<Diagnostic>,
}

/// Opens a drawing and renders one layout as SVG or PNG, reading and drawing within one budget.
pub fn render_drawing(bytes: Vec<u8>, request: &RenderRequest, options: &CadOptions) -> Result<Rendered, CadError> {
    let request = request.clone();
    let budgets = options.budgets;
    guarded_read(bytes, options, move |drawing, diagnostics, guard| {
        render_layout(&drawing, diagnostics, &request, &budgets, guard)
    })
}

/// A layout by name (case-insensitive), or model space (else the first layout) when `None`.
fn find_layout<'d>(drawing: &'d Drawing, name: Option<&str>) -> Result<&'d zk_cad::Layout, CadError> {
    let layout = match name {
        None => drawing.layouts.iter().find(|l| l.is_model()).or_else(|| drawing.layouts.first()),
        Some(name) => drawing.layouts.iter().find(|l| l.name.eq_ignore_ascii_case(name)),
    };
    layout.ok_or_else(|| CadError::NoSuchLayout {
        name: name.unwrap_or("Model").to_owned(),
        available: drawing.layouts.iter().map(|l| l.name.clone()).collect(),
    })
}

/// Tessellates one layout within the guard's deadline and the budgets.
fn tessellate_layout(
    drawing: &Drawing,
    layout: &zk_cad::Layout,
    budgets: &DrawBudgets,
    guard: &Guard,
) -> Result<(zk_cad::Scene, Vec<Diagnostic>), CadError> {
    let cancel = guard.cancel_hook();
    let options = tessellate_options(budgets, guard, &cancel);
    zk_cad::tessellate(drawing, layout, &options).map_err(|_| CadError::Timeout { budget: guard.budget })
}

/// The tessellator's guards: block depth, the budgets, the guard's deadline and cancel flag.
fn tessellate_options<'a>(
    budgets: &DrawBudgets,
    guard: &Guard,
    cancel: &'a (dyn Fn() -> bool + Sync + std::panic::RefUnwindSafe),
) -> TessellateOptions<'a> {
    TessellateOptions {
        max_block_depth: MAX_BLOCK_DEPTH,
        max_vertices: budgets.max_vertices,
        max_instances: budgets.max_instances,
        deadline: Some(guard.deadline),
        cancel: Some(cancel),
        ..TessellateOptions::default()
    }
}

/// Renders one layout of an opened drawing as SVG or PNG, on the guard's worker thread: a paper
/// layout as a sheet (model space through its viewports), curves flattened for the output's size.
fn render_layout(
    drawing: &Drawing,
    mut diagnostics: Vec<Diagnostic>,
    request: &RenderRequest,
    budgets: &DrawBudgets,
    guard: &Guard,
) -> Result<Rendered, CadError> {
    let layout = find_layout(drawing, request.layout.as_deref())?;
    let cancel = guard.cancel_hook();
    let options = tessellate_options(budgets, guard, &cancel);
    let timeout = |_| CadError::Timeout { budget: guard.budget };
    let (data, sheet, more) = match request.format {
        ImageFormat::Svg => {
            let svg =
                SvgOptions { width: request.width, background: request.background, max_bytes: budgets.max_svg_bytes };
            let (text, sheet, more) = zk_cad::svg::render_svg(drawing, layout, &options, &svg).map_err(timeout)?;
            (text.into_bytes(), sheet, more)
        }
        ImageFormat::Png => {
            let png = RasterOptions {
                width: request.width,
                background: request.background,
                max_pixels: budgets.max_png_pixels,
            };
            zk_cad::raster::render_png(drawing, layout, &options, &png).map_err(|error| match error {
                zk_cad::raster::RenderError::Tessellate(_) => CadError::Timeout { budget: guard.budget },
                zk_cad::raster::RenderError::Raster(error) => CadError::Render(error.to_string()),
            })?
        }
    };
    diagnostics.extend(more);
    let truncated = sheet.scene.truncated
        || sheet.model.as_ref().is_some_and(|model| model.truncated)
        || diagnostics.iter().any(|d| d.code == DiagnosticCode::OverBudget);
    Ok(Rendered { data, layout: layout.name.clone(), truncated, diagnostics })
}

/// What the work on the worker thread may use: its deadline and the caller's cancel flag.
struct Guard {
    deadline: Instant,
    budget: Duration,
    cancelled: Arc<AtomicBool>,
}

impl Guard {
    fn cancel_hook(&self) -> impl Fn() -> bool + Sync + std::panic::RefUnwindSafe + use<> {
        let cancelled = Arc::clone(&self.cancelled);
        move || cancelled.load(Ordering::Relaxed)
    }
}

/// Reads `bytes` (converting DWG when it can) and hands the drawing to `then`, all on a worker
/// thread under the guards.
fn guarded_read<T, F>(bytes: Vec<u8>, options: &CadOptions, then: F) -> Result<T, CadError>
where
    T: Send + 'static,
    F: FnOnce(Drawing, Vec<Diagnostic>, &Guard) -> Result<T, CadError> + Send + 'static,
{
    if bytes.len() as u64 > options.max_bytes {
        return Err(CadError::TooLarge { size: bytes.len() as u64, limit: options.max_bytes });
    }
    let max_bytes = usize::try_from(options.max_bytes).unwrap_or(usize::MAX);
    let dwg2dxf = options.dwg2dxf.clone();
    let max_dwg_bytes = options.max_dwg_bytes;
    guarded(options.time_budget, move |guard| {
        let cancel = guard.cancel_hook();
        let read_options = ReadOptions {
            max_bytes,
            max_block_depth: MAX_BLOCK_DEPTH,
            deadline: Some(guard.deadline),
            cancel: Some(&cancel),
            ..ReadOptions::default()
        };
        let result = match zk_cad::read(&bytes, &read_options) {
            Err(ReadError::Dwg { .. }) if bytes.len() as u64 > max_dwg_bytes => {
                Err(CadError::DwgTooLargeToRead { size: bytes.len() as u64, limit: max_dwg_bytes })
            }
            Err(ReadError::Dwg { version }) => read_dwg(&bytes, version, &read_options, dwg2dxf.as_deref(), guard),
            other => other.map_err(CadError::from),
        };
        let result = result.map_err(|e| match e {
            CadError::Unreadable(ReadError::DeadlineExceeded | ReadError::Cancelled) => {
                CadError::Timeout { budget: guard.budget }
            }
            other => other,
        });
        let (drawing, diagnostics) = result?;
        then(drawing, diagnostics, guard)
    })
}

/// Runs `work` on a worker thread under `catch_unwind`, waiting at most the budget plus a grace
/// period; past that the worker is told to stop (cancel flag) and left to finish on its own.
fn guarded<T, F>(budget: Duration, work: F) -> Result<T, CadError>
where
    T: Send + 'static,
    F: FnOnce(&Guard) -> Result<T, CadError> + Send + 'static,
{
    let started = Instant::now();
    let guard = Guard {
        deadline: started.checked_add(budget).unwrap_or_else(|| started + Duration::from_secs(86_400 * 365)),
        budget,
        cancelled: Arc::new(AtomicBool::new(false)),
    };
    let cancelled = Arc::clone(&guard.cancelled);
    let (sender, receiver) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new().name("zk-cad".to_owned()).spawn(move || {
        let outcome = catch_unwind(AssertUnwindSafe(|| work(&guard)));
        // The caller may have stopped waiting; then nobody needs the result.
        let _ = sender.send(outcome);
    });
    if let Err(error) = spawned {
        return Err(CadError::Crashed { message: format!("cannot start a worker thread: {error}") });
    }
    let wait = budget.saturating_add(GRACE);
    match receiver.recv_timeout(wait) {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            tracing::error!(panic = %message, "the CAD reader panicked");
            Err(CadError::Crashed { message: format!("panic: {message}") })
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            cancelled.store(true, Ordering::Relaxed);
            Err(CadError::Timeout { budget })
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(CadError::Crashed { message: "the worker thread ended without a result".to_owned() })
        }
    }
}

/// Reads a DWG: converted by zk-dwg on this thread, else by `dwg2dxf` when installed, else refused
/// with the reason.
fn read_dwg(
    bytes: &[u8],
    version: String,
    read_options: &ReadOptions<'_>,
    dwg2dxf: Option<&Path>,
    guard: &Guard,
) -> Result<(Drawing, Vec<Diagnostic>), CadError> {
    let options = zk_dwg::Options {
        max_dxf_bytes: read_options.max_bytes,
        max_decompressed_bytes: read_options.max_bytes,
        deadline: Some(guard.deadline),
        cancel: Some(Arc::clone(&guard.cancelled)),
    };
    let reason = match zk_dwg::to_dxf(bytes, &options) {
        Ok(converted) => match zk_cad::read(&converted.dxf, read_options) {
            Ok((drawing, mut diagnostics)) => {
                diagnostics.extend(dwg_diagnostics(&converted));
                return Ok((drawing, diagnostics));
            }
            Err(error @ (ReadError::DeadlineExceeded | ReadError::Cancelled)) => return Err(error.into()),
            Err(error) => format!("its DXF is unreadable ({error})"),
        },
        Err(zk_dwg::DwgError::DeadlineExceeded | zk_dwg::DwgError::Cancelled) => {
            return Err(CadError::Timeout { budget: guard.budget });
        }
        Err(zk_dwg::DwgError::TooLarge { limit }) => {
            return Err(CadError::DwgTooLarge { version, limit: limit as u64 });
        }
        Err(error) => error.to_string(),
    };
    let Some(program) = dwg2dxf else { return Err(CadError::Dwg { version, reason }) };
    let dxf = convert_dwg(program, bytes, &version, guard).map_err(|error| match error {
        CadError::DwgConversion { version, detail } => {
            CadError::DwgConversion { version, detail: format!("{detail} (the built-in reader: {reason})") }
        }
        other => other,
    })?;
    zk_cad::read(&dxf, read_options)
        .map_err(|e| CadError::DwgConversion { version, detail: format!("its DXF is unreadable: {e}") })
}

/// Where the drawing came from, and what the DWG reader noticed, as diagnostics.
fn dwg_diagnostics(converted: &zk_dwg::Converted) -> Vec<Diagnostic> {
    let diagnostic =
        |severity, message| Diagnostic { severity, code: DiagnosticCode::DwgConversion, message, location: None };
    let release = zk_cad::model::release_name(&converted.version).unwrap_or("release unknown");
    let source = format!("converted from DWG ({} {release}) by the built-in DWG reader", converted.version);
    std::iter::once(diagnostic(Severity::Info, source))
        .chain(
            converted
                .notes
                .iter()
                .map(|note| diagnostic(Severity::Warning, format!("DWG reader ({}): {}", note.code, note.message))),
        )
        .collect()
}

/// Converts a DWG with `dwg2dxf` in a private temporary folder, within the guard's deadline.
fn convert_dwg(program: &Path, bytes: &[u8], version: &str, guard: &Guard) -> Result<Vec<u8>, CadError> {
    let failed = |detail: String| CadError::DwgConversion { version: version.to_owned(), detail };
    let dir = tempfile::tempdir().map_err(|e| failed(format!("no temporary folder: {e}")))?;
    let input = dir.path().join("drawing.dwg");
    let output = dir.path().join("drawing.dxf");
    std::fs::write(&input, bytes).map_err(|e| failed(format!("cannot write the temporary DWG: {e}")))?;
    let mut child = Command::new(program)
        .arg("-y")
        .arg("-o")
        .arg(&output)
        .arg(&input)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("cannot start {}: {e}", program.display())))?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= guard.deadline || guard.cancelled.load(Ordering::Relaxed) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(CadError::Timeout { budget: guard.budget });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(failed(format!("waiting for dwg2dxf failed: {e}"))),
        }
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.by_ref().take(64 * 1024).read_to_string(&mut stderr);
    }
    // dwg2dxf reports recoverable errors with a non-zero status yet writes a usable DXF.
    match std::fs::read(&output) {
        Ok(dxf) if !dxf.is_empty() => Ok(dxf),
        _ => {
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output").trim().to_owned();
            Err(failed(format!("{status}: {last}")))
        }
    }
}

/// The first executable file called `name` in a folder of `PATH`.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const LINE: &str = "0\nSECTION\n2\nENTITIES\n0\nLINE\n8\nWalls\n10\n0\n20\n0\n11\n100\n21\n50\n0\nENDSEC\n0\nEOF\n";

    fn options() -> CadOptions {
        CadOptions {
            max_bytes: 1 << 20,
            max_dwg_bytes: 1 << 20,
            time_budget: Duration::from_secs(30),
            dwg2dxf: None,
            budgets: DrawBudgets::from_config(&CadBudgets::derived(1 << 20)),
        }
    }

    /// A DXF of `n` LINEs: about 14 groups each.
    fn many_lines(n: usize) -> Vec<u8> {
        let mut dxf = String::from("0\nSECTION\n2\nENTITIES\n");
        for i in 0..n {
            dxf.push_str(&format!("0\nLINE\n8\n0\n10\n{i}\n20\n0\n30\n0\n11\n{i}\n21\n1\n31\n0\n"));
        }
        dxf.push_str("0\nENDSEC\n0\nEOF\n");
        dxf.into_bytes()
    }

    #[test]
    fn a_small_dxf_opens() {
        let (drawing, _) = open_drawing(LINE.as_bytes().to_vec(), &options()).unwrap();
        assert_eq!(drawing.entities.len(), 1);
        let info = drawing_info(LINE.as_bytes().to_vec(), &options()).unwrap();
        assert_eq!(info.facts.entity_counts["LINE"], 1);
    }

    #[test]
    fn oversize_is_refused_before_parsing() {
        // Not even DXF: a parse would say so, the size check speaks first.
        let bytes = vec![b'x'; 2048];
        let error = open_drawing(bytes.clone(), &CadOptions { max_bytes: 1024, ..options() }).unwrap_err();
        assert!(matches!(error, CadError::TooLarge { size: 2048, limit: 1024 }), "{error}");
        assert!(error.to_string().contains("CAD_MAX_BYTES"), "{error}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.dxf");
        std::fs::write(&path, &bytes).unwrap();
        let error = read_file(&path, &CadOptions { max_bytes: 1024, ..options() }).unwrap_err();
        assert!(matches!(error, CadError::TooLarge { size: 2048, limit: 1024 }), "{error}");
        assert_eq!(read_file(&path, &options()).unwrap().len(), 2048);
    }

    #[test]
    fn an_expired_deadline_is_a_timeout() {
        let error =
            open_drawing(many_lines(5000), &CadOptions { time_budget: Duration::ZERO, ..options() }).unwrap_err();
        assert!(matches!(error, CadError::Timeout { .. }), "{error}");
        assert!(error.to_string().contains("CAD_TIME_BUDGET_SECS"), "{error}");
    }

    #[test]
    fn work_past_the_budget_is_abandoned_and_cancelled() {
        let started = Instant::now();
        let flag = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&flag);
        let error = guarded(Duration::ZERO, move |guard| {
            // Stuck work that only a cancel flag ends.
            let hook = guard.cancel_hook();
            while !hook() {
                std::thread::sleep(Duration::from_millis(5));
            }
            seen.store(true, Ordering::Relaxed);
            Ok(())
        })
        .unwrap_err();
        assert!(matches!(error, CadError::Timeout { .. }), "{error}");
        assert!(started.elapsed() < GRACE + Duration::from_secs(2), "the caller stops waiting");
        let until = Instant::now() + Duration::from_secs(5);
        while !flag.load(Ordering::Relaxed) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(flag.load(Ordering::Relaxed), "the worker was told to stop");
    }

    #[test]
    fn a_panic_becomes_an_error() {
        let error = guarded(Duration::from_secs(5), |_| -> Result<(), CadError> { panic!("boom") }).unwrap_err();
        assert!(matches!(&error, CadError::Crashed { message } if message.contains("boom")), "{error}");
    }

    /// An R2018 DWG written by acadrust: layer Walls with a line and a circle, a TEXT and a
    /// Chinese MTEXT (see zk-dwg's tests).
    const PLAN_DWG: &[u8] = include_bytes!("../../zk-dwg/tests/fixtures/plan-r2018.dwg");

    #[test]
    fn a_dwg_opens_with_the_built_in_reader() {
        let info = drawing_info(PLAN_DWG.to_vec(), &options()).unwrap();
        assert_eq!(info.facts.version.as_deref(), Some("AC1032"));
        assert_eq!((info.facts.entity_counts["LINE"], info.facts.entity_counts["CIRCLE"]), (1, 1));
        assert!(info.facts.texts.iter().any(|t| t.text == "中文图层"), "{:?}", info.facts.texts);
        let source = info.diagnostics.iter().find(|d| d.code == DiagnosticCode::DwgConversion).unwrap();
        assert!(source.message.contains("AC1032 R2018"), "{}", source.message);

        let request =
            RenderRequest { format: ImageFormat::Png, width: 64, layout: None, background: Background::Light };
        assert!(render_drawing(PLAN_DWG.to_vec(), &request, &options()).unwrap().data.starts_with(b"\x89PNG"));
    }

    #[test]
    fn a_dwg_is_held_to_the_size_cap_and_the_time_budget() {
        // The DWG is under the cap, its DXF is not.
        let capped = CadOptions { max_bytes: PLAN_DWG.len() as u64 + 1024, ..options() };
        let error = open_drawing(PLAN_DWG.to_vec(), &capped).unwrap_err();
        assert!(matches!(error, CadError::DwgTooLarge { .. }), "{error}");
        assert!(error.to_string().contains("CAD_MAX_BYTES"), "{error}");

        let error = open_drawing(PLAN_DWG.to_vec(), &CadOptions { time_budget: Duration::ZERO, ..options() });
        assert!(matches!(error, Err(CadError::Timeout { .. })), "{error:?}");
    }

    #[test]
    fn a_dwg_over_an_eighth_of_the_cap_is_refused_before_it_is_converted() {
        let configured = CadOptions::with_limits(8 * PLAN_DWG.len() as u64 - 8, Duration::from_secs(30));
        assert_eq!(configured.max_dwg_bytes, PLAN_DWG.len() as u64 - 1, "DWGs get an eighth of CAD_MAX_BYTES");
        let error = open_drawing(PLAN_DWG.to_vec(), &configured).unwrap_err();
        assert!(matches!(error, CadError::DwgTooLargeToRead { .. }), "{error}");
        assert!(error.to_string().contains("save it as DXF"), "the message says what to do: {error}");
        let roomy = CadOptions { max_dwg_bytes: PLAN_DWG.len() as u64, ..configured };
        assert!(open_drawing(PLAN_DWG.to_vec(), &roomy).is_ok(), "a DWG at the limit is read");
    }

    #[test]
    fn an_unreadable_dwg_without_a_converter_gets_the_reason_and_the_fix() {
        let mut dwg = b"AC1018".to_vec();
        dwg.resize(4096, 0);
        let error = open_drawing(dwg, &options()).unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, CadError::Dwg { .. }), "{message}");
        assert!(message.starts_with("cannot open this DWG (AC1018): the DWG reader"), "{message}");
        assert!(message.contains("dwg2dxf") && message.contains("save the drawing as DXF"), "{message}");
        assert!(!message.ends_with('.'), "{message}");
    }

    #[cfg(unix)]
    #[test]
    fn dwg_is_converted_with_dwg2dxf_when_present() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("dwg2dxf");
        // Stands in for LibreDWG's converter: `dwg2dxf -y -o OUT IN` writes OUT.
        let script = format!(
            "#!/bin/sh\n[ \"$1\" = -y ] && [ \"$2\" = -o ] || exit 9\nprintf '{}' > \"$3\"\n",
            LINE.replace('\n', "\\n")
        );
        std::fs::write(&fake, script).unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut dwg = b"AC1018".to_vec();
        dwg.resize(4096, 0);
        let (drawing, _) = open_drawing(dwg.clone(), &CadOptions { dwg2dxf: Some(fake), ..options() }).unwrap();
        assert_eq!(drawing.entities.len(), 1, "the converted DXF is read");

        let failing = dir.path().join("failing");
        std::fs::write(&failing, "#!/bin/sh\necho 'ERROR 0x800 unsupported' >&2\nexit 1\n").unwrap();
        std::fs::set_permissions(&failing, std::fs::Permissions::from_mode(0o755)).unwrap();
        let error = open_drawing(dwg, &CadOptions { dwg2dxf: Some(failing), ..options() }).unwrap_err();
        assert!(matches!(error, CadError::DwgConversion { .. }), "{error}");
        assert!(error.to_string().contains("unsupported"), "{error}");
    }

    #[test]
    fn renders_svg_and_png_and_names_missing_layouts() {
        let request = RenderRequest { format: ImageFormat::Png, width: 64, layout: None, background: Background::Dark };
        let png = render_drawing(LINE.as_bytes().to_vec(), &request, &options()).unwrap();
        assert!(png.data.starts_with(b"\x89PNG"));
        assert_eq!(png.layout, "Model");
        let svg = RenderRequest { format: ImageFormat::Svg, ..request.clone() };
        let svg = render_drawing(LINE.as_bytes().to_vec(), &svg, &options()).unwrap();
        assert!(svg.data.starts_with(b"<svg"));
        let missing = RenderRequest { layout: Some("Sheet 9".to_owned()), ..request };
        let error = render_drawing(LINE.as_bytes().to_vec(), &missing, &options()).unwrap_err();
        assert!(error.is_usage() && error.to_string().contains("Model"), "{error}");
    }
}
