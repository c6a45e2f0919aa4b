//! The core at work: what runs in the background while a front door serves, started and stopped in
//! one place for `zk-agent serve`, the desktop app and the black-box tests.
//!
//! Start, in order: open the core (data directory, database (a lost one is refused, see
//! [`crate::lost_database`]) and its migrations, cache, file store,
//! services; answers a crash left `streaming` become `interrupted`), add the default settings that
//! are missing, start the error-log writer, watch the agents and drawings folders, start the task
//! workers, start object-storage sync when a bucket is configured, and (unless
//! `METRICS_ENABLED=false`) the loop that checks the dependencies for the metrics. Later loops
//! (backups) are registered with [`Running::spawn_loop`].
//!
//! Stop, in order, within one deadline: the task workers hand running tasks back to the queue; the
//! shutdown token is cancelled, so every chat run ends as `interrupted` with what arrived and the
//! folder watches and loops return; stop waits for each run to have written its final state and for
//! each loop to return; the error-log writer drains; the database closes last.
//! The front door stops its own server (no new requests) before it calls [`Running::stop`].

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::app::{Core, Migrations};
use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::lost_database::LostDatabasePolicy;
use crate::request::RequestMeta;
use crate::tasks::WorkerPool;

/// What is left of the deadline for the runs, the loops and the error log once the workers had
/// their turn.
const AFTER_WORKERS: Duration = Duration::from_secs(3);
/// How often the dependencies' health is checked for `zk_dependency_up` (the first check runs at
/// start). Prometheus's alert rules wait longer than this before they fire.
const DEPENDENCY_CHECK_EVERY: Duration = Duration::from_secs(15);

/// The core with its background work running. Dropping it without [`Running::stop`] leaves the
/// background work to the runtime's shutdown; stop it to end it cleanly.
pub struct Running {
    core: Arc<Core>,
    workers: WorkerPool,
    /// Loops registered by [`Running::spawn_loop`]; each returns once the core's shutdown token is
    /// cancelled.
    loops: TaskTracker,
}

impl Core {
    /// Opens the core and starts everything that runs in the background, with the wall clock.
    pub async fn start(config: Config) -> anyhow::Result<Running> {
        Self::start_with(config, Arc::new(SystemClock)).await
    }

    /// [`Core::start`] with a given clock (tests shift time).
    pub async fn start_with(config: Config, clock: SharedClock) -> anyhow::Result<Running> {
        Self::start_with_policy(config, clock, LostDatabasePolicy::Refuse).await
    }

    /// [`Core::start_with`], deciding what a lost database leads to (`zk-agent serve --new-database`
    /// starts over; everything else refuses).
    pub async fn start_with_policy(
        config: Config,
        clock: SharedClock,
        lost: LostDatabasePolicy,
    ) -> anyhow::Result<Running> {
        let core = Self::open_with_policy(config, clock, Migrations::Apply, lost).await?;
        let meta = RequestMeta { client: Some("start".into()), ..RequestMeta::default() };
        let added = core.admin.seed_defaults(&meta).await?;
        if !added.is_empty() {
            tracing::info!(settings = ?added, "default settings added");
        }
        core.attach_error_log();
        // A folder that cannot be watched is not fatal: its files still apply at the next start.
        if let Err(error) = core.watch_agents_folder().await {
            tracing::warn!(error = format!("{error:#}"), "agents folder not watched");
        }
        if let Err(error) = core.watch_cad_folder().await {
            tracing::warn!(error = format!("{error:#}"), "drawings folder not watched");
        }
        let workers = core.start_workers();
        let running = Running { core, workers, loops: TaskTracker::new() };
        if let Some(sync) = running.core.sync.clone() {
            running.spawn_loop("object sync", |shutdown| sync.run(shutdown));
        }
        if running.core.config.server.metrics_enabled {
            let core = running.core.clone();
            running.spawn_loop("metrics.dependencies", move |shutdown| dependency_loop(core, shutdown));
        }
        Ok(running)
    }
}

impl Running {
    pub fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// Runs a background loop until the core stops. `make` gets the shutdown token; the loop must
    /// return soon after it is cancelled, and [`Running::stop`] waits for it (within its deadline).
    pub fn spawn_loop<F, Fut>(&self, name: &'static str, make: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let running = make(self.core.shutdown.clone());
        self.loops.spawn(async move {
            running.await;
            tracing::debug!(name, "background loop stopped");
        });
    }

    /// Stops the background work and closes the database, within `deadline` (the database closes
    /// even when something did not finish in time; what did not is logged).
    pub async fn stop(self, deadline: Duration) {
        let until = Instant::now() + deadline;
        let left = || until.saturating_duration_since(Instant::now());
        self.workers.shutdown(left().saturating_sub(AFTER_WORKERS.min(deadline / 2))).await;

        self.core.shutdown.cancel();
        self.loops.close();
        let finished = async {
            tokio::join!(self.core.chat.wait_for_runs(), self.loops.wait());
        };
        if tokio::time::timeout(left(), finished).await.is_err() {
            tracing::warn!(
                runs = self.core.chat.running(),
                loops = self.loops.len(),
                "answers or background loops did not stop in time; their state is recovered at the next start"
            );
        }
        if !crate::logging::flush_error_log(left()).await {
            eprintln!("zk-agent: the last error-log entries were not written before the database closed");
        }
        self.core.store.close().await;
    }
}

/// Checks the dependencies every [`DEPENDENCY_CHECK_EVERY`] until the core stops.
async fn dependency_loop(core: Arc<Core>, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(DEPENDENCY_CHECK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            () = core.check_dependencies() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use serde_json::json;

    use super::*;
    use crate::keystore::KeyStoreMode;

    fn offline(dir: &std::path::Path) -> Config {
        let mut config = Config::offline(dir);
        // No session keychain in a unit test: keys only from the environment.
        config.keystore.mode = KeyStoreMode::Env;
        config.tasks.workers = 1;
        config
    }

    #[tokio::test]
    async fn stop_waits_for_registered_loops_and_start_seeds_defaults_once() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let running = Core::start(offline(dir.path())).await.expect("the core starts");
        let settings = running.core().admin.config().await.expect("settings");
        assert_eq!(settings.len(), crate::admin::default_settings().len(), "defaults added at start: {settings:?}");
        let meta = RequestMeta::default();
        running.core().admin.set_config(None, "ui.default_theme", json!("dark"), &meta).await.expect("set");

        // A loop that needs a moment after the shutdown token to finish its last write.
        let finished = Arc::new(AtomicBool::new(false));
        running.spawn_loop("test", {
            let finished = finished.clone();
            |shutdown| async move {
                shutdown.cancelled().await;
                tokio::time::sleep(Duration::from_millis(200)).await;
                finished.store(true, Ordering::SeqCst);
            }
        });
        running.stop(Duration::from_secs(5)).await;
        assert!(finished.load(Ordering::SeqCst), "stop waited for the loop to return");

        // Started again: the admin's value stays, nothing is added twice.
        let running = Core::start(offline(dir.path())).await.expect("the core starts again");
        let theme = running.core().admin.config_value("ui.default_theme").await.expect("read");
        assert_eq!(theme, Some(json!("dark")), "an admin's value is never overwritten");
        assert_eq!(running.core().admin.config().await.expect("settings").len(), settings.len());
        running.stop(Duration::from_secs(5)).await;
    }
}
