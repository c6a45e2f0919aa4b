//! `zk-agent serve`: the API, the UI and the task workers, until SIGINT or SIGTERM.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use zk_core::Core;
use zk_core::clock::SystemClock;
use zk_core::config::Config;
use zk_core::lost_database::LostDatabasePolicy;

#[derive(Args)]
pub struct ServeArgs {
    /// Port to listen on; 0 picks a free one [PORT]
    #[arg(long)]
    port: Option<u16>,
    /// Address to bind; keep 127.0.0.1 unless the server is for a team [HOST]
    #[arg(long)]
    host: Option<IpAddr>,
    /// Built UI to serve [UI_DIR]
    #[arg(long, value_name = "DIR")]
    ui_dir: Option<PathBuf>,
    /// Start over on a new, empty database after the database was lost: the files of the file store
    /// are moved aside into a dated folder next to it (refused when the database holds accounts or files)
    #[arg(long)]
    pub new_database: bool,
}

impl ServeArgs {
    pub fn add_overrides(&self, flags: &mut BTreeMap<String, String>) {
        if let Some(port) = self.port {
            flags.insert("PORT".into(), port.to_string());
        }
        if let Some(host) = self.host {
            flags.insert("HOST".into(), host.to_string());
        }
        if let Some(dir) = &self.ui_dir {
            flags.insert("UI_DIR".into(), dir.display().to_string());
        }
    }
}

/// How long a stop may take: open requests, then the core's background work and the database.
const STOP_DEADLINE: Duration = Duration::from_secs(15);

pub async fn run(config: Config, new_database: bool) -> anyhow::Result<()> {
    let database = config.database.display();
    let lost = if new_database { LostDatabasePolicy::StartOver } else { LostDatabasePolicy::Refuse };
    let running = Core::start_with_policy(config, Arc::new(SystemClock), lost).await?;
    let core = running.core().clone();
    if let Some(moved) = &core.set_aside {
        out!(
            "New database: the {} file(s) of the old file store were moved aside to {} (nothing was deleted)",
            moved.files,
            moved.dir.display()
        );
    }
    let config = &core.config;
    let address = SocketAddr::new(config.server.host, config.server.port);
    let listener = TcpListener::bind(address).await.with_context(|| {
        format!(
            "cannot listen on {address}; another program may use port {}: stop it or set PORT to a free port",
            config.server.port
        )
    })?;
    let bound = listener.local_addr()?;
    let shown_host = if bound.ip().is_unspecified() || bound.ip().is_loopback() {
        "127.0.0.1".to_owned()
    } else {
        bound.ip().to_string()
    };
    let url = format!("http://{shown_host}:{}/", bound.port());

    out!("ZK-Agent is serving {url}");
    out!("  API:      {url}api  (health: {url}api/health)");
    out!("  database: {database}");
    out!("  files:    {}", config.files.upload_dir.display());
    out!("  drawings: {} (watched folder, CAD_DIR)", config.cad.dir.display());
    let ui = zk_server::UiSource::for_server(config.server.ui_dir.as_deref());
    out!("  UI:       {}", ui.describe());
    if let Some(token) = core.accounts.begin_setup().await? {
        out!("");
        if ui != zk_server::UiSource::None {
            out!("No accounts yet. Open this address to create the first admin (the link holds a one-time token):");
            out!("  {url}setup?token={token}");
            out!("or from a terminal:");
        } else {
            out!("No accounts yet. Create the first admin with this one-time setup token:");
        }
        out!("  curl -X POST {url}api/setup -H 'Content-Type: application/json' \\");
        out!("       -d '{{\"token\":\"{token}\",\"username\":\"admin\",\"password\":\"<a long password>\"}}'");
        out!("or stop the server and run: zk-agent users create --username admin --role admin --generate-password");
    } else {
        out!("  sign in:  with an existing account (`zk-agent users list` shows them)");
    }
    tracing::info!(%url, database = %database, "serving");

    let shutdown = CancellationToken::new();
    // Owned by this function: turns SIGINT/SIGTERM into the shutdown token.
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            wait_for_signal().await;
            tracing::info!("shutting down: finishing open requests, handing running tasks back to the queue");
            shutdown.cancel();
        }
    });
    let options = zk_server::ServeOptions { ui, desktop_origins: Vec::new() };
    let served = zk_server::serve(core.clone(), listener, options, shutdown.clone()).await;
    shutdown.cancel();
    running.stop(STOP_DEADLINE).await;
    served.context("the server stopped with an error")?;
    out!("ZK-Agent stopped");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
