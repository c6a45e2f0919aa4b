//! The core and its HTTP server, run in-process for the window: started in the background when the
//! app starts, stopped (gracefully) when it exits.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use rand::RngCore as _;
use serde::Serialize;
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Manager, Runtime};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use zk_core::config::{Config, ConfigError};
use zk_core::secret::Secret;
use zk_core::{Core, Running};

use crate::StartFailureReporter;

/// How long the app waits on exit for open requests, running tasks and the database to finish.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// Part of [`STOP_TIMEOUT`] the core gets once the server has stopped (the rest is for the server).
const CORE_STOP_TIMEOUT: Duration = Duration::from_secs(12);

/// Set when the core could not start, so `run` exits with a failure status.
static START_FAILED: AtomicBool = AtomicBool::new(false);

pub(crate) fn start_failed() -> bool {
    START_FAILED.load(Ordering::SeqCst)
}

/// Where the window finds the in-process server, and the secret that signs it in as the local owner.
/// What the `desktop_launch` command returns to the UI.
#[derive(Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct DesktopLaunch {
    /// Origin of the server, e.g. `http://127.0.0.1:43123`.
    pub api_base: String,
    /// 32 random bytes, hex; valid for this launch only.
    pub launch_secret: String,
}

impl fmt::Debug for DesktopLaunch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DesktopLaunch").field("api_base", &self.api_base).field("launch_secret", &"<redacted>").finish()
    }
}

/// Where the start-up stands; `desktop_launch` waits until it is not `Starting`.
#[derive(Debug, Clone)]
pub(crate) enum LaunchState {
    Starting,
    Ready(DesktopLaunch),
    /// Why the core could not start, worded for the user.
    Failed(String),
}

/// App state: the launch as it becomes known, and the background task that owns the core.
pub(crate) struct Shell {
    pub(crate) launch: watch::Receiver<LaunchState>,
    /// Cancelled on exit: the backend task then stops the server, the workers and the core.
    stop: CancellationToken,
    /// The backend task; taken (once) on exit to wait for its graceful stop.
    task: Mutex<Option<JoinHandle<()>>>,
}

/// The origins the Tauri webview loads the bundled UI from on this OS. The server answers CORS for
/// exactly these and lets them make state-changing requests.
pub fn desktop_origins() -> Vec<String> {
    if cfg!(windows) {
        // WebView2 serves custom protocols as http(s)://<scheme>.localhost (`useHttpsScheme`).
        vec!["http://tauri.localhost".into(), "https://tauri.localhost".into()]
    } else {
        // WebKitGTK and WKWebView load the real custom scheme.
        vec!["tauri://localhost".into()]
    }
}

/// Starts the core in the background and returns the state `desktop_launch` reads.
pub(crate) fn spawn<R: Runtime>(
    app: AppHandle<R>,
    config: Result<Config, ConfigError>,
    report_failure: StartFailureReporter<R>,
) -> Shell {
    let (publish, launch) = watch::channel(LaunchState::Starting);
    let stop = CancellationToken::new();
    let mut origins = desktop_origins();
    // `cargo run` without the custom-protocol feature loads the UI from the Vite dev server.
    if cfg!(dev)
        && let Some(url) = &app.config().build.dev_url
    {
        origins.push(url.origin().ascii_serialization());
    }
    // Owned by `Shell::task`: runs for the life of the app, joined on exit.
    let task = tauri::async_runtime::spawn({
        let stop = stop.clone();
        async move {
            let started = match config {
                Ok(config) => Backend::start(config, origins).await,
                Err(error) => Err(config_problem(&error)),
            };
            let backend = match started {
                Ok(backend) => backend,
                Err(error) => {
                    let message = format!("{error:#}");
                    START_FAILED.store(true, Ordering::SeqCst);
                    tracing::error!(fatal = true, error = %message, "ZK-Agent cannot start");
                    eprintln!("error: ZK-Agent cannot start: {message}");
                    // Ignored: nobody listens once the app is exiting.
                    let _ = publish.send(LaunchState::Failed(message.clone()));
                    report_failure(&app, message);
                    return;
                }
            };
            let _ = publish.send(LaunchState::Ready(backend.launch.clone()));
            stop.cancelled().await;
            backend.stop().await;
        }
    });
    Shell { launch, stop, task: Mutex::new(Some(task)) }
}

