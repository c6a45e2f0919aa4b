//! [`Core`]: the services wired together from a [`Config`]. Each front door opens one.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use rand::RngCore;

use crate::accounts::AccountService;
use crate::accounts::hashing::HashingPool;
use crate::accounts::tokens::TokenKeys;
use crate::admin::AdminService;
use crate::agents::watch::AgentFolder;
use crate::agents::{AgentKeys, AgentService};
use crate::audit::AuditLog;
use crate::cache::Cache;
use crate::cad::CadOptions;
use crate::cad::analysis::{AnalysisHandler, CadAnalysisService};
use crate::cad::library::CadLibrary;
use crate::cad::watch::CadFolder;
use crate::chat::ChatService;
use crate::chat::import::ImportHandler;
use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::files::{BlobStore, FileService};
use crate::health::{self, FastgptHealth, Health};
use crate::keystore::{KeyStore, KeyStoreOptions};
use crate::lost_database::{self, DatabaseInUse, LostDatabase, LostDatabasePolicy, SetAside};
use crate::metrics::{Metrics, Sample, StoreSample, SyncSample};
use crate::secret::Secret;
use crate::store::{self, Store, Timestamp};
use crate::sync::{ObjectSync, StorageStatus, SyncOptions, VerifyReport};
use crate::tasks::{SelfTest, TaskHandler, TaskService, WorkerPool, WorkerSettings};

/// How long a scrape waits for the database's figures (queue, sessions).
const METRICS_STORE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

