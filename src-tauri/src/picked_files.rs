//! `save_file` and `read_file`: the window may write or read a file only when the user picked that
//! exact path in a native dialog (or dropped it on the window) during this run.
//!
//! The list of picked paths is the fs plugin's scope: the dialog plugin adds every path the user
//! chooses, and the fs plugin adds dropped ones. The window itself is granted no `fs:` command, so
//! only these two commands act on that scope. A path given any other way (`../../etc/passwd`, a
//! symlink pointing elsewhere, a relative or UNC path, a NUL byte) is refused with a typed error
//! before anything is opened.

use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use tauri::ipc::Response;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_fs::FsExt as _;
use zk_core::config::Config;

use crate::commands::CommandError;

/// Longest path accepted, in bytes (Linux's PATH_MAX).
const MAX_PATH_BYTES: usize = 4096;
/// Largest file `read_file` returns when the configuration is unknown (it failed to load): the
/// defaults of `UPLOAD_MAX_BYTES` (100 MiB) and `CAD_MAX_BYTES` (256 MiB), the larger one.
const DEFAULT_MAX_READ_BYTES: u64 = zk_core::cad::DEFAULT_MAX_BYTES;

/// Size limits of the picked-file commands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// A file is read to be uploaded, as an attachment (`UPLOAD_MAX_BYTES`) or as a CAD drawing
    /// (`CAD_MAX_BYTES`): the larger limit applies here, and the server checks the one that fits.
    max_read_bytes: u64,
}

impl Limits {
    pub(crate) fn from_config(config: Option<&Config>) -> Self {
        Self {
            max_read_bytes: config.map_or(DEFAULT_MAX_READ_BYTES, |c| c.files.upload_max_bytes.max(c.cad.max_bytes)),
        }
    }
}

/// Writes `bytes` to `path`, which the user must just have chosen in the save dialog. The file is
/// replaced atomically (written beside it, then renamed), so a failed save leaves the old one intact.
#[tauri::command]
pub async fn save_file<R: Runtime>(app: AppHandle<R>, path: String, bytes: Vec<u8>) -> Result<(), CommandError> {
    let path = picked_path(&app, &path)?;
    run_blocking(move || {
        let parent = path.parent().filter(|p| p.is_dir()).ok_or_else(|| {
            CommandError::new("invalid_path", format!("the folder of {} does not exist", path.display()))
        })?;
        let io = |error: std::io::Error| {
            CommandError::new("io", format!("cannot save {}: {error}; choose another place", path.display()))
        };
        let mut file = tempfile::NamedTempFile::new_in(parent).map_err(io)?;
        file.write_all(&bytes).map_err(io)?;
        file.as_file().sync_all().map_err(io)?;
        file.persist(&path).map_err(|e| io(e.error))?;
        Ok(())
    })
    .await
}

/// Returns the content of `path`, which the user must have picked in the open dialog or dropped on
/// the window, as raw bytes (an `ArrayBuffer` in the UI), for the UI to upload through the API.
#[tauri::command]
pub async fn read_file<R: Runtime>(
    app: AppHandle<R>,
    limits: State<'_, Limits>,
    path: String,
) -> Result<Response, CommandError> {
    let path = picked_path(&app, &path)?;
    let max = limits.max_read_bytes;
    run_blocking(move || {
        let io = |error: std::io::Error| CommandError::new("io", format!("cannot read {}: {error}", path.display()));
        let metadata = std::fs::metadata(&path).map_err(io)?;
        if !metadata.is_file() {
            return Err(CommandError::new("not_a_file", format!("{} is not a file", path.display())));
        }
        if metadata.len() > max {
            return Err(CommandError::new(
                "too_large",
                format!(
                    "{} is {} bytes, more than the limit of {max} (the larger of UPLOAD_MAX_BYTES and CAD_MAX_BYTES)",
                    path.display(),
                    metadata.len()
                ),
            ));
        }
        Ok(Response::new(std::fs::read(&path).map_err(io)?))
    })
    .await
}

/// The path, when it is one the user picked; a typed error otherwise.
fn picked_path<R: Runtime>(app: &AppHandle<R>, raw: &str) -> Result<PathBuf, CommandError> {
    let path = well_formed(raw)?;
    let picked = app.try_fs_scope().is_some_and(|scope| scope.is_allowed(&path));
    if !picked {
        return Err(CommandError::new(
            "not_picked",
            format!("{} was not chosen in a dialog or dropped on the window; choose it there first", path.display()),
        ));
    }
    Ok(path)
}

/// Absolute, normalised, no NUL, not absurdly long: checked before the scope is consulted.
fn well_formed(raw: &str) -> Result<PathBuf, CommandError> {
    let shown: String = raw.chars().take(200).collect();
    if raw.len() > MAX_PATH_BYTES {
        return Err(CommandError::new("invalid_path", format!("the path is longer than {MAX_PATH_BYTES} bytes")));
    }
    if raw.contains('\0') {
        return Err(CommandError::new("invalid_path", "the path contains a NUL byte"));
    }
    let path = Path::new(raw);
    if !path.is_absolute() {
        return Err(CommandError::new("invalid_path", format!("{shown:?} is not an absolute path")));
    }
    if path.components().any(|c| matches!(c, Component::ParentDir | Component::CurDir)) {
        return Err(CommandError::new("invalid_path", format!("{shown:?} contains `.` or `..`")));
    }
    Ok(path.to_path_buf())
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|error| CommandError::new("io", format!("the file operation failed: {error}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_limit_is_the_larger_of_the_upload_and_cad_limits() {
        assert_eq!(
            Limits::from_config(None).max_read_bytes,
            256 * 1024 * 1024,
            "without a configuration: CAD_MAX_BYTES' default"
        );
        let mut config = Config::offline(std::path::Path::new("/tmp/zk-agent-limits"));
        config.files.upload_max_bytes = 10;
        config.cad.max_bytes = 20;
        assert_eq!(Limits::from_config(Some(&config)).max_read_bytes, 20, "a drawing may be larger than an attachment");
        config.files.upload_max_bytes = 30;
        assert_eq!(Limits::from_config(Some(&config)).max_read_bytes, 30);
    }

    #[test]
    #[cfg(unix)] // On Windows `C:\\…` is absolute and is refused by the scope instead.
    fn malformed_paths_are_refused_before_the_scope() {
        for raw in
            ["", "relative/file.txt", "../../etc/passwd", "C:\\Windows\\win.ini", "\\\\host\\share\\x", "/tmp/a\0b"]
        {
            let error = well_formed(raw).expect_err(raw);
            assert_eq!(error.code, "invalid_path", "{raw:?} must be refused as malformed");
        }
        assert_eq!(well_formed("/home/u/../../etc/passwd").expect_err("dotdot").code, "invalid_path");
        assert_eq!(well_formed(&format!("/{}", "a".repeat(MAX_PATH_BYTES))).expect_err("long").code, "invalid_path");
        assert!(well_formed("/home/u/plan.dxf").is_ok());
    }
}
