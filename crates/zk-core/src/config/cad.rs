//! CAD drawings: the guards around reading one, the watched drawings folder and the viewer's cache.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{ConfigError, Reader, Setting};

pub(super) const SETTINGS: &[Setting] = &[
    Setting::plain("CAD_MAX_BYTES", "largest CAD drawing opened, refused before parsing, e.g. 256MiB (default 256MiB)"),
    Setting::plain("CAD_TIME_BUDGET_SECS", "longest time opening (and drawing) one CAD drawing may take (default 60)"),
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
}

pub(super) fn read(reader: &mut Reader, data_dir: &Path) -> Result<CadConfig, ConfigError> {
    let max_bytes = reader.size("CAD_MAX_BYTES")?.unwrap_or(DEFAULT_MAX_BYTES);
    let time_budget = reader.seconds("CAD_TIME_BUDGET_SECS", 1, 3600)?.unwrap_or(DEFAULT_TIME_BUDGET);
    let dir = reader.string("CAD_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir.join("drawings"));
    let cache_bytes = reader.size("CAD_CACHE_BYTES")?.unwrap_or(DEFAULT_CACHE_BYTES);
    Ok(CadConfig { max_bytes, time_budget, dir, cache_bytes })
}
