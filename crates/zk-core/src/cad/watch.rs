//! The watched drawings folder (`CAD_DIR`): `*.dxf` and `*.dwg` files there and in its sub-folders
//! are imported into the CAD library, and follow their files.
//!
//! As with the agents folder, events only say "look again": each debounced batch rescans the tree.
//! A file whose size and modification time are unchanged since the last look is skipped; otherwise
//! it is hashed (SHA-256), and only a hash that differs from the library's is imported again (the
//! entry keeps its id and analyses and gets the new facts and thumbnail). A drawing the reader
//! refuses is listed as failed, with the reason. A file that leaves the folder takes its entry
//! (and its analyses) with it. Problems (unreadable files, refused drawings, failed imports) are
//! kept for `GET /api/cad/folder`.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::library::CadLibrary;
use crate::error::{CoreError, CoreResult};
use crate::folder_watch::{FolderWatcher, watch_folder};

/// Events closer together than this are one batch.
const DEBOUNCE: Duration = Duration::from_millis(300);
/// Sub-folders deeper than this are not followed.
const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CadFolderProblem {
    /// Relative to the folder.
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CadFolderStatus {
    pub path: String,
    /// Whether changes are picked up as they happen (false: not started, or the OS refused the watch;
    /// the folder is then scanned at start only).
    pub enabled: bool,
    /// Drawings in the library from this folder.
    pub drawings: u32,
    pub problems: Vec<CadFolderProblem>,
}

/// A file as last seen: unchanged size and time mean unchanged content.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    modified: Option<SystemTime>,
}

#[derive(Default)]
struct FolderState {
    watching: bool,
    seen: HashMap<String, Stamp>,
    problems: BTreeMap<String, String>,
    drawings: u32,
}

/// Watches the drawings folder for the library. Dropping it (or cancelling `shutdown`) stops it.
pub struct CadFolder {
    dir: PathBuf,
    state: Arc<Mutex<FolderState>>,
    // Held for its Drop: the OS watch ends with it.
    _watcher: Option<FolderWatcher>,
}

fn lock(state: &Mutex<FolderState>) -> MutexGuard<'_, FolderState> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl CadFolder {
    /// Creates the folder if needed, starts watching it, then scans it (in the background) and
    /// follows its changes until `shutdown`.
    pub async fn start(library: Arc<CadLibrary>, dir: PathBuf, shutdown: CancellationToken) -> CoreResult<Self> {
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| CoreError::Storage(format!("cannot create the drawings folder {}: {e}", dir.display())))?;
        let state = Arc::new(Mutex::new(FolderState::default()));
        let (watcher, mut rx) = watch_folder(&dir, true, DEBOUNCE, "drawings folder", "it is scanned at start only");
        lock(&state).watching = watcher.is_some();

        let (task_dir, task_state) = (dir.clone(), state.clone());
        // Owned by `shutdown`: ends when the core closes (or the watcher's channel closes).
        tokio::spawn(async move {
            rescan(&library, &task_dir, &task_state).await;
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    signal = rx.recv() => {
                        if signal.is_none() { break }
                        while rx.try_recv().is_ok() {}
                        rescan(&library, &task_dir, &task_state).await;
                    }
                }
            }
        });
        Ok(Self { dir, state, _watcher: watcher })
    }

    pub fn status(&self) -> CadFolderStatus {
        let state = lock(&self.state);
        CadFolderStatus {
            path: self.dir.display().to_string(),
            enabled: state.watching,
            drawings: state.drawings,
            problems: state
                .problems
                .iter()
                .map(|(path, message)| CadFolderProblem { path: path.clone(), message: message.clone() })
                .collect(),
        }
    }
}

/// A drawing file found in the folder.
struct Found {
    relative: String,
    path: PathBuf,
    stamp: Stamp,
}

fn is_drawing(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.starts_with('.') && (lower.ends_with(".dxf") || lower.ends_with(".dwg"))
}

