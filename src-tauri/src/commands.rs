//! `desktop_launch`, and the error shape every command of the shell returns.

use serde::Serialize;
use tauri::State;

use crate::backend::{DesktopLaunch, LaunchState, Shell};

/// A command's failure as the UI sees it: the API's `{code, message}` shape, so the UI's one error
/// path handles both.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct CommandError {
    /// Stable, for the UI to branch on: `start_failed`, `not_picked`, `invalid_path`, `too_large`,
    /// `not_a_file`, `io`.
    pub code: String,
    /// Says what failed and how to fix it; shown to the user.
    pub message: String,
}

impl CommandError {
    pub(crate) fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into() }
    }
}

/// Where the window's API is and this launch's secret. Waits while the core is still starting.
#[tauri::command]
pub async fn desktop_launch(shell: State<'_, Shell>) -> Result<DesktopLaunch, CommandError> {
    let mut launch = shell.launch.clone();
    let state = launch
        .wait_for(|state| !matches!(state, LaunchState::Starting))
        .await
        .map_err(|_| CommandError::new("start_failed", "the app is shutting down"))?;
    match &*state {
        LaunchState::Ready(launch) => Ok(launch.clone()),
        LaunchState::Failed(message) => Err(CommandError::new("start_failed", message.clone())),
        LaunchState::Starting => Err(CommandError::new("start_failed", "the core has not started")),
    }
}