/// Stops the backend and waits (bounded) for it; does nothing when it was never started or is
/// already stopped.
pub(crate) fn stop<R: Runtime>(app: &AppHandle<R>) {
    let Some(shell) = app.try_state::<Shell>() else { return };
    shell.stop.cancel();
    let task = shell.task.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(task) = task {
        tauri::async_runtime::block_on(async {
            if tokio::time::timeout(STOP_TIMEOUT, task).await.is_err() {
                tracing::warn!("the core did not stop within {STOP_TIMEOUT:?}; exiting anyway");
            }
        });
    }
}

fn config_problem(error: &ConfigError) -> anyhow::Error {
    anyhow::anyhow!("invalid configuration: {error}")
}

/// The running core, its workers and its server.
struct Backend {
    running: Running,
    /// Ends the server (and its SSE streams) gracefully.
    server_shutdown: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
    launch: DesktopLaunch,
}

impl Backend {
    async fn start(config: Config, desktop_origins: Vec<String>) -> anyhow::Result<Self> {
        let database = config.database.display();
        let running = Core::start(config).await?;
        let core = running.core().clone();

        let launch_secret = launch_secret();
        core.accounts.allow_desktop_launch(Secret::new(launch_secret.clone()));

        // Loopback only, any free port: nothing outside this machine can reach the window's server,
        // and two apps (or a `zk-agent serve`) never fight over a port.
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .context("cannot listen on 127.0.0.1 for the window's API; check that the loopback interface is up")?;
        let address = listener.local_addr().context("cannot read the address of the window's API")?;
        let api_base = format!("http://{address}");

        let server_shutdown = CancellationToken::new();
        let options = zk_server::ServeOptions { ui: zk_server::UiSource::None, desktop_origins };
        // Owned by `Backend::server`: awaited in `stop` after the shutdown token is cancelled.
        let server =
            tauri::async_runtime::spawn(zk_server::serve(core.clone(), listener, options, server_shutdown.clone()));
        tracing::info!(%api_base, %database, "desktop: core started, API serving for the window");
        Ok(Self { running, server_shutdown, server, launch: DesktopLaunch { api_base, launch_secret } })
    }

    async fn stop(self) {
        tracing::info!("desktop: stopping: finishing open requests, handing running tasks back to the queue");
        self.server_shutdown.cancel();
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(error = %error, "the window's API server stopped with an error"),
            Err(error) => tracing::error!(error = %error, "the window's API server task failed"),
        }
        self.running.stop(CORE_STOP_TIMEOUT).await;
        tracing::info!("desktop: stopped");
    }
}

/// A fresh secret for this launch: 32 random bytes from the OS-seeded CSPRNG, as hex.
fn launch_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_secrets_are_long_and_fresh() {
        let (a, b) = (launch_secret(), launch_secret());
        assert_eq!(a.len(), 64, "32 bytes as hex");
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()), "hex only: {a}");
        assert_ne!(a, b, "every launch gets its own secret");
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let launch = DesktopLaunch { api_base: "http://127.0.0.1:1".into(), launch_secret: "s3cr3t".into() };
        let shown = format!("{launch:?}");
        assert!(!shown.contains("s3cr3t"), "the launch secret must not reach a log line: {shown}");
    }

    #[test]
    fn origins_are_exact_tauri_origins() {
        let origins = desktop_origins();
        assert!(!origins.is_empty());
        for origin in origins {
            assert!(origin.ends_with("localhost") && !origin.contains('*'), "{origin} must be an exact origin");
        }
    }
}