/// Every drawing file under `dir` (hidden files and folders skipped, symlinked folders not followed).
fn walk(dir: &Path) -> Vec<Found> {
    let mut found = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new(), 0usize)];
    while let Some((folder, prefix, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
            let relative = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if depth < MAX_DEPTH && !name.starts_with('.') {
                    stack.push((entry.path(), relative, depth + 1));
                }
                continue;
            }
            if !is_drawing(&name) {
                continue;
            }
            // A symlinked file counts as the file it names.
            let Ok(metadata) = std::fs::metadata(entry.path()) else { continue };
            if metadata.is_file() {
                let stamp = Stamp { size: metadata.len(), modified: metadata.modified().ok() };
                found.push(Found { relative, path: entry.path(), stamp });
            }
        }
    }
    found.sort_by(|a, b| a.relative.cmp(&b.relative));
    found
}

fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

async fn rescan(library: &Arc<CadLibrary>, dir: &Path, state: &Mutex<FolderState>) {
    let walked = {
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || walk(&dir)).await.unwrap_or_default()
    };
    let known = match library.store().folder_cad_drawings(library.folder_root()).await {
        Ok(records) => records,
        Err(error) => {
            tracing::warn!(%error, "cannot list the folder's drawings; the folder is scanned again on its next change");
            return;
        }
    };
    let mut known: HashMap<String, crate::store::CadDrawingRecord> =
        known.into_iter().filter_map(|r| Some((r.folder_path.clone()?, r))).collect();
    let mut problems = BTreeMap::new();
    let mut drawings = 0u32;
    for file in &walked {
        let existing = known.remove(&file.relative);
        let unchanged = lock(state).seen.get(&file.relative) == Some(&file.stamp);
        if let (true, Some(record)) = (unchanged, &existing) {
            drawings += 1;
            if let Some(error) = &record.error {
                problems.insert(file.relative.clone(), error.clone());
            }
            continue;
        }
        let hashed = {
            let path = file.path.clone();
            tokio::task::spawn_blocking(move || hash_file(&path)).await
        };
        let sha256 = match hashed {
            Ok(Ok(sha256)) => sha256,
            Ok(Err(error)) => {
                problems.insert(file.relative.clone(), format!("cannot read the file: {error}"));
                continue;
            }
            Err(error) => {
                problems.insert(file.relative.clone(), format!("cannot hash the file: {error}"));
                continue;
            }
        };
        let record = match existing {
            Some(record) if record.sha256 == sha256 => record,
            existing => {
                match library
                    .import_folder_file(&file.relative, &file.path, &sha256, file.stamp.size, existing.as_ref())
                    .await
                {
                    Ok(record) => {
                        tracing::info!(file = %file.relative, status = %record.status, "drawings folder imported");
                        record
                    }
                    Err(error) => {
                        tracing::warn!(file = %file.relative, %error, "a drawing of the folder could not be imported");
                        problems.insert(file.relative.clone(), error.to_string());
                        continue;
                    }
                }
            }
        };
        drawings += 1;
        if let Some(error) = &record.error {
            problems.insert(file.relative.clone(), error.clone());
        }
        lock(state).seen.insert(file.relative.clone(), file.stamp);
    }
    // What is left was not found: its file left the folder.
    for (relative, record) in known {
        match library.remove_folder_drawing(&record.id).await {
            Ok(()) => tracing::info!(file = %relative, "drawing removed: its file left the folder"),
            Err(error) => {
                drawings += 1;
                problems.insert(relative, format!("the file is gone but its drawing could not be removed: {error}"));
            }
        }
    }
    let mut state = lock(state);
    state.seen.retain(|relative, _| walked.iter().any(|f| &f.relative == relative));
    state.problems = problems;
    state.drawings = drawings;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_walk_finds_drawings_in_sub_folders_and_skips_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("A 栋/立面")).unwrap();
        std::fs::create_dir_all(dir.path().join(".cache")).unwrap();
        for name in ["plan.dxf", "A 栋/立面/east.DXF", "old.dwg", "notes.txt", ".~lock.plan.dxf", ".cache/x.dxf"] {
            std::fs::write(dir.path().join(name), "0\nEOF\n").unwrap();
        }
        let found: Vec<String> = walk(dir.path()).into_iter().map(|f| f.relative).collect();
        assert_eq!(found, ["A 栋/立面/east.DXF", "old.dwg", "plan.dxf"]);
    }
}
