//! Health: one check per part the core depends on, the same for `GET /api/health`,
//! `GET /api/fastgpt/health` and `zk-agent doctor` (which adds only what needs the outside: the port,
//! the data directory, `dwg2dxf` on PATH).
//!
//! Each check takes the part itself, not a [`crate::Core`], so the doctor can run it on a database it
//! opened without migrating, or on a cache it made without starting anything.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::agents::{AgentHealth, AgentService};
use crate::cache::{Cache, CacheStats};
use crate::config::Config;
use crate::files::BlobStore;
use crate::store::Store;
use crate::upstream::{self, UpstreamHealth, millis};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How long the database may take to answer before it counts as down.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Degraded,
    Down,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Check {
    pub status: Status,
    pub latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub backend: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub error: Option<String>,
}

impl Check {
    fn up(elapsed: Duration) -> Self {
        Self { status: Status::Ok, latency_ms: millis(elapsed), backend: None, error: None }
    }

    fn down(elapsed: Duration, error: String) -> Self {
        Self {
            status: Status::Down,
            latency_ms: millis(elapsed),
            backend: None,
            error: Some(crate::secret::redact_url(&error)),
        }
    }

    fn with_detail(mut self, backend: &'static str) -> Self {
        self.backend = Some(backend);
        self
    }
}

/// `GET /api/health`: the database, the cache and the file store, each timed.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Health {
    pub status: Status,
    pub version: &'static str,
    pub database: Check,
    pub cache: Check,
    pub cache_stats: CacheStats,
    pub storage: Check,
}

/// `GET /api/fastgpt/health`: the configured deployment and each enabled FastGPT agent.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct FastgptHealth {
    /// The deployment configured by FASTGPT_API_URL / FASTGPT_API_KEY.
    #[serde(flatten)]
    pub deployment: UpstreamHealth,
    pub agents: Vec<AgentHealth>,
}

/// A round trip to the database within [`DATABASE_TIMEOUT`].
pub async fn database(store: &dyn Store) -> Check {
    let started = Instant::now();
    match tokio::time::timeout(DATABASE_TIMEOUT, store.ping()).await {
        Ok(Ok(())) => Check::up(started.elapsed()),
        Ok(Err(error)) => Check::down(started.elapsed(), error.to_string()),
        Err(_) => Check::down(started.elapsed(), format!("no answer within {} s", DATABASE_TIMEOUT.as_secs())),
    }
    .with_detail(store.backend())
}

/// The cache answers. It is an accelerator: without it requests go to the database, so a failure
/// degrades instead of taking the service down.
pub async fn cache(cache: &Cache) -> Check {
    let started = Instant::now();
    match cache.ping().await {
        Ok(()) => Check::up(started.elapsed()),
        Err(error) => Check { status: Status::Degraded, ..Check::down(started.elapsed(), error) },
    }
    .with_detail(cache.backend_name())
}

/// The file store takes a write.
pub async fn storage(blobs: &BlobStore) -> Check {
    match blobs.check_writable().await {
        Ok(elapsed) => Check::up(elapsed),
        Err(error) => Check::down(Duration::ZERO, error.to_string()),
    }
    .with_detail("local")
}

/// Every check of `GET /api/health`, run at once; the status is the worst of them.
pub async fn report(store: &dyn Store, cache: &Cache, blobs: &BlobStore) -> Health {
    let (database, cache_check, storage) = tokio::join!(database(store), self::cache(cache), storage(blobs));
    let status = [database.status, cache_check.status, storage.status].into_iter().max().unwrap_or(Status::Ok);
    Health { status, version: VERSION, database, cache: cache_check, cache_stats: cache.stats(), storage }
}

/// Each enabled FastGPT agent's probe (status, latency, whether its key is accepted), for a front
/// door that opened only the store and the key store (`zk-agent doctor`). Writes nothing.
pub async fn fastgpt_agents(
    store: std::sync::Arc<dyn Store>,
    keys: std::sync::Arc<dyn crate::agents::AgentKeys>,
) -> crate::CoreResult<Vec<AgentHealth>> {
    let clock: crate::clock::SharedClock = std::sync::Arc::new(crate::clock::SystemClock);
    let audit =
        crate::audit::AuditLog::new(store.clone(), clock.clone(), std::sync::Arc::new(crate::metrics::Metrics::new()));
    AgentService::new(store, clock, audit, keys).fastgpt_health().await
}

/// The configured FastGPT deployment and each enabled FastGPT agent's probe. Public: agents' base
/// URLs are left out.
pub async fn fastgpt(config: &Config, agents: &AgentService) -> FastgptHealth {
    let (deployment, agents) = tokio::join!(upstream::probe_fastgpt(config), agents.fastgpt_health());
    let agents = match agents {
        Ok(agents) => agents,
        Err(error) => {
            tracing::warn!(%error, "cannot list the agents to probe");
            Vec::new()
        }
    };
    let agents = agents
        .into_iter()
        .map(|mut agent| {
            agent.health.base_url = None;
            agent
        })
        .collect();
    FastgptHealth { deployment, agents }
}
