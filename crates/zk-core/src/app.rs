//! [`Core`]: the services wired together from a [`Config`]. Each front door opens one.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rand::RngCore;
use serde::Serialize;

use crate::accounts::AccountService;
use crate::accounts::tokens::TokenKeys;
use crate::admin::{AdminService, AuditLog};
use crate::agents::watch::AgentFolder;
use crate::agents::{AgentKeys, AgentService};
use crate::cache::{Cache, CacheStats};
use crate::cad::CadOptions;
use crate::cad::analysis::{AnalysisHandler, CadAnalysisService};
use crate::cad::library::CadLibrary;
use crate::cad::watch::CadFolder;
use crate::chat::ChatService;
use crate::chat::import::ImportHandler;
use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::files::{FileService, FileStore};
use crate::keystore::{KeyStore, KeyStoreOptions};
use crate::secret::Secret;
use crate::store::{self, Store};
use crate::tasks::{SelfTest, TaskHandler, TaskService, WorkerPool, WorkerSettings};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub struct Core {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub cache: Arc<Cache>,
    pub clock: SharedClock,
    pub accounts: AccountService,
    pub admin: AdminService,
    pub files: Arc<FileService>,
    pub tasks: Arc<TaskService>,
    pub agents: Arc<AgentService>,
    pub chat: Arc<ChatService>,
    /// Agents' API keys: the OS keychain, or an encrypted file, or only the environment.
    pub keystore: KeyStore,
    /// The watched agents folder, once [`Core::watch_agents_folder`] started it.
    pub agent_folder: std::sync::OnceLock<AgentFolder>,
    /// The CAD library: drawings, thumbnails, the viewer's scenes and exports.
    pub cad: Arc<CadLibrary>,
    /// Analyses of drawings (the `cad.analyse` task).
    pub cad_analyses: Arc<CadAnalysisService>,
    /// The watched drawings folder, once [`Core::watch_cad_folder`] started it.
    pub cad_folder: std::sync::OnceLock<CadFolder>,
    /// Cancelled by [`Core::close`]: running answers end (as `interrupted`) and the folder watch stops.
    pub shutdown: tokio_util::sync::CancellationToken,
}

/// How `Core::open` treats the database schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrations {
    /// Apply pending migrations (serve, the desktop app).
    Apply,
    /// Leave the schema alone (doctor, which only reports).
    Skip,
}

impl Core {
    /// Opens the database (migrating it), the cache and the file store, with the wall clock.
    pub async fn open(config: Config) -> anyhow::Result<Arc<Self>> {
        Self::open_with(config, Arc::new(SystemClock), Migrations::Apply).await
    }

