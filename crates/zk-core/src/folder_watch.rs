//! A debounced watch of a folder that only says "look again": the agents folder and the drawings
//! folder both rescan on each signal, so a missed or coalesced event cannot leave anything stale.

use std::path::Path;
use std::time::Duration;

use notify_debouncer_full::notify::{RecommendedWatcher, RecursiveMode};
use tokio::sync::mpsc;

/// The OS watch; it ends when this is dropped.
pub type FolderWatcher = notify_debouncer_full::Debouncer<RecommendedWatcher, notify_debouncer_full::RecommendedCache>;

/// Watches `dir` and sends one signal per debounced batch of events. `None` (with a warning naming
/// `what` and `fallback`) when the OS refuses the watch; the receiver is then closed.
pub fn watch_folder(
    dir: &Path,
    recursive: bool,
    debounce: Duration,
    what: &str,
    fallback: &str,
) -> (Option<FolderWatcher>, mpsc::UnboundedReceiver<()>) {
    // The debouncer calls back on its own thread; an unbounded channel hands batches to the runtime
    // without blocking that thread. Batches are tiny (a signal), so the queue cannot grow large.
    let (tx, rx) = mpsc::unbounded_channel::<()>();
    let label = what.to_owned();
    let watcher = match notify_debouncer_full::new_debouncer(debounce, None, move |result| {
        if let Err(errors) = &result {
            tracing::warn!(?errors, folder = %label, "the folder watch reported errors");
        }
        let _ = tx.send(());
    }) {
        Ok(mut debouncer) => {
            let mode = if recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
            match debouncer.watch(dir, mode) {
                Ok(()) => Some(debouncer),
                Err(error) => {
                    tracing::warn!(dir = %dir.display(), %error, "cannot watch the {what}; {fallback}");
                    None
                }
            }
        }
        Err(error) => {
            tracing::warn!(%error, "cannot start the file watcher for the {what}; {fallback}");
            None
        }
    };
    (watcher, rx)
}
