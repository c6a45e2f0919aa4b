//! The watched agents folder: `*.toml` and `*.json` agent files that power users edit by hand.
//!
//! A file added or changed there creates or updates its agents within a second. A file with a problem
//! changes nothing; its problems (file, line, reason) are kept for the UI and logged. Events only say
//! "look again": each batch rescans the folder and applies the files whose content changed, so a missed
//! or coalesced event (editors write via temp files and renames) cannot leave an agent stale.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::AgentService;
use super::file::{self, FileFormat, FileProblem};
use crate::error::{CoreError, CoreResult};
use crate::folder_watch::{FolderWatcher, watch_folder};

/// Events closer together than this are one batch; well under the one-second promise.
const DEBOUNCE: Duration = Duration::from_millis(200);
/// An agent file larger than this is refused (it would be thousands of agents).
const MAX_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AgentFolderStatus {
    pub dir: String,
    /// Whether changes are picked up as they happen (false: the OS refused the watch).
    pub watching: bool,
    pub problems: Vec<FileProblem>,
}

/// Watches one folder for the agents service. Dropping it (or cancelling `shutdown`) stops the watch.
pub struct AgentFolder {
    dir: PathBuf,
    state: Arc<Mutex<FolderState>>,
    // Held for its Drop: the OS watch ends with it.
    _watcher: Option<FolderWatcher>,
}

#[derive(Default)]
struct FolderState {
    watching: bool,
    /// Content hash of each file as last applied (or refused), so unchanged files are skipped.
    seen: HashMap<PathBuf, [u8; 32]>,
    problems: HashMap<PathBuf, Vec<FileProblem>>,
}

impl AgentFolder {
    /// Creates the folder if needed, applies its files, then follows changes until `shutdown`.
    pub async fn start(service: Arc<AgentService>, dir: PathBuf, shutdown: CancellationToken) -> CoreResult<Self> {
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| CoreError::Storage(format!("cannot create the agents folder {}: {e}", dir.display())))?;
        let state = Arc::new(Mutex::new(FolderState::default()));
        rescan(&service, &dir, &state).await;

        let (watcher, mut rx) = watch_folder(&dir, false, DEBOUNCE, "agents folder", "changes apply at restart");
        lock(&state).watching = watcher.is_some();

        let folder_dir = dir.clone();
        let task_state = state.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    signal = rx.recv() => {
                        if signal.is_none() { break }
                        // Drain what queued meanwhile: one rescan covers them all.
                        while rx.try_recv().is_ok() {}
                        rescan(&service, &folder_dir, &task_state).await;
                    }
                }
            }
        });
        Ok(Self { dir, state, _watcher: watcher })
    }

    pub fn status(&self) -> AgentFolderStatus {
        let state = lock(&self.state);
        let mut problems: Vec<FileProblem> = state.problems.values().flatten().cloned().collect();
        problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        AgentFolderStatus { dir: self.dir.display().to_string(), watching: state.watching, problems }
    }
}

fn lock(state: &Mutex<FolderState>) -> std::sync::MutexGuard<'_, FolderState> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn rescan(service: &AgentService, dir: &Path, state: &Mutex<FolderState>) {
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(error) => {
            tracing::warn!(dir = %dir.display(), %error, "cannot read the agents folder");
            return;
        }
    };
    let mut present = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else { continue };
        // Editors' temp and backup files (".x.toml.swp", "x.toml~") are not agent files.
        let Some(format) = FileFormat::from_file_name(&name).filter(|_| !name.starts_with('.')) else { continue };
        if !entry.file_type().await.is_ok_and(|t| t.is_file()) {
            continue;
        }
        present.push(path.clone());
        apply_file(service, &path, &name, format, state).await;
    }
    // A removed file's problems go with it; its agents stay (deleting agents is an explicit act).
    let mut state = lock(state);
    state.problems.retain(|path, _| present.contains(path));
    state.seen.retain(|path, _| present.contains(path));
}

async fn apply_file(service: &AgentService, path: &Path, name: &str, format: FileFormat, state: &Mutex<FolderState>) {
    let text = match read_capped(path).await {
        Ok(text) => text,
        Err(message) => {
            record(state, path, None, vec![FileProblem { file: name.into(), line: None, column: None, message }]);
            return;
        }
    };
    let hash: [u8; 32] = Sha256::digest(text.as_bytes()).into();
    if lock(state).seen.get(path) == Some(&hash) {
        return;
    }
    let outcome = match file::parse_agents(&text, format, name) {
        Ok(specs) => service
            .apply_specs(specs, &format!("changed in the agents folder ({name})"), Some(name), None)
            .await
            .map_err(|error| {
                vec![FileProblem { file: name.into(), line: None, column: None, message: error.to_string() }]
            }),
        Err(problems) => Err(problems),
    };
    match outcome {
        Ok(report) => {
            tracing::info!(file = name, created = ?report.created, updated = ?report.updated, "agents folder applied");
            record(state, path, Some(hash), Vec::new());
        }
        Err(problems) => {
            for problem in &problems {
                tracing::warn!(%problem, "agent file refused; nothing changed");
            }
            record(state, path, Some(hash), problems);
        }
    }
}

fn record(state: &Mutex<FolderState>, path: &Path, hash: Option<[u8; 32]>, problems: Vec<FileProblem>) {
    let mut state = lock(state);
    match hash {
        Some(hash) => state.seen.insert(path.to_owned(), hash),
        None => state.seen.remove(path),
    };
    if problems.is_empty() {
        state.problems.remove(path);
    } else {
        state.problems.insert(path.to_owned(), problems);
    }
}

async fn read_capped(path: &Path) -> Result<String, String> {
    let size = tokio::fs::metadata(path).await.map_err(|e| format!("cannot read the file: {e}"))?.len();
    if size > MAX_FILE_BYTES {
        return Err(format!("the file is {size} bytes; agent files are limited to {MAX_FILE_BYTES}"));
    }
    let bytes = tokio::fs::read(path).await.map_err(|e| format!("cannot read the file: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_owned())
}