    pub async fn open_with(config: Config, clock: SharedClock, migrations: Migrations) -> anyhow::Result<Arc<Self>> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
        let store = store::open(&config.database)
            .await
            .with_context(|| format!("cannot open the database {}", config.database.display()))?;
        if migrations == Migrations::Apply {
            store.migrate().await.context("cannot migrate the database")?;
        }
        let cache = Arc::new(match &config.cache.redis_url {
            Some(url) => Cache::redis(url, &config.cache.prefix).map_err(anyhow::Error::msg)?,
            None => Cache::in_memory(),
        });
        let blobs = FileStore::open(&config.files.upload_dir).context("cannot open the file store (UPLOAD_DIR)")?;
        let access_secret = match &config.auth.jwt_access_secret {
            Some(secret) => secret.clone(),
            None => generated_secret(&config.data_dir, "jwt-access.key")?,
        };
        let refresh_secret = match &config.auth.jwt_refresh_secret {
            Some(secret) => secret.clone(),
            None => generated_secret(&config.data_dir, "jwt-refresh.key")?,
        };
        let audit = AuditLog::new(store.clone(), clock.clone());
        let accounts = AccountService::new(
            store.clone(),
            cache.clone(),
            clock.clone(),
            audit.clone(),
            TokenKeys::new(&access_secret, &refresh_secret),
            config.auth.access_token_ttl,
            config.auth.refresh_token_ttl,
        );
        let admin = AdminService::new(store.clone(), cache.clone(), clock.clone(), audit.clone());
        let files =
            Arc::new(FileService::new(store.clone(), blobs.clone(), clock.clone(), config.files.upload_max_bytes));
        let keystore = KeyStore::open(KeyStoreOptions::from_config(&config.keystore)).await;
        let keys: Arc<dyn AgentKeys> = Arc::new(keystore.clone());
        let agents = Arc::new(AgentService::new(store.clone(), clock.clone(), audit, keys));
        let import = ImportHandler::new();
        let analysis = AnalysisHandler::new();
        let handlers: Vec<Arc<dyn TaskHandler>> = vec![Arc::new(SelfTest), import.clone(), analysis.clone()];
        let tasks = Arc::new(TaskService::new(store.clone(), clock.clone(), handlers));
        // Looked up once (dwg2dxf on PATH); the library and chat attachments share it.
        let cad_options = CadOptions::from_config(&config);
        let cad = Arc::new(CadLibrary::new(
            store.clone(),
            files.clone(),
            clock.clone(),
            cad_options.clone(),
            config.cad.dir.clone(),
            config.cad.cache_bytes,
        ));
        let cad_analyses =
            Arc::new(CadAnalysisService::new(cad.clone(), agents.clone(), tasks.clone(), store.clone(), clock.clone()));
        analysis.attach(cad_analyses.clone());
        let shutdown = tokio_util::sync::CancellationToken::new();
        let chat = Arc::new(ChatService::new(
            store.clone(),
            clock.clone(),
            agents.clone(),
            blobs,
            cad_options,
            shutdown.clone(),
        ));
        import.attach(chat.clone());
        if migrations == Migrations::Apply {
            let interrupted = chat.recover().await.context("cannot recover interrupted answers")?;
            if interrupted > 0 {
                tracing::info!(interrupted, "answers cut off by the last shutdown are marked interrupted");
            }
        }
        Ok(Arc::new(Self {
            config,
            store,
            cache,
            clock,
            accounts,
            admin,
            files,
            tasks,
            agents,
            chat,
            keystore,
            agent_folder: std::sync::OnceLock::new(),
            cad,
            cad_analyses,
            cad_folder: std::sync::OnceLock::new(),
            shutdown,
        }))
    }

    /// Applies the agent files of `AGENTS_DIR` and follows their changes until [`Core::close`].
    pub async fn watch_agents_folder(&self) -> anyhow::Result<()> {
        if self.agent_folder.get().is_some() {
            return Ok(());
        }
        let folder = AgentFolder::start(self.agents.clone(), self.config.agents.dir.clone(), self.shutdown.clone())
            .await
            .with_context(|| {
                format!("cannot watch the agents folder {} (AGENTS_DIR)", self.config.agents.dir.display())
            })?;
        let _ = self.agent_folder.set(folder);
        Ok(())
    }

    /// Imports the drawings of `CAD_DIR` (in the background) and follows their changes until
    /// [`Core::close`].
    pub async fn watch_cad_folder(&self) -> anyhow::Result<()> {
        if self.cad_folder.get().is_some() {
            return Ok(());
        }
        let folder = CadFolder::start(self.cad.clone(), self.config.cad.dir.clone(), self.shutdown.clone())
            .await
            .with_context(|| format!("cannot watch the drawings folder {} (CAD_DIR)", self.config.cad.dir.display()))?;
        let _ = self.cad_folder.set(folder);
        Ok(())
    }

    /// The watched drawings folder: its drawings and problems (not watched: nothing yet).
    pub fn cad_folder_status(&self) -> crate::cad::watch::CadFolderStatus {
        match self.cad_folder.get() {
            Some(folder) => folder.status(),
            None => crate::cad::watch::CadFolderStatus {
                path: self.config.cad.dir.display().to_string(),
                enabled: false,
                drawings: 0,
                problems: Vec::new(),
            },
        }
    }

    /// Starts this process's task workers (`TASK_WORKERS` of them).
    pub fn start_workers(&self) -> WorkerPool {
        let settings = WorkerSettings {
            workers: self.config.tasks.workers,
            lease: self.config.tasks.lease,
            ..WorkerSettings::default()
        };
        WorkerPool::start(self.tasks.clone(), settings)
    }

    /// Sends ERROR log events of this process to the `error_log` table.
    pub fn attach_error_log(&self) {
        crate::logging::attach_error_log(self.store.clone(), self.clock.clone(), &self.config.logging.error_monitor);
    }

    /// Checks the database, the cache and the file store, timing each.
    pub async fn health(&self) -> Health {
        let started = Instant::now();
        let database = match tokio::time::timeout(Duration::from_secs(3), self.store.ping()).await {
            Ok(Ok(())) => Check::up(started.elapsed()),
            Ok(Err(error)) => Check::down(started.elapsed(), error.to_string()),
            Err(_) => Check::down(started.elapsed(), "no answer within 3 s".into()),
        }
        .with_detail(self.store.backend());

        let started = Instant::now();
        let cache = match self.cache.ping().await {
            Ok(()) => Check::up(started.elapsed()),
            // The cache is an accelerator: without it requests go to the database.
            Err(error) => Check { status: Status::Degraded, ..Check::down(started.elapsed(), error) },
        }
        .with_detail(self.cache.backend_name());

        let storage = match self.files.blobs().check_writable().await {
            Ok(elapsed) => Check::up(elapsed),
            Err(error) => Check::down(Duration::ZERO, error.to_string()),
        }
        .with_detail("local");

        let status = [database.status, cache.status, storage.status].into_iter().max().unwrap_or(Status::Ok);
        Health { status, version: VERSION, database, cache, cache_stats: self.cache.stats(), storage }
    }

    /// Whether the configured FastGPT deployment answers (see [`probe_fastgpt`]), and each enabled
    /// FastGPT agent's probe. Public: agents' base URLs are left out.
    pub async fn fastgpt_health(&self) -> FastgptHealth {
        let (deployment, agents) = tokio::join!(probe_fastgpt(&self.config), self.agents.fastgpt_health());
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

    pub async fn close(&self) {
        self.shutdown.cancel();
        self.store.close().await;
    }
}

