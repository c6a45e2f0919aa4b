//! Everything ZK-Agent persists: one trait per area, implemented for SQLite and for PostgreSQL.
//!
//! Architecture invariant: only this crate speaks SQL. Both backends run the same SQL text (see
//! [`sql`]); they differ in connection setup, migrations and the claim statements (tasks, sync outbox). Writes that
//! must land together go through a [`UnitOfWork`].

mod accounts;
mod agents;
mod cad;
mod config;
mod conversations;
mod error;
mod files;
mod logs;
mod postgres;
mod settings;
mod sql;
mod sqlite;
mod sync;
mod tasks;
#[cfg(feature = "testing")]
pub mod testing;
mod timestamp;
mod unit;

use std::sync::Arc;

use async_trait::async_trait;

pub use accounts::{
    AccountStore, NewUser, RefreshTokenRecord, Role, SessionRecord, ThrottleRecord, UserRecord, username_key,
};
pub use agents::{AgentRecord, AgentStore, AgentVersionRecord, AgentWrite};
pub use cad::{
    CadAnalysisOutcome, CadAnalysisRecord, CadDrawingRecord, CadDrawingWrite, CadStore, NewCadAnalysis, NewCadDrawing,
};
pub use config::{DatabaseConfig, DatabaseTls};
pub use conversations::{
    ConversationCursor, ConversationRecord, ConversationStore, MessageHitRecord, MessageRecord, MessageUpdate,
    NewConversation, NewMessage, search_key,
};
pub use error::{StoreError, StoreResult};
pub use files::{FileRecord, FileScope, FileStore};
pub use logs::{AuditRecord, ErrorRecord, LogQuery, LogStore, NewAuditEntry, NewErrorEntry};
pub use postgres::PostgresStore;
pub use settings::{ConfigEntry, SettingsStore};
pub use sqlite::SqliteStore;
pub use sync::{SyncCounts, SyncOp, SyncRecord, SyncState, SyncStore};
pub use tasks::{NewTask, QueueStats, TaskOutcome, TaskQuery, TaskRecord, TaskState, TaskStore};
pub use timestamp::Timestamp;
pub use unit::UnitOfWork;

/// Everything the core persists: every area's trait, plus what concerns the database as a whole.
/// Implemented by [`SqliteStore`] and [`PostgresStore`].
#[async_trait]
pub trait Store:
    AccountStore
    + SettingsStore
    + LogStore
    + FileStore
    + TaskStore
    + AgentStore
    + ConversationStore
    + CadStore
    + SyncStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> &'static str;
    /// Applies pending migrations of this backend.
    async fn migrate(&self) -> StoreResult<()>;
    /// Applied and known migration counts: `(applied, known)`.
    async fn migration_status(&self) -> StoreResult<(usize, usize)>;
    /// A round trip to the database.
    async fn ping(&self) -> StoreResult<()>;
    /// The connection pool as it is now (no round trip).
    fn pool_stats(&self) -> PoolStats;
    async fn close(&self);
    /// Begins a unit of work: writes that commit together or not at all.
    async fn begin(&self) -> StoreResult<Box<dyn UnitOfWork>>;
}

/// A connection pool's state: connections open, of which idle, and the most it may open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// Opens the configured database; callers apply migrations ([`Store::migrate`]) when they want them.
pub async fn open(config: &DatabaseConfig) -> StoreResult<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match config {
        DatabaseConfig::Sqlite { path } => Arc::new(SqliteStore::open(path).await?),
        DatabaseConfig::Postgres { connect, pool_max, pool_min, acquire_timeout, .. } => {
            Arc::new(PostgresStore::connect((**connect).clone(), *pool_max, *pool_min, *acquire_timeout).await?)
        }
    };
    Ok(store)
}