pub struct Core {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub cache: Arc<Cache>,
    pub clock: SharedClock,
    pub accounts: AccountService,
    pub admin: AdminService,
    pub files: Arc<FileService>,
    /// Object-storage sync, when a bucket is configured (`S3_BUCKET`); `None`: local file store only.
    pub sync: Option<Arc<ObjectSync>>,
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
    /// Where the files of a lost database's file store went, when this core started over on a new
    /// database ([`LostDatabasePolicy::StartOver`]).
    pub set_aside: Option<SetAside>,
    /// What `/metrics` shows: the services record into it, [`Core::metrics_text`] renders it.
    pub metrics: Arc<Metrics>,
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
        Self::open_with_policy(config, clock, migrations, LostDatabasePolicy::Refuse).await
    }

    /// [`Core::open_with`], deciding what a lost database (see [`crate::lost_database`]) leads to:
    /// a refusal, or (`zk-agent serve --new-database`) a new database with the old files moved aside.
    pub async fn open_with_policy(
        config: Config,
        clock: SharedClock,
        migrations: Migrations,
        lost: LostDatabasePolicy,
    ) -> anyhow::Result<Arc<Self>> {
        create_private_dir(&config.data_dir)
            .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
        // Checked before opening: opening creates a missing SQLite file.
        let mut set_aside = None;
        if let Some(found) = lost_database::before_open(&config.database) {
            set_aside = lost_database_found(&config, found, lost, &clock)?;
        }
        let store = store::open(&config.database)
            .await
            .with_context(|| format!("cannot open the database {}", config.database.display()))?;
        if migrations == Migrations::Apply {
            if let Err(error) = check_open_database(&config, &*store, lost, &clock, &mut set_aside).await {
                store.close().await;
                return Err(error);
            }
            store.migrate().await.context("cannot migrate the database")?;
        }
        let cache = Arc::new(match &config.cache.redis_url {
            Some(url) => Cache::redis(url, &config.cache.prefix).map_err(anyhow::Error::msg)?,
            None => Cache::in_memory(),
        });
        let blobs = BlobStore::open(&config.files.upload_dir).context("cannot open the file store (UPLOAD_DIR)")?;
        let access_secret = match &config.auth.jwt_access_secret {
            Some(secret) => secret.clone(),
            None => generated_secret(&config.data_dir, "jwt-access.key")?,
        };
        let refresh_secret = match &config.auth.jwt_refresh_secret {
            Some(secret) => secret.clone(),
            None => generated_secret(&config.data_dir, "jwt-refresh.key")?,
        };
        let metrics = Arc::new(Metrics::new());
        let audit = AuditLog::new(store.clone(), clock.clone(), metrics.clone());
        let accounts = AccountService::new(
            store.clone(),
            cache.clone(),
            clock.clone(),
            audit.clone(),
            TokenKeys::new(&access_secret, &refresh_secret),
            config.auth.access_token_ttl,
            config.auth.refresh_token_ttl,
        )
        .with_hashing(HashingPool::new(config.auth.hash_workers, config.auth.hash_queue_timeout));
        let admin = AdminService::new(store.clone(), cache.clone(), clock.clone(), audit.clone());
        let sync = match &config.storage.s3 {
            Some(s3) => Some(Arc::new(
                ObjectSync::new(store.clone(), blobs.clone(), clock.clone(), s3, SyncOptions::default())
                    .context("cannot use the object storage (S3_*)")?,
            )),
            None => None,
        };
        let mut files = FileService::new(store.clone(), blobs, clock.clone(), config.files.upload_max_bytes);
        if let Some(sync) = &sync {
            files = files.with_remote(sync.clone(), sync.waker());
        }
        let files = Arc::new(files);
        let keystore = KeyStore::open(KeyStoreOptions::from_config(&config.keystore)).await;
        let keys: Arc<dyn AgentKeys> = Arc::new(keystore.clone());
        let agents = Arc::new(AgentService::new(store.clone(), clock.clone(), audit, keys));
        let import = ImportHandler::new();
        let analysis = AnalysisHandler::new();
        let handlers: Vec<Arc<dyn TaskHandler>> = vec![Arc::new(SelfTest), import.clone(), analysis.clone()];
        let tasks = Arc::new(TaskService::new(store.clone(), clock.clone(), handlers, metrics.clone()));
        // Looked up once (dwg2dxf on PATH); the library and chat attachments share it.
        let cad_options = CadOptions::from_config(&config);
        let cad = Arc::new(CadLibrary::new(
            store.clone(),
            files.clone(),
            clock.clone(),
            cad_options.clone(),
            &config.cad,
            metrics.clone(),
        ));
        let cad_analyses = Arc::new(CadAnalysisService::new(
            cad.clone(),
            agents.clone(),
            tasks.clone(),
            store.clone(),
            clock.clone(),
            metrics.clone(),
        ));
        analysis.attach(cad_analyses.clone());
        let shutdown = tokio_util::sync::CancellationToken::new();
        let chat = Arc::new(ChatService::new(
            store.clone(),
            clock.clone(),
            agents.clone(),
            files.clone(),
            cad_options,
            shutdown.clone(),
            metrics.clone(),
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
            sync,
            tasks,
            agents,
            chat,
            keystore,
            agent_folder: std::sync::OnceLock::new(),
            cad,
            cad_analyses,
            cad_folder: std::sync::OnceLock::new(),
            shutdown,
            set_aside,
            metrics,
        }))
    }

    /// Applies the agent files of `AGENTS_DIR` and follows their changes until [`Core::close`].
    pub(crate) async fn watch_agents_folder(&self) -> anyhow::Result<()> {
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
    pub(crate) async fn watch_cad_folder(&self) -> anyhow::Result<()> {
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
    pub(crate) fn start_workers(&self) -> WorkerPool {
        let settings = WorkerSettings {
            workers: self.config.tasks.workers,
            lease: self.config.tasks.lease,
            ..WorkerSettings::default()
        };
        WorkerPool::start(self.tasks.clone(), settings)
    }

    /// Sends ERROR log events of this process to the `error_log` table.
    pub(crate) fn attach_error_log(&self) {
        crate::logging::attach_error_log(self.store.clone(), self.clock.clone(), &self.config.logging.error_monitor);
    }

    /// Checks the database, the cache and the file store, timing each.
    pub async fn health(&self) -> Health {
        health::report(&*self.store, &self.cache, self.files.blobs()).await
    }

    /// Whether the configured FastGPT deployment answers, and each enabled FastGPT agent's probe.
    pub async fn fastgpt_health(&self) -> FastgptHealth {
        health::fastgpt(&self.config, &self.agents).await
    }

    /// Where files are kept and how far the bucket is behind.
    pub async fn storage_status(&self) -> crate::CoreResult<StorageStatus> {
        match &self.sync {
            Some(sync) => sync.status().await,
            None => Ok(crate::sync::local_status()),
        }
    }

    /// "Sync now": failed items are tried again and pending ones are due at once.
    pub async fn sync_now(&self) -> crate::CoreResult<StorageStatus> {
        self.configured_sync()?.sync_now().await?;
        self.storage_status().await
    }

    /// Works through every due item in this process (`zk-agent sync run`); how many attempts.
    pub async fn sync_drain(&self) -> crate::CoreResult<u64> {
        let sync = self.configured_sync()?;
        sync.sync_now().await?;
        sync.drain().await
    }

    /// Checks the bucket against the database (`zk-agent sync verify`).
    pub async fn sync_verify(&self, all: bool) -> crate::CoreResult<VerifyReport> {
        self.configured_sync()?.verify(all, 32).await
    }

    fn configured_sync(&self) -> crate::CoreResult<&Arc<ObjectSync>> {
        self.sync.as_ref().ok_or_else(|| {
            crate::CoreError::Conflict(
                "object storage is not configured; set S3_BUCKET (and S3_ENDPOINT, S3_ACCESS_KEY_ID, \
                 S3_SECRET_ACCESS_KEY for a store other than AWS) to sync files to a bucket"
                    .into(),
            )
        })
    }

    /// The metrics in Prometheus's text format, with the sampled ones (queue, sessions, database
    /// pool, cache, process) read just now. A store that does not answer within 2 s leaves those
    /// figures as they were at the last scrape.
    pub async fn metrics_text(&self) -> String {
        let now = Timestamp::from(self.clock.now());
        let read = async {
            let queue = self.store.queue_stats(now).await?;
            let sessions = self.store.active_sessions(now).await?;
            // The outbox's counts alone: the full status would also look up the last error.
            let sync = if self.sync.is_some() {
                let counts = self.store.sync_counts().await?;
                Some(SyncSample {
                    uploads: counts.pending,
                    upload_bytes: counts.pending_bytes,
                    deletions: counts.deleting,
                    failed: counts.failed,
                })
            } else {
                None
            };
            Ok::<_, store::StoreError>((queue, sessions, sync))
        };
        let pool = self.store.pool_stats();
        let cache = self.cache.stats();
        let mut sample = Sample {
            pool_size: pool.size,
            pool_idle: pool.idle,
            pool_max: pool.max,
            cache_hits: cache.hits,
            cache_misses: cache.misses,
            cache_errors: cache.errors,
            ..Sample::default()
        };
        match tokio::time::timeout(METRICS_STORE_TIMEOUT, read).await {
            Ok(Ok((queue, (sessions, users), sync))) => {
                sample.sync = sync;
                let waited =
                    |at: Timestamp| std::time::Duration::from_millis((now.millis() - at.millis()).max(0) as u64);
                sample.store = Some(StoreSample {
                    tasks_queued: queue.queued,
                    tasks_running: queue.running,
                    oldest_queued: queue.oldest_ready.map(waited),
                    sessions_active: sessions,
                    users_active: users,
                });
            }
            Ok(Err(error)) => tracing::warn!(%error, "cannot read the queue and sessions for the metrics"),
            Err(_) => tracing::warn!("the database did not answer the metrics' queries within 2 s"),
        }
        self.metrics.sample(&sample);
        self.metrics.render()
    }

    /// Checks each dependency (the database, Redis when configured, the file store, FastGPT when
    /// configured) and records the outcome in `zk_dependency_up`. The dependency loop runs it.
    pub async fn check_dependencies(&self) {
        let (database, cache, storage, fastgpt) = tokio::join!(
            health::database(&*self.store),
            health::cache(&self.cache),
            health::storage(self.files.blobs()),
            crate::upstream::probe_fastgpt(&self.config),
        );
        let seconds = |ms: f64| std::time::Duration::from_secs_f64(ms.max(0.0) / 1000.0);
        let up = |check: &health::Check| check.status == health::Status::Ok;
        self.metrics.dependency_checked("database", up(&database), seconds(database.latency_ms));
        if self.cache.backend_name() == "redis" {
            self.metrics.dependency_checked("redis", up(&cache), seconds(cache.latency_ms));
        }
        self.metrics.dependency_checked("file_store", up(&storage), seconds(storage.latency_ms));
        if let Some(sync) = &self.sync {
            // The sync loop's own last request tells whether the bucket answers; no extra request.
            self.metrics.dependency_checked("object_storage", !sync.offline(), std::time::Duration::ZERO);
        }
        if fastgpt.status != "not_configured" {
            let latency = seconds(fastgpt.latency_ms.unwrap_or(0.0));
            self.metrics.dependency_checked("fastgpt", fastgpt.status == "reachable", latency);
        }
    }

    /// Closes a core that started nothing in the background (a one-shot command); a started one
    /// stops with [`crate::Running::stop`].
    pub async fn close(&self) {
        self.shutdown.cancel();
        self.store.close().await;
    }
}

/// The database was found empty: refused when the file store holds files (unless starting over,
/// which moves them aside first).
fn lost_database_found(
    config: &Config,
    found: lost_database::EmptyDatabase,
    lost: LostDatabasePolicy,
    clock: &SharedClock,
) -> anyhow::Result<Option<SetAside>> {
    let files = lost_database::stored_files(&config.files.upload_dir);
    if files == 0 {
        return Ok(None);
    }
    match lost {
        LostDatabasePolicy::Refuse => Err(LostDatabase::new(config, found, files).into()),
        LostDatabasePolicy::StartOver => lost_database::set_aside(&config.files.upload_dir, files, clock).map(Some),
    }
}

/// The open database, before it is migrated: empty with files in the store is a lost database;
/// `--new-database` on a database in use is refused.
async fn check_open_database(
    config: &Config,
    store: &dyn Store,
    lost: LostDatabasePolicy,
    clock: &SharedClock,
    set_aside: &mut Option<SetAside>,
) -> anyhow::Result<()> {
    if set_aside.is_some() {
        return Ok(());
    }
    let found = lost_database::after_open(store)
        .await
        .with_context(|| format!("cannot read the database {}", config.database.display()))?;
    match found {
        Some(found) => *set_aside = lost_database_found(config, found, lost, clock)?,
        None if lost == LostDatabasePolicy::StartOver => {
            return Err(DatabaseInUse { database: config.database.display() }.into());
        }
        None => {}
    }
    Ok(())
}

/// Creates `dir` and its missing parents; on Unix those it creates are 0700 (the data directory
/// holds the database, keys and uploads: nobody else's to read). An existing directory is left as it is.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
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

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::keystore::KeyStoreMode;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or_else(|e| panic!("{path:?}: {e}"))
    }

    #[tokio::test]
    async fn the_data_directory_and_the_database_are_private_to_their_owner() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("home").join("zk-agent");
        let mut config = Config::offline(&data);
        // No session keychain in a unit test: keys only from the environment.
        config.keystore.mode = KeyStoreMode::Env;
        let core = Core::open(config).await.expect("the core opens");
        assert_eq!(mode(&data), 0o700, "the data directory is created 0700");
        assert_eq!(mode(&data.join("zk-agent.db")), 0o600, "the database is created 0600");
        core.close().await;
    }
}