/// The configured FastGPT deployment: with a key, FastGPT's cheap `getHistories` probe (reachable and
/// the key valid, no model call); without one, whether the host answers HTTP at all. Per-agent probes
/// belong to the agents service.
pub async fn probe_fastgpt(config: &Config) -> UpstreamHealth {
    let Some(fastgpt) = &config.agents.fastgpt else {
        return UpstreamHealth {
            status: "not_configured",
            base_url: None,
            latency_ms: None,
            key_valid: None,
            error: None,
        };
    };
    let base_url = Some(crate::secret::redact_url(&fastgpt.base_url));
    let started = Instant::now();
    let Some(key) = &fastgpt.api_key else {
        let answered = match reqwest::Client::builder().timeout(Duration::from_secs(3)).build() {
            Ok(client) => client.get(&fastgpt.base_url).send().await.map(|_| ()).map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        let latency_ms = Some(millis(started.elapsed()));
        return match answered {
            Ok(()) => UpstreamHealth { status: "reachable", base_url, latency_ms, key_valid: None, error: None },
            Err(error) => UpstreamHealth {
                status: "unreachable",
                base_url,
                latency_ms,
                key_valid: None,
                error: Some(crate::secret::redact_url(&error)),
            },
        };
    };
    let client = match zk_model_api::ModelClient::new(
        zk_model_api::Provider::Fastgpt,
        &fastgpt.base_url,
        Some(zk_model_api::ApiKey::new(key.expose().clone())),
    ) {
        Ok(client) => client.with_request_timeout(Duration::from_secs(3)),
        Err(error) => {
            return UpstreamHealth {
                status: "unreachable",
                base_url,
                latency_ms: None,
                key_valid: None,
                error: Some(error.to_string()),
            };
        }
    };
    let probed = client.probe().await;
    upstream_health(probed.map(|_| ()), base_url, started.elapsed(), true)
}

/// What a probe of an upstream says: reachable, the key refused, or not reachable at all.
pub(crate) fn upstream_health(
    probed: Result<(), zk_model_api::ModelApiError>,
    base_url: Option<String>,
    elapsed: Duration,
    had_key: bool,
) -> UpstreamHealth {
    let latency_ms = Some(millis(elapsed));
    match probed {
        Ok(()) => UpstreamHealth {
            status: "reachable",
            base_url,
            latency_ms,
            key_valid: had_key.then_some(true),
            error: None,
        },
        Err(error @ zk_model_api::ModelApiError::Auth { .. }) => UpstreamHealth {
            status: "unauthorized",
            base_url,
            latency_ms,
            key_valid: Some(false),
            error: Some(error.to_string()),
        },
        Err(error) => UpstreamHealth {
            status: "unreachable",
            base_url,
            latency_ms,
            key_valid: None,
            error: Some(crate::secret::redact_url(&error.to_string())),
        },
    }
}

/// A random secret kept in `<data dir>/secrets/<name>` (mode 0600), created on first use, so an
/// offline install signs tokens with a key nobody configured and that survives restarts.
fn generated_secret(data_dir: &Path, name: &str) -> anyhow::Result<Secret> {
    let dir = data_dir.join("secrets");
    let path = dir.join(name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 32 {
            return Ok(Secret::new(existing));
        }
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let mut file = tempfile::NamedTempFile::new_in(&dir)?;
    std::io::Write::write_all(&mut file, secret.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file().set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.as_file().sync_all()?;
    // Another process may have won the race; then its key is the one to use.
    match file.persist_noclobber(&path) {
        Ok(_) => Ok(Secret::new(secret)),
        Err(_) => Ok(Secret::new(std::fs::read_to_string(&path)?.trim().to_owned())),
    }
}

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

fn millis(elapsed: Duration) -> f64 {
    (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Health {
    pub status: Status,
    pub version: &'static str,
    pub database: Check,
    pub cache: Check,
    pub cache_stats: CacheStats,
    pub storage: Check,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct FastgptHealth {
    /// The deployment configured by FASTGPT_API_URL / FASTGPT_API_KEY.
    #[serde(flatten)]
    pub deployment: UpstreamHealth,
    pub agents: Vec<crate::agents::AgentHealth>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct UpstreamHealth {
    /// `not_configured`, `reachable`, `unauthorized` (it answers, the key is refused), `unreachable`,
    /// or, for an agent, `no_key` (its key cannot be found).
    pub status: &'static str,
    pub base_url: Option<String>,
    pub latency_ms: Option<f64>,
    /// Whether the configured key was accepted (`None` when no key is configured or it could not be told).
    pub key_valid: Option<bool>,
    pub error: Option<String>,
}
