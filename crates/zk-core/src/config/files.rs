//! The local file store of uploads.

use std::path::{Path, PathBuf};

use super::{ConfigError, Reader, Setting};

pub(super) const SETTINGS: &[Setting] = &[
    Setting::plain("UPLOAD_DIR", "directory of the local file store (default: files/ in the data dir)"),
    Setting::plain("UPLOAD_MAX_BYTES", "largest accepted upload, e.g. 104857600 or 100MiB (default 100MiB)"),
];

#[derive(Debug, Clone)]
pub struct FilesConfig {
    pub upload_dir: PathBuf,
    pub upload_max_bytes: u64,
}

pub(super) fn read(reader: &mut Reader, data_dir: &Path) -> Result<FilesConfig, ConfigError> {
    let upload_dir = reader.string("UPLOAD_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir.join("files"));
    let upload_max_bytes = reader.size("UPLOAD_MAX_BYTES")?.unwrap_or(100 * 1024 * 1024);
    Ok(FilesConfig { upload_dir, upload_max_bytes })
}
