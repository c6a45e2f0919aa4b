//! CAD drawings: the guards around reading one, the budgets of what one may draw, how many are
//! drawn at once, the watched drawings folder and the viewer's cache.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{ConfigError, Reader, Setting};

pub(super) const SETTINGS: &[Setting] = &[
    Setting::plain("CAD_MAX_BYTES", "largest CAD drawing opened, refused before parsing, e.g. 256MiB (default 256MiB)"),
    Setting::plain("CAD_TIME_BUDGET_SECS", "longest time opening (and drawing) one CAD drawing may take (default 60)"),
    Setting::plain(
        "CAD_MAX_INSTANCES",
        "block instances (every cell of an array, nested ones too) one scene or export draws; the rest is left out with a diagnostic (default CAD_MAX_BYTES / 256: 1048576 at 256MiB)",
    ),
    Setting::plain(
        "CAD_MAX_VERTICES",
        "vertices one scene or export holds, about 20 bytes each in memory; the rest is left out with a diagnostic (default CAD_MAX_BYTES / 16: 16777216 at 256MiB)",
    ),
    Setting::plain(
        "CAD_MAX_SVG_BYTES",
        "largest SVG export, e.g. 256MiB; a longer one is cut short with a diagnostic (default CAD_MAX_BYTES)",
    ),
    Setting::plain(
        "CAD_WORKERS",
        "CAD drawings read or drawn at once for the viewer and exports; more wait (default: the cores, at most 4)",
    ),
    Setting::plain(
        "CAD_QUEUE_SECS",
        "longest wait for a CAD worker before the request is refused with 503 and Retry-After (default 15)",
    ),
    Setting::plain(
        "CAD_DIR",
        "watched folder of drawings, *.dxf and *.dwg, imported into the CAD library (default: drawings/ in the data dir)",
    ),
    Setting::plain(
        "CAD_CACHE_BYTES",
        "memory for recently opened drawings and their scenes, e.g. 512MiB (default 512MiB)",
    ),
];

/// Default of `CAD_MAX_BYTES`.
pub const DEFAULT_MAX_BYTES: u64 = 256 * 1024 * 1024;
/// Default of `CAD_TIME_BUDGET_SECS`.
pub const DEFAULT_TIME_BUDGET: Duration = Duration::from_secs(60);
/// Default of `CAD_CACHE_BYTES`.
pub const DEFAULT_CACHE_BYTES: u64 = 512 * 1024 * 1024;
/// Default of `CAD_QUEUE_SECS`.
pub const DEFAULT_QUEUE: Duration = Duration::from_secs(15);
/// The most CAD workers chosen by default, whatever the cores: each may hold a few hundred MB.
pub const MAX_DEFAULT_CAD_WORKERS: usize = 4;

/// What one scene or export may draw, and how many are drawn at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CadBudgets {
    /// Block instances one scene or export draws (`CAD_MAX_INSTANCES`).
    pub max_instances: u64,
    /// Vertices one scene or export holds (`CAD_MAX_VERTICES`).
    pub max_vertices: u64,
    /// Bytes of one SVG export (`CAD_MAX_SVG_BYTES`).
    pub max_svg_bytes: u64,
    /// Pixels of one PNG export, a larger one narrowed to fit: `CAD_MAX_BYTES` / 8 (32 M pixels
    /// at 256 MiB: 128 MiB of pixmap and as much again while it is encoded).
    pub max_png_pixels: u64,
    /// Drawings read or drawn at once (`CAD_WORKERS`).
    pub workers: usize,
    /// How long a request waits for a worker (`CAD_QUEUE_SECS`).
    pub queue: Duration,
}

impl CadBudgets {
    /// The budgets `CAD_MAX_BYTES` implies when they are not set: a drawing's memory is about
    /// twice its file, a vertex about 20 bytes (scene and encoding), an SVG about 40 bytes a segment;
    /// so a bomb may take about as much as the largest drawing allowed, not more.
    pub fn derived(max_bytes: u64) -> Self {
        CadBudgets {
            max_instances: (max_bytes / 256).max(1),
            max_vertices: (max_bytes / 16).max(1),
            max_svg_bytes: max_bytes.max(1),
            max_png_pixels: (max_bytes / 8).max(1),
            workers: default_workers(),
            queue: DEFAULT_QUEUE,
        }
    }
}

/// One worker per core, at most [`MAX_DEFAULT_CAD_WORKERS`].
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get).clamp(1, MAX_DEFAULT_CAD_WORKERS)
}

#[derive(Debug, Clone)]
pub struct CadConfig {
    /// CAD drawings larger than this are refused before they are parsed.
    pub max_bytes: u64,
    /// Reading (and drawing) one CAD drawing stops with an error past this.
    pub time_budget: Duration,
    /// The watched drawings folder: `*.dxf` and `*.dwg` files there are imported into the CAD library.
    pub dir: PathBuf,
    /// What the viewer's cache of opened drawings and their scenes may hold (an estimate), in bytes.
    pub cache_bytes: u64,
    pub budgets: CadBudgets,
}

pub(super) fn read(reader: &mut Reader, data_dir: &Path) -> Result<CadConfig, ConfigError> {
    let max_bytes = reader.size("CAD_MAX_BYTES")?.unwrap_or(DEFAULT_MAX_BYTES);
    let time_budget = reader.seconds("CAD_TIME_BUDGET_SECS", 1, 3600)?.unwrap_or(DEFAULT_TIME_BUDGET);
    let dir = reader.string("CAD_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir.join("drawings"));
    let cache_bytes = reader.size("CAD_CACHE_BYTES")?.unwrap_or(DEFAULT_CACHE_BYTES);
    let derived = CadBudgets::derived(max_bytes);
    let budgets = CadBudgets {
        max_instances: reader.number("CAD_MAX_INSTANCES", 1, u64::MAX)?.unwrap_or(derived.max_instances),
        max_vertices: reader.number("CAD_MAX_VERTICES", 1, u64::MAX)?.unwrap_or(derived.max_vertices),
        max_svg_bytes: reader.size("CAD_MAX_SVG_BYTES")?.unwrap_or(derived.max_svg_bytes),
        max_png_pixels: derived.max_png_pixels,
        workers: reader.number("CAD_WORKERS", 1, 256)?.map_or(derived.workers, |n| n as usize),
        queue: reader.seconds("CAD_QUEUE_SECS", 1, 600)?.unwrap_or(derived.queue),
    };
    Ok(CadConfig { max_bytes, time_budget, dir, cache_bytes, budgets })
}
