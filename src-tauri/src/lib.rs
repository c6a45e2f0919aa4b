//! The desktop shell of ZK-Agent: a Tauri 2 window over the same core and HTTP API as `zk-agent serve`.
//!
//! On start it loads the configuration like the CLI, opens the core, serves the API in-process on
//! `127.0.0.1` at an ephemeral port, and hands the window that address plus a secret fresh for this
//! launch (`desktop_launch`), which the UI exchanges for the local owner's tokens at
//! `POST /api/auth/desktop`. Everything else the UI does goes through that API, exactly as in a browser.
//!
//! Architecture invariant: no business logic here. The shell wires the core to a window and adds only
//! native abilities (dialogs, drag and drop, notifications, one instance, window state), each behind a
//! capability in `src-tauri/capabilities/`.

mod backend;
mod commands;
mod picked_files;
mod rendering;

use std::collections::BTreeMap;
use std::process::ExitCode;

use tauri::{App, AppHandle, Manager, RunEvent, Runtime};
use zk_core::config::{Config, ConfigError, LogFormat};

pub use backend::{DesktopLaunch, desktop_origins};
pub use commands::CommandError;

/// What the shell does when the core cannot start (bad configuration, damaged database, port
/// trouble): the real app shows a native message and exits; tests record the message.
pub type StartFailureReporter<R> = fn(&AppHandle<R>, String);

/// Runs the desktop app until its window closes. The exit code is non-zero when the app could not
/// start.
pub fn run() -> ExitCode {
    let config = Config::load(BTreeMap::new());
    match &config {
        Ok(config) => zk_core::logging::init(config.logging.format, &config.logging.level),
        Err(_) => zk_core::logging::init(LogFormat::Text, "info"),
    }
    let compositing = rendering::Compositing::from_env();
    let builder = tauri::Builder::default()
        // First, so a second launch hands over to the running window before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| focus_main_window(app)))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        // Runs right after the window is created, before WebKit's web process creates the page.
        .setup(move |app| {
            if let Some(window) = app.get_webview_window("main") {
                rendering::apply(&window, compositing)?;
            }
            Ok(())
        });
    let app = match build(builder, config, show_start_failure) {
        Ok(app) => app,
        Err(error) => {
            // Without a window there is nothing to show a message in; the terminal and the log get it.
            tracing::error!(fatal = true, error = %error, "the desktop window could not be created");
            eprintln!("error: ZK-Agent cannot open its window: {error}");
            return ExitCode::FAILURE;
        }
    };
    exit_on_signal(app.handle().clone());
    // `run_return`, not `run`: `run` ends the process itself, with the code given to `exit`.
    let code = app.run_return(|handle, event| {
        if let RunEvent::Exit = event {
            backend::stop(handle);
        }
    });
    if backend::start_failed() { ExitCode::FAILURE } else { ExitCode::from(u8::try_from(code).unwrap_or(1)) }
}

/// The shell on any Tauri runtime (the real one, or `tauri::test`'s mock in tests): plugins shared
/// by both, the commands, and the core started in the background as the window opens.
///
/// `config` is the outcome of loading the configuration; an error is reported like any other
/// start-up failure, through `report_failure`.
pub fn build<R: Runtime>(
    builder: tauri::Builder<R>,
    config: Result<Config, ConfigError>,
    report_failure: StartFailureReporter<R>,
) -> tauri::Result<App<R>> {
    let limits = picked_files::Limits::from_config(config.as_ref().ok());
    let app = builder
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        // The fs plugin is registered for its scope only: it records the paths the user picked in a
        // dialog or dropped on the window, which `save_file`/`read_file` require. No capability grants
        // the window any `fs:` command.
        .plugin(tauri_plugin_fs::init())
        .manage(limits)
        .invoke_handler(tauri::generate_handler![
            commands::desktop_launch,
            picked_files::save_file,
            picked_files::read_file
        ])
        .build(tauri::generate_context!())?;
    // The core (database, migrations) starts on the async runtime now, while the event loop starts
    // and WebKit loads the UI; `desktop_launch` waits for it.
    let shell = backend::spawn(app.handle().clone(), config, report_failure);
    app.manage(shell);
    Ok(app)
}

/// Stops the in-process server, the task workers and the core; what the real app does on exit.
/// Waits at most about 15 s.
pub fn shutdown<R: Runtime>(app: &AppHandle<R>) {
    backend::stop(app);
}

/// SIGTERM (session logout, `systemctl stop`, `kill`) and Ctrl-C in the terminal end the app like
/// closing its window: the backend then stops gracefully instead of being cut off.
fn exit_on_signal<R: Runtime>(app: AppHandle<R>) {
    // Owned by the process: it ends with the async runtime.
    tauri::async_runtime::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut terminate) = signal(SignalKind::terminate()) else { return };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        tracing::info!("desktop: signal received, closing");
        app.exit(0);
    });
}

fn focus_main_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        // Each step may fail on some window managers; the window is still there.
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Shows why the app cannot start in a native message box, then exits with status 1.
fn show_start_failure<R: Runtime>(app: &AppHandle<R>, message: String) {
    use tauri_plugin_dialog::{DialogExt, MessageDialogKind};
    let handle = app.clone();
    app.dialog()
        .message(message)
        .title("ZK-Agent cannot start")
        .kind(MessageDialogKind::Error)
        .show(move |_| handle.exit(1));
}
